"""Reading warehouse tables for validation: one partition or all, only the columns asked for, whole or in batches."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    import pyarrow.dataset as ds


READ_BATCH_ROWS = 65_536  # rows converted to Polars at a time when a table is read whole


def table_uri(warehouse_root: str | os.PathLike[str], table: str) -> str:
    return f"{str(warehouse_root).rstrip('/')}/{table}"


def _scan(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None,
          storage_options: Mapping[str, str] | None, version: int | None) -> tuple["ds.Dataset", "ds.Expression | None"]:
    """The table's Arrow dataset (at ``version``) and the filter selecting ``partition``'s rows (None: all)."""
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    dt = DeltaTable(table_uri(warehouse_root, table), version=version,
                    storage_options=dict(storage_options) if storage_options else None)
    part_cols = set(dt.metadata().partition_columns)
    keys = {k: v for k, v in (partition or {}).items() if k in part_cols}
    filters = [(k, "=", v) for k, v in keys.items()] or None
    try:
        dataset = dt.to_pyarrow_dataset(file_pruning_predicate=filters)
    except TypeError:  # deltalake < 1.5 spells it `partitions`
        dataset = dt.to_pyarrow_dataset(partitions=filters)
    expression = None
    for column, value in keys.items():
        term = ds.field(column) == value
        expression = term if expression is None else expression & term
    return dataset, expression


def read_table(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None = None,
               columns: Sequence[str] | None = None, storage_options: Mapping[str, str] | None = None,
               version: int | None = None, placeholders: Sequence[str] = ()) -> pl.DataFrame:
    """Rows of a Delta table (one partition, or all; at ``version``, else the latest); ``columns`` that the
    table lacks are ignored.  ``placeholders``: columns not read but all null, of their dtype, in their place
    (a frame that still has every column, without the wide ones' data).

    Partition keys that are not partition columns of the table (a global table) are ignored."""
    dataset, expression = _scan(warehouse_root, table, partition, storage_options, version)
    names = [c for c in (dataset.schema.names if columns is None else columns) if c in dataset.schema.names]
    read = [c for c in names if c not in placeholders]
    empty: pl.DataFrame = pl.from_arrow(dataset.schema.empty_table())  # type: ignore[assignment]
    if read:  # batch by batch: the Arrow table and its Polars copy are never held whole at once
        frame = pl.concat([empty.select(read), *_batches(dataset, expression, read, READ_BATCH_ROWS)])
    else:  # only the row count (from the Parquet footers), the columns all placeholders
        frame = pl.select(pl.repeat(None, dataset.count_rows(filter=expression), dtype=pl.Null).alias("__rows"))
    return frame.with_columns(pl.lit(None, dtype=empty.schema[c]).alias(c) for c in names if c in placeholders
                              ).select(names)


def iter_table_batches(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None,
                       columns: Sequence[str], batch_rows: int, storage_options: Mapping[str, str] | None = None,
                       version: int | None = None) -> Iterator[pl.DataFrame]:
    """``read_table``'s rows (same order) of ``columns`` (those the table has), as frames of at most
    ``batch_rows`` rows, so about a batch of a wide column is held at a time."""
    dataset, expression = _scan(warehouse_root, table, partition, storage_options, version)
    yield from _batches(dataset, expression, [c for c in columns if c in dataset.schema.names], batch_rows)


def iter_arrow_batches(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None,
                       columns: Sequence[str], batch_rows: int, storage_options: Mapping[str, str] | None = None,
                       version: int | None = None) -> tuple["pa.Schema", Iterator["pa.RecordBatch"]]:
    """``iter_table_batches`` as Arrow record batches (the table's own types), with their schema."""
    dataset, expression = _scan(warehouse_root, table, partition, storage_options, version)
    names = [c for c in columns if c in dataset.schema.names]
    return dataset.schema.empty_table().select(names).schema, _arrow_batches(dataset, expression, names, batch_rows)


_POOL: list = []


def reader_pool() -> "pa.MemoryPool | None":
    """The Arrow memory pool the checks read with: jemalloc handing freed pages back at once (decay 0),
    where pyarrow has it (else the default pool).  Arrow's default pool (mimalloc) kept what the batches had
    freed: streaming every column of 1M signals rows (batches of 26 MB) left the process ~200 MB larger than
    streaming 100k, ~30 MB with this pool (and a bounded decoding allocator is what streaming is for).  Only
    the checks' readers use it; Arrow's jemalloc is not the default pool, so nothing else is affected."""
    if not _POOL:
        import pyarrow as pa

        try:
            pool = pa.jemalloc_memory_pool()
            pa.jemalloc_set_decay_ms(0)
        except (NotImplementedError, AttributeError):  # a pyarrow built without jemalloc
            pool = None
        _POOL.append(pool)
    return _POOL[0]


def _batches(dataset: "ds.Dataset", expression: "ds.Expression | None", columns: list[str],
             batch_rows: int) -> Iterator[pl.DataFrame]:
    """The dataset's rows, in order, streamed from the Parquet pages (``_arrow_batches``), as Polars frames."""
    for batch in _arrow_batches(dataset, expression, columns, batch_rows):
        yield pl.from_arrow(batch)  # type: ignore[misc]


def _arrow_batches(dataset: "ds.Dataset", expression: "ds.Expression | None", columns: list[str],
                   batch_rows: int) -> Iterator["pa.RecordBatch"]:
    """The dataset's rows, in order, streamed from the Parquet pages: no read-ahead of batches or files, no
    whole column chunk buffered; empty batches left out."""
    import pyarrow.dataset as ds

    from corpus_assets.core.lake.delta_tables import READ_BUFFER_BYTES

    scanner = dataset.scanner(columns=columns, filter=expression, batch_size=batch_rows, batch_readahead=0,
                              fragment_readahead=0, use_threads=False, memory_pool=reader_pool(),
                              fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False,
                                                                                  buffer_size=READ_BUFFER_BYTES))
    for batch in scanner.to_batches():
        if batch.num_rows:
            yield batch


def table_schema(warehouse_root: str | os.PathLike[str], table: str, storage_options: Mapping[str, str] | None = None,
                 version: int | None = None) -> pl.DataFrame:
    """The table's columns and their dtypes, as a frame without rows."""
    dataset, _ = _scan(warehouse_root, table, None, storage_options, version)
    return pl.from_arrow(dataset.schema.empty_table())  # type: ignore[return-value]


def table_version(warehouse_root: str | os.PathLike[str], table: str,
                  storage_options: Mapping[str, str] | None = None) -> int:
    """The latest version of the table (reads of one validation pin it: a writer may commit meanwhile)."""
    from deltalake import DeltaTable

    return DeltaTable(table_uri(warehouse_root, table),
                      storage_options=dict(storage_options) if storage_options else None).version()


def is_partitioned(warehouse_root: str | os.PathLike[str], table: str,
                    storage_options: Mapping[str, str] | None) -> bool:
    from deltalake import DeltaTable

    dt = DeltaTable(table_uri(warehouse_root, table), storage_options=dict(storage_options) if storage_options else None)
    return bool(dt.metadata().partition_columns)


def list_partitions(warehouse_root: str | os.PathLike[str], table: str,
                    storage_options: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The table's partitions as dicts of its partition columns (``{"crawl", "shard"}``, or ``{"mixture"}``
    for ``mixtures``), sorted; ``[]`` for a global table."""
    from deltalake import DeltaTable

    dt = DeltaTable(table_uri(warehouse_root, table), storage_options=dict(storage_options) if storage_options else None)
    cols = dt.metadata().partition_columns
    if not cols:
        return []
    parts = [{c: p[c] for c in cols} for p in dt.partitions()]
    return sorted(parts, key=lambda p: tuple(p[c] for c in cols))
