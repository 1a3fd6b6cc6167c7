"""Rating sheets: choose documents for people to rate, write the sheet, and read it back.

**Export** (`select_for_rating`, `write_sheet`): columns `doc_id, url, lang, title, excerpt` (the text's
first ~1,500 characters) and empty `rating`, `note`; CSV or JSONL by the file's extension. Two
strategies, both reproducible from a seed (the order comes from a seeded hash of doc_id):

* `stratified`: languages take turns; within a language the current score buckets take turns; within a
  bucket the hosts take turns. Every language, score range and host is represented before any repeats.
* `uncertain`: the documents whose current score is nearest 0.5 (the model's least sure, the cheapest
  ratings to learn from), languages taking turns.

**Import** (`read_ratings`): a sheet with at least `doc_id` and `rating` (and `rater`, unless a default
rater is given). Rows with an empty rating are skipped (a sheet may be rated in part). A missing file,
an empty file, a missing column, an unknown doc_id, a rating that is not an integer from 0 to 5, a row
without a rater, the same document twice for one rater, or no rated row at all: `SheetError` with one
line naming the file, the row and the problem, and nothing is accepted. Rows for `quality_ratings`
carry `source_file` = `<file name>#sha256:<first 16 hex digits of the file's content>`;
`new_ratings` drops rows already imported (same doc_id, rater and file content), so re-importing a file
adds nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from corpus_assets.core.scoring.scorer import quality_buckets
from corpus_assets.core.scoring.splits import unit_hashes

SHEET_COLUMNS = ["doc_id", "url", "lang", "title", "excerpt", "rating", "note"]
RATING_COLUMNS = ["doc_id", "rater", "rating", "note", "rated_at", "source_file"]
RATINGS_SCHEMA = pl.Schema({"doc_id": pl.String(), "rater": pl.String(), "rating": pl.Int8(), "note": pl.String(),
                            "rated_at": pl.Datetime("us", "UTC"), "source_file": pl.String()})
STRATEGIES = ("stratified", "uncertain")
EXCERPT_CHARS = 1500
MIN_RATING, MAX_RATING = 0, 5


class SheetError(ValueError):
    """A rating sheet that cannot be imported; the message is one line."""


# ------------------------------------------------------------------------------------------------ export


def excerpt(text: str | None, max_chars: int = EXCERPT_CHARS) -> str:
    """The text's beginning, cut at the last line break or space before `max_chars` when one is near."""
    text = (text or "").strip()
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    cut = max(head.rfind("\n"), head.rfind(" "))
    return (head[:cut] if cut >= 0.8 * max_chars else head).rstrip() + " …"


def select_for_rating(docs: pl.DataFrame, n: int, strategy: str = "stratified", seed: int = 0) -> pl.DataFrame:
    """`n` documents of `docs` (doc_id, url, url_host, lang, title, text[, quality_score]) in sheet order."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    has_scores = "quality_score" in docs.columns and docs["quality_score"].null_count() < docs.height
    if strategy == "uncertain" and not has_scores:
        raise ValueError("the uncertain strategy needs current scores (a quality_score column): train a model first")
    frame = docs.with_columns(
        pl.Series("_key", unit_hashes(docs["doc_id"].to_list(), f"rating-sheet-{seed}")),
        pl.col("lang").fill_null(""), pl.col("url_host").fill_null(""))
    languages = sorted(set(frame["lang"].to_list()))
    lang_turn = dict(zip(languages, unit_hashes(languages, f"rating-sheet-lang-{seed}").argsort().argsort().tolist()))
    frame = frame.with_columns(pl.col("lang").replace_strict(lang_turn, return_dtype=pl.Int64).alias("_lang_turn"))

    if strategy == "uncertain":
        frame = frame.with_columns((pl.col("quality_score") - 0.5).abs().fill_null(1.0).alias("_distance"))
        frame = frame.with_columns(pl.struct("_distance", "_key").rank("ordinal").over("lang").alias("_in_lang"))
    else:
        bucket = (pl.Series("_bucket", quality_buckets(frame["quality_score"].fill_null(0.0).to_numpy()))
                  if has_scores else pl.Series("_bucket", [0] * frame.height))
        frame = frame.with_columns(bucket)
        # hosts take turns within (lang, bucket): a host's first page, then every host's second page, ...
        frame = frame.with_columns(
            (pl.col("_key").rank("ordinal").over("lang", "_bucket", "url_host") - 1).alias("_in_host"),
            pl.col("_key").min().over("lang", "_bucket", "url_host").alias("_host_key"))
        frame = frame.with_columns(pl.col("_host_key").rank("dense").over("lang", "_bucket").alias("_host_turn"))
        frame = frame.with_columns(
            pl.struct("_in_host", "_host_turn").rank("ordinal").over("lang", "_bucket").alias("_in_bucket"),
            pl.col("_key").min().over("lang", "_bucket").alias("_bucket_key"))
        # buckets take turns within a language
        frame = frame.with_columns(pl.col("_bucket_key").rank("dense").over("lang").alias("_bucket_turn"))
        frame = frame.with_columns(pl.struct("_in_bucket", "_bucket_turn").rank("ordinal").over("lang").alias("_in_lang"))
    picked = frame.sort("_in_lang", "_lang_turn").head(n)
    return picked.select(docs.columns)


def sheet_rows(selected: pl.DataFrame, excerpt_chars: int = EXCERPT_CHARS) -> pl.DataFrame:
    """The sheet: doc_id, url, lang, title, excerpt, and empty rating and note."""
    return pl.DataFrame({
        "doc_id": selected["doc_id"], "url": selected["url"], "lang": selected["lang"],
        "title": selected["title"].fill_null(""),
        "excerpt": [excerpt(t, excerpt_chars) for t in selected["text"].to_list()],
        "rating": [""] * selected.height, "note": [""] * selected.height,
    }, schema={c: pl.String for c in SHEET_COLUMNS})


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".jsonl":
        return "jsonl"
    raise SheetError(f"{path}: unknown sheet format {suffix or '(no extension)'!r}: use .csv or .jsonl")


def write_sheet(sheet: pl.DataFrame, path: str | Path) -> None:
    path = Path(path)
    rows = sheet.to_dicts()
    if _format(path) == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=sheet.columns)
            writer.writeheader()
            writer.writerows(rows)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------------ import


def _read_rows(path: Path, data: bytes) -> tuple[list[str], list[dict]]:
    text = data.decode("utf-8-sig")
    if _format(path) == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return list(reader.fieldnames or []), list(reader)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SheetError(f"{path}: line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise SheetError(f"{path}: line {number}: not a JSON object")
        rows.append(row)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return columns, rows


def _rating(value) -> int | None:
    """The rating as an int, None when the cell is empty; raises ValueError when it is not 0..5."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError
    text = str(value).strip()
    if not text.isdigit() or not MIN_RATING <= int(text) <= MAX_RATING:
        raise ValueError
    return int(text)


