"""Gold: the training-ready corpus: kept, deduplicated, boilerplate-stripped, PII-masked."""
import time

import dagster as dg
import polars as pl

from corpus_assets.core.lake.delta_tables import read_partition, table_exists, transform_partition
from corpus_assets.core.lake.lookup import rows_for
from corpus_assets.core.corpus.corpus_table import corpus_frame
from corpus_assets.core.imports.origin import with_origin
from corpus_assets.core.imports.staging import origin_of
from corpus_assets.core.quality.signals_table import PII_COUNT_COLUMNS
from corpus_assets.defs.dedup.assets import dedup_clusters
from corpus_assets.defs.signals.assets import decisions
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import PUBLISH, phase

CORPUS_SOURCE_COLUMNS = ["doc_id", "crawl", "shard", "url", "url_host", "fetch_time", "warc_path",
                         "warc_record_offset", "warc_record_length", "title", "text", "lang", "lang_score"]


def duplicates_in_shard(warehouse: Warehouse, partition: dict[str, str]) -> list[str]:
    """doc_ids of this shard that are non-representative members of a duplicate cluster."""
    uri = warehouse.table_uri("dedup_clusters")
    if not table_exists(uri, warehouse.options()):
        return []
    dataset = pl.scan_delta(uri, storage_options=warehouse.options())
    return (dataset.filter((pl.col("crawl") == partition["crawl"]) & (pl.col("shard") == partition["shard"])
                           & ~pl.col("is_kept")).select("doc_id").collect()["doc_id"].to_list())


@dg.asset(partitions_def=warc_shards, group_name="corpus", kinds={"delta", "polars"}, tags=phase(PUBLISH),
          deps=["documents", decisions, dedup_clusters, "dedup_signatures", "boilerplate_lines", "quality_scores"])
def corpus(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Training-ready rows: documents the filter config keeps and that represent their duplicate
    cluster, with boilerplate lines removed and e-mails, phone numbers, IPs, ID-card and bank-card
    numbers replaced by typed placeholders. Provenance (doc_id, WARC path, offset, length) leads back
    to `documents`; `text_hash` is the exact-dedup hash; `quality_score` and `model_version` are the row's
    score in `quality_scores`."""
    shard = shard_of(context)
    partition = delta_partition(shard)
    options = warehouse.options()
    started = time.perf_counter()
    verdicts = read_partition(warehouse.table_uri("decisions"), partition, ["doc_id", "keep"], options)
    duplicates = pl.DataFrame({"doc_id": duplicates_in_shard(warehouse, partition)}, schema={"doc_id": pl.String})
    if not table_exists(warehouse.table_uri("dedup_clusters"), options):
        context.log.warning("dedup_clusters is not materialized yet: the corpus is not deduplicated")
    passed = verdicts.filter("keep").select("doc_id").unique()
    kept = passed.join(duplicates, on="doc_id", how="anti")  # a frame, not a set: ~25 MB per 1M doc_ids, not ~130
    signatures = read_partition(warehouse.table_uri("dedup_signatures"), partition, ["doc_id", "text_hash"], options)
    boilerplate = read_partition(warehouse.table_uri("boilerplate_lines"), partition, ["url_host", "line_hash"], options)
    scores = read_partition(warehouse.table_uri("quality_scores"), partition, ["doc_id", "quality_score", "model_version"],
                            options)
    origin = origin_of(warehouse.root(), shard)  # source, synthetic, generator: crawled or as imported
    masked = {column: 0 for column in PII_COUNT_COLUMNS + ["n_boilerplate_lines"]}  # summed as the rows are written

    def publish(docs: pl.DataFrame) -> pl.DataFrame:
        rows = _publish(_only(docs, kept), boilerplate, signatures, scores, origin)
        for column, total in rows.select(list(masked)).sum().row(0, named=True).items():
            masked[column] += int(total or 0)
        return rows

    rows = transform_partition(warehouse.table_uri("documents"), warehouse.table_uri("corpus"), partition, publish,
                               columns=CORPUS_SOURCE_COLUMNS, storage_options=options)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "documents": rows,
        "dropped_by_filters": int((~verdicts["keep"]).sum()),
        "dropped_as_duplicates": passed.height - kept.height,
        "dropped_empty_after_boilerplate": kept.height - rows,
        "boilerplate_lines_removed": masked["n_boilerplate_lines"],
        "pii_masked": {column.removeprefix("pii_").removesuffix("_count"): masked[column] for column in PII_COUNT_COLUMNS},
        "seconds": round(time.perf_counter() - started, 2),
    })


def _publish(docs: pl.DataFrame, boilerplate: pl.DataFrame, signatures: pl.DataFrame, scores: pl.DataFrame,
             origin) -> pl.DataFrame:
    return with_origin(corpus_frame(docs, boilerplate, rows_for(signatures, docs), rows_for(scores, docs)), origin)


def _only(docs: pl.DataFrame, doc_ids: pl.DataFrame) -> pl.DataFrame:
    """The batch's rows whose doc_id is in `doc_ids` (in the batch's order)."""
    return docs.filter(pl.col("doc_id").is_in(rows_for(doc_ids, docs)["doc_id"].implode()))
