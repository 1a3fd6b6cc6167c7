"""`corpus check`: every existing table of a warehouse, partition by partition (bounded memory)."""
from __future__ import annotations

import logging
import os
from typing import Any, Iterable, Mapping, Sequence

from corpus_assets.core.checks.results import SuiteResult
from corpus_assets.core.checks.suites import TABLES
from corpus_assets.core.checks.tables import is_partitioned, list_partitions, table_uri
from corpus_assets.core.checks.validate import validate_table
from corpus_assets.core.lake.delta_tables import table_exists
from corpus_assets.core.mixtures.check_context import partition_context

log = logging.getLogger(__name__)


def check_warehouse(warehouse_root: str | os.PathLike[str], tables: Iterable[str] | None = None, *,
                    partitions: Sequence[Mapping[str, str]] | None = None, per_partition: bool = True,
                    context: Mapping[str, Any] | None = None, storage_options: Mapping[str, str] | None = None,
                    documents_written: Mapping[str, int] | None = None,
                    ) -> list[tuple[str, dict[str, str] | None, SuiteResult]]:
    """Validate every existing table (default ``TABLES``), partition by partition (bounded memory)
    or whole (``per_partition=False``); ``partitions`` restricts which.  For ``corpus check``.

    ``documents_written``: {"crawl/shard": rows the documents run reported} (from the Dagster
    instance), so an empty or short ``documents`` partition is judged against what was written."""
    results: list[tuple[str, dict[str, str] | None, SuiteResult]] = []
    for table in tables or TABLES:
        if not table_exists(table_uri(warehouse_root, table), storage_options):
            log.info("expectations: no table %s yet, skipped", table)
            continue
        parts: list[dict[str, str] | None]
        if per_partition and is_partitioned(warehouse_root, table, storage_options):
            parts = list(list_partitions(warehouse_root, table, storage_options))
            if partitions is not None:
                wanted = [dict(p) for p in partitions]
                parts = [p for p in parts if any(all(p.get(k) == v for k, v in w.items()) for w in wanted)]  # type: ignore[union-attr]
        else:
            parts = [None]
        for part in parts:
            part_context = dict(context or {})
            if table == "documents" and part is not None and documents_written:
                part_context["expected_rows"] = documents_written.get(f"{part['crawl']}/{part['shard']}")
            if table == "mixtures" and part is not None:  # the rows against the manifest of their build
                part_context.update(partition_context(str(warehouse_root), part["mixture"],
                                                      dict(storage_options) if storage_options else None))
            result = validate_table(warehouse_root, table, part, context=part_context, storage_options=storage_options)
            results.append((table, part, result))
    return results
