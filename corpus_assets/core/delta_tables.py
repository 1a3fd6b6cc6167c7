"""Delta tables of the warehouse: replace one partition atomically, read partitions back.

Every partitioned table is Delta-partitioned by (`crawl`, `shard`), which is exactly a Dagster partition:
re-materializing a partition is one overwrite transaction restricted by a predicate on those columns,
so it replaces exactly that partition's rows, and concurrent writers of different partitions touch
disjoint files. A commit that still loses a race is retried with fresh data.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Callable, Iterator

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

log = logging.getLogger(__name__)

PARTITION_COLUMNS = ["crawl", "shard"]
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/-]+$")


def _predicate(partition: dict[str, str]) -> str:
    # delta-rs takes predicates as SQL text; values are our own crawl ids and shard ranges, checked here
    for column, value in partition.items():
        if not _SAFE_VALUE.match(value):
            raise ValueError(f"unsafe partition value {column}={value!r}")
    return " AND ".join(f"{column} = '{value}'" for column, value in partition.items())


def replace_partition(table_uri: str, make_batches: Callable[[], Iterator[pa.RecordBatch]], schema: pa.Schema,
                      partition: dict[str, str], storage_options: dict[str, str] | None = None,
                      attempts: int = 5) -> None:
    """Write the batches from `make_batches()` as the whole content of `partition`, in one transaction.

    `make_batches` is called again if the commit must be retried, so it must be re-runnable.
    """
    for attempt in range(1, attempts + 1):
        reader = pa.RecordBatchReader.from_batches(schema, make_batches())
        try:
            write_deltalake(table_uri, reader, mode="overwrite", predicate=_predicate(partition),
                            partition_by=list(partition), storage_options=storage_options or None)
            return
        except (CommitFailedError, DeltaError) as exc:
            if attempt == attempts or not _is_conflict(exc):
                raise
            log.warning("commit to %s lost a race (%s); retry %d", table_uri, exc, attempt)
            time.sleep(0.2 * attempt)


def _is_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, CommitFailedError) or "conflict" in text or "already exists" in text or "version" in text


def table_exists(table_uri: str, storage_options: dict[str, str] | None = None) -> bool:
    try:
        DeltaTable(table_uri, storage_options=storage_options or None)
        return True
    except TableNotFoundError:
        return False


def read_partition(table_uri: str, partition: dict[str, str], columns: list[str] | None = None,
                   storage_options: dict[str, str] | None = None) -> pl.DataFrame:
    """Rows of one partition (partition pruning: only that partition's files are read)."""
    dt = DeltaTable(table_uri, storage_options=storage_options or None)
    dataset = dt.to_pyarrow_dataset(partitions=[(k, "=", v) for k, v in partition.items()])
    return pl.from_arrow(dataset.to_table(columns=columns))


def iter_partition_batches(table_uri: str, partition: dict[str, str], columns: list[str] | None = None,
                           batch_rows: int = 5000, storage_options: dict[str, str] | None = None,
                           filter_expression=None) -> Iterator[pl.DataFrame]:
    """Stream one partition of a table as Polars frames of at most `batch_rows` rows (bounded memory)."""
    import pyarrow.dataset as ds

    dt = DeltaTable(table_uri, storage_options=storage_options or None)
    dataset = dt.to_pyarrow_dataset(partitions=[(k, "=", v) for k, v in partition.items()])
    expression = None
    for column, value in partition.items():  # also filter rows: partition pruning alone is only a hint
        term = ds.field(column) == value
        expression = term if expression is None else expression & term
    if filter_expression is not None:
        expression = expression & filter_expression
    for batch in dataset.to_batches(columns=columns, filter=expression, batch_size=batch_rows):
        if batch.num_rows:
            yield pl.from_arrow(batch)


def transform_partition(source_uri: str, target_uri: str, partition: dict[str, str],
                        transform: Callable[[pl.DataFrame], pl.DataFrame], columns: list[str] | None = None,
                        batch_rows: int = 5000, storage_options: dict[str, str] | None = None,
                        filter_expression=None) -> int:
    """Replace `partition` of the target table with `transform` applied batch by batch to the source's
    partition; returns rows written. The transform must keep the partition columns and accept empty frames."""
    written = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal written
        written = 0
        for frame in iter_partition_batches(source_uri, partition, columns, batch_rows, storage_options,
                                            filter_expression):
            out = transform(frame)
            written += out.height
            yield from out.to_arrow().cast(schema).to_batches()

    empty = pl.from_arrow(DeltaTable(source_uri, storage_options=storage_options or None)
                          .to_pyarrow_dataset().schema.empty_table())
    if columns:
        empty = empty.select(columns)
    schema = transform(empty).to_arrow().schema
    replace_partition(target_uri, batches, schema, partition, storage_options)
    return written