@dataclass
class ParsedRatings:
    rows: pl.DataFrame  # RATING_COLUMNS
    unrated: int  # rows left empty by the rater
    source_file: str


KnownDocIds = Collection[str] | Callable[[set[str]], Collection[str]]


def _sheet_rows(path: Path, data: bytes, default_rater: str | None) -> list[dict]:
    """The sheet's rows, once it is known to hold rows and have the required columns."""
    if not data.strip():
        raise SheetError(f"{path}: empty file")
    columns, rows = _read_rows(path, data)
    if not rows:
        raise SheetError(f"{path}: no rows")
    required = ["doc_id", "rating"] + ([] if default_rater else ["rater"])
    for column in required:
        if column not in columns:
            hint = " (or give a rater name)" if column == "rater" else ""
            raise SheetError(f"{path}: missing column {column!r}{hint}")
    return rows


def read_ratings(path: str | Path, known_doc_ids: KnownDocIds, default_rater: str | None = None,
                 rated_at: dt.datetime | None = None) -> ParsedRatings:
    """Validate a rating sheet; every problem is a `SheetError` with one line, and nothing is accepted."""
    path = Path(path)
    if not path.is_file():
        raise SheetError(f"{path}: no such file")
    return parse_ratings(path.read_bytes(), path, known_doc_ids, default_rater, rated_at)


def parse_ratings(data: bytes, path: str | Path, known_doc_ids: KnownDocIds, default_rater: str | None = None,
                  rated_at: dt.datetime | None = None) -> ParsedRatings:
    """`read_ratings` of a sheet's content (`path` names it: format, messages, `source_file`).

    `known_doc_ids`: the ids that may be rated, or a function from the sheet's doc ids to the known ones
    among them (so a caller can look up only those in a large `documents` table)."""
    path = Path(path)
    rows = _sheet_rows(path, data, default_rater)
    if callable(known_doc_ids):
        known_doc_ids = known_doc_ids({str(row.get("doc_id") or "").strip() for row in rows} - {""})
    source_file = f"{path.name}#sha256:{hashlib.sha256(data).hexdigest()[:16]}"
    rated_at = rated_at or dt.datetime.now(dt.timezone.utc)
    seen: dict[tuple[str, str], int]
    out, seen, unrated, unknown = [], {}, 0, []
    for number, row in enumerate(rows, start=1):
        doc_id = str(row.get("doc_id") or "").strip()
        where = f"{path}: row {number}" + (f" (doc_id {doc_id})" if doc_id else "")
        try:
            rating = _rating(row.get("rating"))
        except ValueError:
            raise SheetError(f"{where}: rating {row.get('rating')!r} is not an integer from {MIN_RATING} to {MAX_RATING}") from None
        if rating is None:
            unrated += 1
            continue
        if not doc_id:
            raise SheetError(f"{where}: empty doc_id")
        if doc_id not in known_doc_ids:
            unknown.append((number, doc_id))
            continue
        rater = str(row.get("rater") or "").strip() or default_rater
        if not rater:
            raise SheetError(f"{where}: no rater (fill the rater column or give a rater name)")
        if (doc_id, rater) in seen:
            raise SheetError(f"{where}: rated twice by {rater} (rows {seen[(doc_id, rater)]} and {number})")
        seen[(doc_id, rater)] = number
        out.append({"doc_id": doc_id, "rater": rater, "rating": rating, "note": str(row.get("note") or ""),
                    "rated_at": rated_at, "source_file": source_file})
    if unknown:
        number, doc_id = unknown[0]
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise SheetError(f"{path}: row {number}: unknown doc_id {doc_id}{more}: not in the corpus")
    if not out:
        raise SheetError(f"{path}: no row has a rating")
    return ParsedRatings(pl.DataFrame(out, schema=RATINGS_SCHEMA), unrated, source_file)


def _content_hash(source_file: pl.Expr) -> pl.Expr:
    return source_file.str.split("#sha256:").list.last()


def new_ratings(parsed: pl.DataFrame, existing: pl.DataFrame | None) -> pl.DataFrame:
    """The parsed rows not imported before (same doc_id, rater and file content)."""
    if existing is None or not existing.height:
        return parsed
    seen = existing.select("doc_id", "rater", _content_hash(pl.col("source_file")).alias("_content")).unique()
    return (parsed.with_columns(_content_hash(pl.col("source_file")).alias("_content"))
            .join(seen, on=["doc_id", "rater", "_content"], how="anti").drop("_content"))
