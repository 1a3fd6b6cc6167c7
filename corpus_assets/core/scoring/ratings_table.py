"""The Delta table `quality_ratings`: validated ratings appended once, by one path for every writer.

`corpus rate import` (a sheet file), the rating page (one rating at a time, as a one-row JSONL sheet) and
`corpus demo` (the starter set) all go through `import_sheet` / `import_rating` -> `append_ratings`: the
same validation (`sheets.parse_ratings`: one-line `SheetError`, nothing written) and the same
de-duplication (`sheets.new_ratings`: a row whose doc_id, rater and sheet content were imported before
adds nothing). The table is not partitioned; every import is one append commit, so concurrent writers
(the page and a CLI import) never conflict.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import polars as pl
import pyarrow as pa

from corpus_assets.core.lake.delta_tables import COMMIT_RETRIES, table_exists
from corpus_assets.core.scoring.sheets import (RATING_COLUMNS, RATINGS_SCHEMA, KnownDocIds, ParsedRatings,
                                               SheetError, new_ratings, parse_ratings, read_ratings)

RATINGS_TABLE = "quality_ratings"
MAX_RATER_CHARS = 100


def ratings_uri(warehouse: str) -> str:
    return f"{str(warehouse).rstrip('/')}/{RATINGS_TABLE}"


def ratings_arrow_schema() -> pa.Schema:
    return pl.DataFrame(schema=RATINGS_SCHEMA).to_arrow().schema


@dataclass
class ImportResult:
    parsed: ParsedRatings
    appended: pl.DataFrame  # the rows written now (RATING_COLUMNS)

    @property
    def already_imported(self) -> int:
        return self.parsed.rows.height - self.appended.height


def read_ratings_table(uri: str, doc_ids: set[str] | None = None,
                       storage_options: dict[str, str] | None = None) -> pl.DataFrame | None:
    """The table's rows (only those of `doc_ids` when given), or None when there is no table yet."""
    if not table_exists(uri, storage_options):
        return None
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    dataset = DeltaTable(uri, storage_options=storage_options or None).to_pyarrow_dataset()
    where = ds.field("doc_id").isin(sorted(doc_ids)) if doc_ids is not None else None
    return pl.DataFrame(pl.from_arrow(dataset.to_table(columns=RATING_COLUMNS, filter=where))).cast(RATINGS_SCHEMA)


def append_ratings(uri: str, rows: pl.DataFrame, storage_options: dict[str, str] | None = None) -> pl.DataFrame:
    """Append the validated `rows` (RATING_COLUMNS) not imported before; returns what was written."""
    from deltalake import CommitProperties, write_deltalake

    rows = rows.select(RATING_COLUMNS).cast(RATINGS_SCHEMA)
    fresh = new_ratings(rows, read_ratings_table(uri, set(rows["doc_id"].to_list()), storage_options))
    if fresh.height:
        write_deltalake(uri, fresh.to_arrow().cast(ratings_arrow_schema()), mode="append",
                        storage_options=storage_options or None,
                        commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES))
    return fresh


def import_sheet(uri: str, path: str | Path, known_doc_ids: KnownDocIds, rater: str | None = None,
                 storage_options: dict[str, str] | None = None, rated_at: dt.datetime | None = None) -> ImportResult:
    """Validate a rating sheet file and append its new rows (`SheetError`: nothing written)."""
    parsed = read_ratings(path, known_doc_ids, default_rater=check_rater(rater) if rater else None, rated_at=rated_at)
    return ImportResult(parsed, append_ratings(uri, parsed.rows, storage_options))


def import_rating(uri: str, doc_id: str, rating: int | str, note: str, rater: str, known_doc_ids: KnownDocIds,
                  source_name: str = "rate-serve.jsonl", storage_options: dict[str, str] | None = None,
                  rated_at: dt.datetime | None = None) -> ImportResult:
    """One rating (the rating page's) as a one-row JSONL sheet through the same validation and append.

    The sheet carries the time of rating, so a rater who changes their mind (3, then 4, then 3 again) adds
    a row each time (each rater's latest rating counts); the same rating and note as the rater's latest
    one for the document (a double click) adds nothing."""
    rated_at = rated_at or dt.datetime.now(dt.timezone.utc)
    line = json.dumps({"doc_id": doc_id, "rating": rating, "note": note or "", "rated_at": rated_at.isoformat()},
                      ensure_ascii=False, sort_keys=True)
    try:
        parsed = parse_ratings((line + "\n").encode("utf-8"), source_name, known_doc_ids,
                               default_rater=check_rater(rater), rated_at=rated_at)
    except SheetError as exc:  # the one-row sheet is the page's business: name the document, not the sheet
        message = re.sub(rf"^{re.escape(source_name)}: row 1:? ", "", str(exc))
        raise SheetError(re.sub(r"^\(doc_id (\S+)\):", r"doc_id \1:", message)) from None
    row = parsed.rows.row(0, named=True)
    earlier = read_ratings_table(uri, {row["doc_id"]}, storage_options)
    if earlier is not None:
        mine = earlier.filter(pl.col("rater") == row["rater"]).sort("rated_at")
        if mine.height and (mine["rating"][-1], mine["note"][-1]) == (row["rating"], row["note"]):
            return ImportResult(parsed, parsed.rows.clear())
    return ImportResult(parsed, append_ratings(uri, parsed.rows, storage_options))


def check_rater(rater: str | None) -> str:
    """A rater's name: one line, at most MAX_RATER_CHARS characters, not empty."""
    name = (rater or "").strip()
    if not name:
        raise SheetError("no rater name: give one (e.g. --rater ana)")
    if len(name) > MAX_RATER_CHARS or any(not ch.isprintable() for ch in name):
        raise SheetError(f"rater name {name[:40]!r}: use one line of at most {MAX_RATER_CHARS} printable characters")
    return name


def known_in_table(uri: str, storage_options: dict[str, str] | None = None) -> Callable[[set[str]], set[str]]:
    """A `known_doc_ids` function: which of a sheet's doc ids the Delta table at `uri` (e.g. `documents`) holds,
    reading only those ids."""
    if not table_exists(uri, storage_options):
        raise SheetError(f"no table at {uri}: materialize the warehouse before importing ratings")

    def known(doc_ids: set[str]) -> set[str]:
        import pyarrow.dataset as ds
        from deltalake import DeltaTable

        if not doc_ids:
            return set()
        dataset = DeltaTable(uri, storage_options=storage_options or None).to_pyarrow_dataset()
        table = dataset.to_table(columns=["doc_id"], filter=ds.field("doc_id").isin(sorted(doc_ids)))
        return set(table.column("doc_id").to_pylist())

    return known
