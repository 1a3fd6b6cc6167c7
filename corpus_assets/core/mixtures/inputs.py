"""The corpus as a mixture build reads it: one pinned Delta version, with defaults for missing columns.

The build reads `corpus` at one Delta version (the latest unless given), registered in DuckDB as the
view `corpus`; the version goes into the manifest, so a later build or export on the same version
reads the same rows. A local table is read by DuckDB's own Parquet reader over that version's files
(so DuckDB's `memory_limit` bounds the scan: over a 1M-row corpus, counting tokens peaked at
~180 MB this way against ~3.4 GB through a pyarrow dataset, see benchmarks/results/mixtures.txt);
other tables (object stores, deletion vectors, column mapping, non-string partition columns) are
read through deltalake's pyarrow dataset. Columns that other stages add over time get a stated default while they are
missing: `source` = 'common-crawl' (everything is crawled until imports exist), `synthetic` = false.
Columns without a safe default (`quality_score`, ...) stay missing, and a predicate using one fails with
DuckDB's one-line binder error naming the column.

A mixture counts a document once: should the corpus hold a doc_id in more than one row (the same WARC
record ingested from two shards), the view keeps the first by partition and text, and the number of rows
left out is recorded (`duplicate_rows`, in the manifest). Checking costs one count of distinct doc_ids;
the deduplicating window runs only when there are duplicates.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

COLUMN_DEFAULTS = {"source": ("'common-crawl'", "common-crawl"), "synthetic": ("false", False)}
REQUIRED_COLUMNS = ("doc_id", "text")


@dataclass
class CorpusSnapshot:
    con: duckdb.DuckDBPyConnection  # has the view `corpus`
    uri: str
    version: int
    columns: list[str]
    defaulted: dict[str, object] = field(default_factory=dict)  # column -> the default used
    duplicate_rows: int = 0  # rows whose doc_id an earlier row already has, left out of the view


def open_corpus(corpus_uri: str, version: int | None = None, storage_options: dict[str, str] | None = None,
                memory_limit: str | None = None, con: duckdb.DuckDBPyConnection | None = None) -> CorpusSnapshot:
    """Register `corpus` (at `version`, else the latest) as the DuckDB view `corpus`."""
    table = DeltaTable(corpus_uri, version=version, storage_options=storage_options or None)
    con = con or duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    _register_snapshot(con, table)
    partitions = table.metadata().partition_columns
    columns = [name for name, *_ in con.sql("DESCRIBE corpus_snapshot").fetchall()]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ValueError(f"{corpus_uri}: corpus has no {', '.join(missing)} column(s)")
    defaulted = {column: value for column, (_, value) in COLUMN_DEFAULTS.items() if column not in columns}
    extra = "".join(f", {COLUMN_DEFAULTS[column][0]} AS {column}" for column in defaulted)
    duplicates = con.sql("SELECT count(*) - count(DISTINCT doc_id) FROM corpus_snapshot").fetchone()[0]  # type: ignore[index]
    first_of_each = ""
    if duplicates:
        order = ", ".join([f'"{column}"' for column in partitions if column in columns] + ["text"])
        first_of_each = f" QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY {order}) = 1"
    con.execute(f"CREATE OR REPLACE TEMP VIEW corpus AS SELECT *{extra} FROM corpus_snapshot{first_of_each}")
    return CorpusSnapshot(con, corpus_uri, table.version(), columns + list(defaulted), defaulted, int(duplicates))


def _register_snapshot(con: duckdb.DuckDBPyConnection, table: DeltaTable) -> None:
    files = table.file_uris()
    schema = pa.schema(table.schema())
    partitions = table.metadata().partition_columns
    features = set(table.protocol().reader_features or [])
    native = (files and all("://" not in f or f.startswith("file://") for f in files)
              and not features & {"deletionVectors", "columnMapping"}
              and all(_is_text(schema.field(column).type) for column in partitions))
    if not native:
        con.register("corpus_snapshot", table.to_pyarrow_dataset())
        return
    # Delta writes partition values into hive-style folder names; keep them as strings, as the log has them.
    # The file list is spelled out as literals: a prepared parameter would make DuckDB run the scan eagerly.
    listed = ", ".join("'" + f.removeprefix("file://").replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE OR REPLACE TEMP VIEW corpus_snapshot AS SELECT * FROM read_parquet([{listed}], "
                f"hive_partitioning = {str(bool(partitions)).lower()}, union_by_name = true, "
                "hive_types_autocast = false)")


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
