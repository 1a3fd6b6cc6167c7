"""Gold: the training-ready corpus, kept documents only, PII-masked."""
import time

import dagster as dg
import pyarrow.dataset as ds

from corpus_assets.core.delta_tables import read_partition, transform_partition
from corpus_assets.core.stages import corpus_frame
from corpus_assets.defs.signals.assets import decisions
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.resources import Warehouse

CORPUS_SOURCE_COLUMNS = ["doc_id", "crawl", "shard", "url", "url_host", "fetch_time", "warc_path",
                         "warc_record_offset", "warc_record_length", "title", "text", "lang", "lang_score"]


@dg.asset(partitions_def=warc_shards, group_name="corpus", kinds={"delta", "polars"}, deps=["documents", decisions])
def corpus(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Training-ready rows: documents the filter config keeps, with e-mails, phone numbers, IPs,
    ID-card and bank-card numbers replaced by typed placeholders. Provenance (doc_id, WARC path,
    offset, length) leads back to `documents`."""
    shard = shard_of(context)
    partition = delta_partition(shard)
    started = time.perf_counter()
    kept = read_partition(warehouse.table_uri("decisions"), partition, ["doc_id", "keep"], warehouse.options())
    kept_ids = kept.filter("keep")["doc_id"].to_list()
    rows = transform_partition(warehouse.table_uri("documents"), warehouse.table_uri("corpus"), partition,
                               corpus_frame, columns=CORPUS_SOURCE_COLUMNS, storage_options=warehouse.options(),
                               filter_expression=ds.field("doc_id").isin(kept_ids))
    masked = read_partition(warehouse.table_uri("corpus"), partition,
                            ["pii_email_count", "pii_phone_count", "pii_ip_count", "pii_id_number_count",
                             "pii_card_count"], warehouse.options()).sum()
    return dg.MaterializeResult(metadata={
        "documents": rows,
        "pii_masked": {column.removeprefix("pii_").removesuffix("_count"): int(masked[column][0] or 0)
                       for column in masked.columns},
        "seconds": round(time.perf_counter() - started, 2),
    })
