"""Great Expectations suites (expectations/<table>.json) as blocking Dagster asset checks.

Each per-shard table is validated per partition right after it is materialized; a failed check
blocks the assets downstream of it in the same run, and its metadata names the failing
expectations, observed values, unexpected counts and a sample of failing doc_ids.
"""
import warnings

import dagster as dg

from corpus_assets.core.checks.validate import validate_table
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.defs.lake.warehouse import Warehouse

# table -> its asset key; all are partitioned by shard except dedup_clusters
CHECKED_TABLES = {"documents": "documents", "signals": "signals", "decisions": "decisions", "corpus": "corpus",
                  "dedup_clusters": "dedup_clusters"}
GLOBAL_TABLES = {"dedup_clusters"}


def _html_records(context: dg.AssetCheckExecutionContext, partition_key: str) -> int | None:
    """HTML 200 records the shard's WARC files held, from the documents materialization metadata."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("documents"), asset_partitions=[partition_key]), limit=1).records
    if not records:
        return None
    metadata = records[0].asset_materialization.metadata
    read = metadata.get("records_read")
    skips = metadata.get("skips_by_reason")
    if read is None or skips is None:
        return None
    skipped = skips.value or {}
    return read.value - skipped.get("http_status", 0) - skipped.get("not_html", 0)


def expectation_check(table: str) -> dg.AssetChecksDefinition:
    partitioned = table not in GLOBAL_TABLES

    @dg.asset_check(asset=CHECKED_TABLES[table], name="expectations", blocking=True,
                    partitions_def=warc_shards if partitioned else None,
                    description=f"The GX suite expectations/{table}.json on the materialized "
                                f"{'partition' if partitioned else 'table'}.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        partition = delta_partition(shard_of(context)) if partitioned else None
        expect_rows = True
        if table == "documents" and partitioned:
            html = _html_records(context, context.partition_key)
            expect_rows = html is None or html > 0  # a WARC with no HTML records may give an empty shard
        result = validate_table(warehouse.root(), table, partition, context={"expect_rows": expect_rows},
                                storage_options=warehouse.options())
        for failure in result.failures:
            context.log.error(f"{table} {context.partition_key if partitioned else ''}: {failure.name} failed "
                              f"(observed {failure.observed_value}, unexpected {failure.unexpected_count}, "
                              f"e.g. {failure.unexpected_ids[:3]})")
        return dg.AssetCheckResult(passed=result.success, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata=result.to_metadata(include_passed=False))

    return _check


with warnings.catch_warnings():  # partitioned asset checks are a Dagster preview feature
    warnings.simplefilter("ignore", dg.PreviewWarning if hasattr(dg, "PreviewWarning") else Warning)
    expectation_checks = [expectation_check(table) for table in CHECKED_TABLES]
