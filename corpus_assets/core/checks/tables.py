"""Reading warehouse tables for validation: one partition or all, only the columns asked for."""
from __future__ import annotations

import os
from typing import Mapping, Sequence

import polars as pl


def table_uri(warehouse_root: str | os.PathLike[str], table: str) -> str:
    return f"{str(warehouse_root).rstrip('/')}/{table}"


def read_table(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None = None,
               columns: Sequence[str] | None = None, storage_options: Mapping[str, str] | None = None,
               version: int | None = None) -> pl.DataFrame:
    """Rows of a Delta table (one partition, or all; at ``version``, else the latest); ``columns`` that the
    table lacks are ignored.

    Partition keys that are not partition columns of the table (a global table) are ignored."""
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
    if columns is not None:
        columns = [c for c in columns if c in dataset.schema.names]
    expression = None
    for column, value in keys.items():
        term = ds.field(column) == value
        expression = term if expression is None else expression & term
    return pl.from_arrow(dataset.to_table(columns=columns, filter=expression))  # type: ignore[return-value]


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
