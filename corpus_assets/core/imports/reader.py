"""Records of an imported JSON Lines or Parquet file, with every record that is not used counted by reason.

Reasons (`SKIP_REASONS`): `malformed_line` (not valid UTF-8 JSON, or not an object), `missing_text` (no
text field, or null), `text_not_string`, `empty_text` (only whitespace), `missing_id` (no id field, null,
or not a string or integer), `duplicate_id` (an id seen before in the file: the first one is kept).
A file whose shape is wrong as a whole (a Parquet file without the text column) is an error, not a count.
"""
from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_assets.core.imports.staging import ImportFileError, ImportSpec, filesystem_of

SKIP_REASONS = ("malformed_line", "missing_text", "text_not_string", "empty_text", "missing_id", "duplicate_id")
EXAMPLES_PER_REASON = 5
PARQUET_BATCH_ROWS = 2000


@dataclass
class ImportedRecord:
    record_id: str
    text: str
    title: str | None
    url: str | None
    offset: int  # JSON Lines: byte offset of the line; Parquet: row number
    length: int  # JSON Lines: bytes of the line; Parquet: 1 (one row)


@dataclass
class ReadStats:
    records: int = 0
    skips: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> "line 7: ..." (the first few)

    def skip(self, reason: str, where: str, detail: str = "") -> None:
        self.skips[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(f"{where}{': ' + detail if detail else ''}")


def _valid_id(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _optional_string(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _http_url(value) -> str | None:
    return value if isinstance(value, str) and value.lower().startswith(("http://", "https://")) else None


class _Checker:
    """The per-record rules both formats share (ids seen so far, counts)."""

    def __init__(self, spec: ImportSpec, stats: ReadStats):
        self.spec, self.stats = spec, stats
        self.seen: set[str] = set()

    def check(self, record: dict, where: str, offset: int, length: int) -> ImportedRecord | None:
        text = record.get(self.spec.text_field)
        if text is None:
            self.stats.skip("missing_text", where, f"no {self.spec.text_field!r}")
            return None
        if not isinstance(text, str):
            self.stats.skip("text_not_string", where, f"{self.spec.text_field!r} is {type(text).__name__}")
            return None
        if not text.strip():
            self.stats.skip("empty_text", where)
            return None
        record_id = _valid_id(record.get(self.spec.id_field))
        if record_id is None:
            self.stats.skip("missing_id", where, f"{self.spec.id_field!r} is {record.get(self.spec.id_field)!r}"[:120])
            return None
        if record_id in self.seen:
            self.stats.skip("duplicate_id", where, f"id {record_id!r}"[:120])
            return None
        self.seen.add(record_id)
        return ImportedRecord(record_id, text, _optional_string(record.get("title")), _http_url(record.get("url")),
                              offset, length)


def open_input(uri: str):
    """A byte stream of a local path or an object-store URI (gzip by the file name)."""
    filesystem, path = filesystem_of(uri)
    compression = "gzip" if path.lower().endswith(".gz") else None
    return filesystem.open_input_stream(path, compression=compression)


def iter_jsonl(uri: str, spec: ImportSpec, stats: ReadStats) -> Iterator[ImportedRecord]:
    checker = _Checker(spec, stats)
    offset = 0
    with open_input(uri) as raw:
        stream = io.BufferedReader(raw, buffer_size=1 << 20)
        for number, line in enumerate(stream, 1):
            start, offset = offset, offset + len(line)
            content = line.rstrip(b"\r\n")
            if not content.strip():
                continue  # blank lines separate nothing in JSON Lines: not a record
            stats.records += 1
            where = f"line {number}"
            try:
                record = json.loads(content.decode("utf-8-sig" if number == 1 else "utf-8"))  # a BOM may lead
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                stats.skip("malformed_line", where, str(exc)[:120])
                continue
            if not isinstance(record, dict):
                stats.skip("malformed_line", where, f"a JSON {type(record).__name__}, not an object")
                continue
            row = checker.check(record, where, start, len(content))
            if row is not None:
                yield row


def parquet_schema(uri: str) -> pa.Schema:
    filesystem, path = filesystem_of(uri)
    return pq.read_schema(path, filesystem=filesystem)


def check_parquet_columns(uri: str, spec: ImportSpec, name: str | None = None) -> None:
    """The text and id columns exist and have usable types (one error line otherwise)."""
    schema = parquet_schema(uri)
    label = name or uri
    for role, column in (("text", spec.text_field), ("id", spec.id_field)):
        if column not in schema.names:
            raise ImportFileError(f"{label}: no column {column!r} for the {role} (columns: {', '.join(schema.names)}); "
                                  f"pass --{role}-field")
    text_type = schema.field(spec.text_field).type
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)
            or pa.types.is_string_view(text_type)):
        raise ImportFileError(f"{label}: column {spec.text_field!r} is {text_type}, not a string")
    id_type = schema.field(spec.id_field).type
    if not (pa.types.is_string(id_type) or pa.types.is_large_string(id_type) or pa.types.is_string_view(id_type)
            or pa.types.is_integer(id_type)):
        raise ImportFileError(f"{label}: column {spec.id_field!r} is {id_type}; ids must be strings or integers")


def iter_parquet(uri: str, spec: ImportSpec, stats: ReadStats) -> Iterator[ImportedRecord]:
    check_parquet_columns(uri, spec, spec.file_name)
    filesystem, path = filesystem_of(uri)
    parquet = pq.ParquetFile(path, filesystem=filesystem)
    columns = [c for c in dict.fromkeys([spec.id_field, spec.text_field, "title", "url"])
               if c in parquet.schema_arrow.names]
    checker = _Checker(spec, stats)
    row_number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
        for record in batch.to_pylist():
            stats.records += 1
            row = checker.check(record, f"row {row_number}", row_number, 1)
            row_number += 1
            if row is not None:
                yield row


def iter_records(uri: str, spec: ImportSpec, stats: ReadStats) -> Iterator[ImportedRecord]:
    """The usable records of the file at `uri` (the staged copy), in file order; `stats` counts the rest."""
    reader = iter_parquet if spec.format == "parquet" else iter_jsonl
    yield from reader(uri, spec, stats)


def preflight(uri: str, spec: ImportSpec, lines: int = 1000) -> None:
    """Fail in one line, before anything is written, when the file cannot be what was asked: a Parquet file
    without the columns, or JSON Lines whose first `lines` records have no text field at all."""
    if spec.format == "parquet":
        check_parquet_columns(uri, spec, spec.file_name)
        return
    objects, fields = 0, set[str]()
    with open_input(uri) as raw:
        for number, line in enumerate(io.BufferedReader(raw, buffer_size=1 << 20), 1):
            if number > lines:
                break
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(record, dict):
                if spec.text_field in record:
                    return
                objects += 1
                fields.update(record)
    if not objects:
        raise ImportFileError(f"{spec.file_name}: no JSON object in the first {lines} lines; is it JSON Lines?")
    raise ImportFileError(f"{spec.file_name}: no record among the first {lines} has the field {spec.text_field!r} "
                          f"(fields: {', '.join(sorted(fields)[:12])}); pass --text-field")
