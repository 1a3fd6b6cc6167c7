"""The partitions every per-shard asset shares: dynamic, one key per shard of WARC files."""
import dagster as dg

from corpus_assets.core.ingest.shards import Shard, parse_shard_key

warc_shards = dg.DynamicPartitionsDefinition(name="warc_shards")


def shard_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Shard:
    return parse_shard_key(context.partition_key)


def delta_partition(shard: Shard) -> dict[str, str]:
    """The Delta partition values of a shard's rows (tables are partitioned by crawl, shard)."""
    return {"crawl": shard.crawl, "shard": shard.key.split("/", 1)[1]}
