"""The partitions every per-shard asset shares: dynamic, one key per shard of WARC files
(`CRAWL/NNNNN-NNNNN`) or per imported file (`import-SOURCE/<file hash>`)."""
import dagster as dg

from corpus_assets.core.imports.keys import ImportShard, is_import_key, parse_import_key
from corpus_assets.core.ingest.shards import Shard, parse_shard_key

warc_shards = dg.DynamicPartitionsDefinition(name="warc_shards")


def shard_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Shard | ImportShard:
    key = context.partition_key
    return parse_import_key(key) if is_import_key(key) else parse_shard_key(key)


def delta_partition(shard: Shard | ImportShard) -> dict[str, str]:
    """The Delta partition values of a shard's rows (tables are partitioned by crawl, shard)."""
    return {"crawl": shard.crawl, "shard": shard.key.split("/", 1)[1]}
