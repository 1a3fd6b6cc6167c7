"""The corpus as a mixture build reads it: one pinned Delta version, with defaults for missing columns.

The build reads `corpus` at one Delta version (the latest unless given), registered in DuckDB as the
view `corpus`; the version goes into the manifest, so a later build or export on the same version
reads the same rows. Columns that other stages add over time get a stated default while they are
missing: `source` = 'common-crawl' (everything is crawled until imports exist), `synthetic` = false.
Columns without a safe default (`quality_score`, ...) stay missing, and a predicate using one fails with
DuckDB's one-line binder error naming the column.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
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


def open_corpus(corpus_uri: str, version: int | None = None, storage_options: dict[str, str] | None = None,
                memory_limit: str | None = None, con: duckdb.DuckDBPyConnection | None = None) -> CorpusSnapshot:
    """Register `corpus` (at `version`, else the latest) as the DuckDB view `corpus`."""
    table = DeltaTable(corpus_uri, version=version, storage_options=storage_options or None)
    con = con or duckdb.connect()
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    con.register("corpus_snapshot", table.to_pyarrow_dataset())
    columns = [name for name, *_ in con.sql("DESCRIBE corpus_snapshot").fetchall()]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ValueError(f"{corpus_uri}: corpus has no {', '.join(missing)} column(s)")
    defaulted = {column: value for column, (_, value) in COLUMN_DEFAULTS.items() if column not in columns}
    extra = "".join(f", {COLUMN_DEFAULTS[column][0]} AS {column}" for column in defaulted)
    con.execute(f"CREATE OR REPLACE TEMP VIEW corpus AS SELECT *{extra} FROM corpus_snapshot")
    return CorpusSnapshot(con, corpus_uri, table.version(), columns + list(defaulted), defaulted)
