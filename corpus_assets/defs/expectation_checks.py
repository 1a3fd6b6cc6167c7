"""Great Expectations suites (`expectations/<table>.json`) as Dagster asset checks, one check per group.

Each table's suite is validated once per materialized partition (or once, for a global table); the
result is reported as one asset check per check group of the suite (`schema`, `identity`,
`no_raw_pii`, ...), so the UI says what failed. Blocking groups stop the assets downstream in the
same run; the others are warnings. Metadata names the failing expectations, observed values,
unexpected counts and a sample of failing doc_ids.

A partitioned table says how its Dagster partition maps to Delta partition values (`delta_partition`)
and may add validation context for a partition (`validation_context`: e.g. the row count the run
reported, or the manifest of a mixture build).
"""

import warnings
from typing import Any, Callable, Iterator, Optional

import dagster as dg

from corpus_assets.core.checks.suites import check_groups
from corpus_assets.core.checks.validate import validate_table
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards

CheckContext = dg.AssetCheckExecutionContext
ValidationContext = Callable[[CheckContext, Warehouse], dict[str, Any]]


def shard_partition(context: CheckContext) -> dict[str, str]:
    """The Delta partition (crawl, shard) of a `warc_shards` partition."""
    return delta_partition(shard_of(context))


def documents_written(context: CheckContext, warehouse: Warehouse) -> dict[str, Any]:
    """The row count the `documents` run reported for this partition (an empty shard says why it is empty)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("documents"), asset_partitions=[context.partition_key]),
        limit=1).records
    written = records[0].asset_materialization.metadata.get("documents_written") if records else None
    return {"expected_rows": None if written is None else int(written.value)}


def expectation_checks(table: str, partitions_def: Optional[dg.PartitionsDefinition] = warc_shards,
                       delta_partition_of: Callable[[CheckContext], dict[str, str]] = shard_partition,
                       validation_context: Optional[ValidationContext] = None,
                       asset: Optional[str] = None) -> dg.AssetChecksDefinition:
    """The suite's checks on `table`, the Delta table of `asset` (default: the asset of the same name): per
    partition of `partitions_def` (None: a global table, validated whole), reading the Delta partition
    `delta_partition_of(context)`."""
    groups = check_groups(table)
    asset = asset or table
    with warnings.catch_warnings():  # partitioned asset checks are a Dagster preview feature
        warnings.simplefilter("ignore", dg.PreviewWarning)
        specs = [dg.AssetCheckSpec(group.name, asset=asset, blocking=group.blocking, description=group.description,
                                   partitions_def=partitions_def) for group in groups]

        @dg.multi_asset_check(specs=specs, name=f"{table}_expectations",
                              description=f"The GX suite expectations/{table}.json, one check per group.")
        def _checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> Iterator[dg.AssetCheckResult]:
            partition = delta_partition_of(context) if partitions_def else None
            extra = validation_context(context, warehouse) if validation_context else {}
            result = validate_table(warehouse.root(), table, partition, context=extra,
                                    storage_options=warehouse.options())
            where = f"{table} {context.partition_key}" if partitions_def else table
            for failure in result.failures:
                context.log.error(f"{where}: {failure.check}/{failure.name} failed (observed {failure.observed_value}, "
                                  f"unexpected {failure.unexpected_count}, e.g. {failure.unexpected_ids[:3]})")
            for group in groups:
                part = result.of_check(group.name)
                yield dg.AssetCheckResult(
                    asset_key=asset, check_name=group.name, passed=part.success,
                    severity=dg.AssetCheckSeverity.ERROR if group.blocking else dg.AssetCheckSeverity.WARN,
                    metadata=part.to_metadata(include_passed=False))

    return _checks
