"""Records of an imported file → rows of the `documents` table, like a crawled shard's.

Imported rows have no HTTP response: `url` is the record's `url` field when it is an http(s) URL (the
page the text, or what it was generated from, came from) and null otherwise; `warc_path` is the file's
name and `warc_record_offset`/`warc_record_length` locate the record in it (bytes of the line in JSON
Lines, the row number and 1 in Parquet); `fetch_time` and `http_status` are null; `extractor` and
`charset_source` are `import`. The language is identified as for crawled pages (lid.176).
"""
from __future__ import annotations

import hashlib
from typing import Iterator

import pyarrow as pa

from corpus_assets.core.imports.reader import ImportedRecord, ReadStats, iter_records
from corpus_assets.core.imports.staging import ImportSpec
from corpus_assets.core.ingest.documents import DOCUMENTS_SCHEMA, ShardStats
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.urls import url_host

IMPORT_EXTRACTOR = "import"
CONTENT_TYPES = {"jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}


def imported_doc_id(spec: ImportSpec, record_id: str) -> str:
    """128-bit id of a record of this file: its source, the file's hash and its id (ids are unique within a
    file; two versions of a file never share a doc_id, and their equal texts cluster as exact duplicates)."""
    return hashlib.blake2b(f"import\x1f{spec.source}\x1f{spec.file_sha256}\x1f{record_id}".encode(),
                           digest_size=16).hexdigest()


def record_row(record: ImportedRecord, spec: ImportSpec, langid: LanguageIdentifier) -> dict:
    lang, lang_score = langid.predict(record.text)
    return {
        "doc_id": imported_doc_id(spec, record.record_id),
        "url": record.url,
        "url_host": url_host(record.url),
        "crawl": spec.shard.crawl,
        "shard": spec.shard.file_hash,
        "warc_path": spec.file_name,
        "warc_record_offset": record.offset,
        "warc_record_length": record.length,
        "fetch_time": None,
        "http_status": None,
        "content_type": CONTENT_TYPES[spec.format],
        "charset": "utf-8",
        "charset_source": IMPORT_EXTRACTOR,
        "extractor": IMPORT_EXTRACTOR,
        "title": record.title,
        "text": record.text,
        "lang": lang,
        "lang_score": lang_score,
        "n_chars": len(record.text),
    }


def iter_import_documents(uri: str, spec: ImportSpec, stats: ShardStats, read: ReadStats,
                          langid: LanguageIdentifier, batch_rows: int = 2000) -> Iterator[pa.RecordBatch]:
    """`documents` rows of the staged file at `uri`, in record batches; `stats` and `read` count as they go
    (`stats.skips` gets the reader's reasons)."""
    rows: list[dict] = []
    stats.files = 1
    for record in iter_records(uri, spec, read):
        row = record_row(record, spec, langid)
        stats.documents += 1
        stats.languages[row["lang"]] += 1
        rows.append(row)
        if len(rows) >= batch_rows:
            yield pa.RecordBatch.from_pylist(rows, schema=DOCUMENTS_SCHEMA)
            rows = []
        stats.records_read, stats.skips = read.records, read.skips
    stats.records_read, stats.skips = read.records, read.skips
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=DOCUMENTS_SCHEMA)
