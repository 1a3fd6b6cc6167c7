"""`corpus import`'s pure parts: partition keys, the import spec, the JSONL / Parquet reader and its skip
counts, the documents rows of an imported record. Real files written to tmp_path; no Dagster."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_assets.core.imports.documents import imported_doc_id, iter_import_documents
from corpus_assets.core.imports.keys import ImportShard, check_source_name, is_import_key, parse_import_key
from corpus_assets.core.imports.reader import ReadStats, iter_records, preflight
from corpus_assets.core.imports.staging import ImportFileError, make_spec, read_spec, stage, staged_file
from corpus_assets.core.ingest.documents import DOCUMENTS_SCHEMA, ShardStats
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.package_data import bundled_synthetic_qa, package_path

REFERENCE = package_path("data", "reference", "wikitext-2-valid-excerpt.jsonl")


def reference_records(n: int) -> list[dict]:
    return [json.loads(line) for line in REFERENCE.read_text(encoding="utf-8").splitlines()[:n]]


def write_messy_jsonl(path) -> list[str]:
    """Real texts plus one line of each problem; returns the ids that must come through."""
    good = reference_records(4)
    lines = [json.dumps(good[0]), "",  # a blank line is no record
             '{"id": "broken", "text": "unterminated',  # malformed_line
             json.dumps(["a", "list"]),  # malformed_line: not an object
             json.dumps({"id": "no-text", "title": "x"}),  # missing_text
             json.dumps({"id": "null-text", "text": None}),  # missing_text
             json.dumps({"id": "int-text", "text": 42}),  # text_not_string
             json.dumps({"id": "blank", "text": "  \n\t "}),  # empty_text
             json.dumps({"text": good[1]["text"]}),  # missing_id
             json.dumps({"id": True, "text": good[1]["text"]}),  # missing_id: a boolean is no id
             json.dumps(good[1]), json.dumps(good[2]),
             json.dumps({**good[3], "id": good[1]["id"]}),  # duplicate_id: the first one stays
             json.dumps({"id": 7, "text": good[3]["text"], "url": "https://en.wikipedia.org/wiki/Lobster"})]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bad-utf8", "text": "\xff\xfe"}\n')
    return [good[0]["id"], good[1]["id"], good[2]["id"], "7"]


def test_import_keys_name_the_source_and_the_file_hash():
    shard = ImportShard("books", "0123456789abcdef")
    assert shard.key == "import-books/0123456789abcdef" and shard.crawl == "import-books"
    assert parse_import_key(shard.key) == shard and is_import_key(shard.key)
    assert not is_import_key("CC-MAIN-2024-22/00003")
    for bad in ("import-books/xyz", "import-Books/0123456789abcdef", "import-/0123456789abcdef",
                "import-books/0123456789abcdef/1"):
        with pytest.raises(ValueError):
            parse_import_key(bad)
    for bad in ("", "Upper", "with space", "common-crawl", "-dash", "a" * 65, "quote'd"):
        with pytest.raises(ValueError):
            check_source_name(bad)


def test_every_unused_jsonl_record_is_counted_by_reason(tmp_path):
    path = tmp_path / "messy.jsonl"
    expected_ids = write_messy_jsonl(path)
    spec = make_spec(path, "messy")
    stats = ReadStats()
    records = list(iter_records(str(path), spec, stats))
    assert [r.record_id for r in records] == expected_ids
    assert dict(stats.skips) == {"malformed_line": 3, "missing_text": 2, "text_not_string": 1, "empty_text": 1,
                                 "missing_id": 2, "duplicate_id": 1}
    assert stats.records == len(records) + sum(stats.skips.values()) == 14  # the blank line is not a record
    assert stats.examples["malformed_line"][0].startswith("line 3: ")
    assert stats.examples["duplicate_id"] == [f"line 13: id {expected_ids[1]!r}"]
    assert stats.examples["malformed_line"][-1].startswith("line 15: ")  # invalid UTF-8
    # offsets locate each record's line in the file
    raw = path.read_bytes()
    for record in records:
        line = json.loads(raw[record.offset: record.offset + record.length])
        assert str(line["id"]) == record.record_id and line["text"] == record.text
    assert records[-1].url == "https://en.wikipedia.org/wiki/Lobster" and records[0].url is None
    assert records[0].title == reference_records(1)[0]["title"]


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a", "text": "first"}\r\n{"id": "b", "text": "second"}\r\n')
    stats = ReadStats()
    assert [(r.record_id, r.text) for r in iter_records(str(path), make_spec(path, "x"), stats)] == [
        ("a", "first"), ("b", "second")]
    assert not stats.skips


def test_parquet_records_nulls_duplicates_and_integer_ids(tmp_path):
    good = reference_records(3)
    table = pa.table({"section": [1, 2, None, 2, 3], "body": [good[0]["text"], good[1]["text"], good[2]["text"],
                                                                "a later row with a used id", None]})
    path = tmp_path / "sections.parquet"
    pq.write_table(table, path)
    spec = make_spec(path, "wiki", text_field="body", id_field="section")
    stats = ReadStats()
    records = list(iter_records(str(path), spec, stats))
    assert [(r.record_id, r.offset, r.length) for r in records] == [("1", 0, 1), ("2", 1, 1)]
    assert dict(stats.skips) == {"missing_id": 1, "duplicate_id": 1, "missing_text": 1} and stats.records == 5
    with pytest.raises(ImportFileError, match="no column 'text'.*--text-field"):
        preflight(str(path), make_spec(path, "wiki", id_field="section"))
    pq.write_table(pa.table({"id": ["a"], "text": [3]}), tmp_path / "numbers.parquet")
    with pytest.raises(ImportFileError, match="'text' is int64, not a string"):
        preflight(str(tmp_path / "numbers.parquet"), make_spec(tmp_path / "numbers.parquet", "wiki"))


def test_preflight_names_the_fields_a_jsonl_file_has(tmp_path):
    path = tmp_path / "body.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "body": r["text"]}) + "\n" for r in reference_records(3)))
    with pytest.raises(ImportFileError, match=r"no record among the first 1000 has the field 'text' \(fields: body, id\)"):
        preflight(str(path), make_spec(path, "x"))
    preflight(str(path), make_spec(path, "x", text_field="body"))
    (tmp_path / "notjson.jsonl").write_text("plain text\nmore text\n")
    with pytest.raises(ImportFileError, match="no JSON object"):
        preflight(str(tmp_path / "notjson.jsonl"), make_spec(tmp_path / "notjson.jsonl", "x"))


@pytest.mark.parametrize("kwargs, message", [
    ({"synthetic": True}, "--synthetic needs --generator"),
    ({"generator": "gpt"}, "--generator is only for a synthetic source"),
    ({"source": "Bad Name"}, "source name 'Bad Name'"),
    ({"source": "common-crawl"}, "reserved for the crawled documents"),
    ({"text_field": "id"}, "both 'id'"),
])
def test_import_requests_that_make_no_sense_are_refused(tmp_path, kwargs, message):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1, "text": "x"}\n')
    with pytest.raises(ImportFileError, match=message):
        make_spec(path, **{"source": "ok", **kwargs})


def test_unknown_or_missing_files_are_refused(tmp_path):
    (tmp_path / "a.csv").write_text("id,text\n")
    with pytest.raises(ImportFileError, match="unknown file type"):
        make_spec(tmp_path / "a.csv", "x")
    with pytest.raises(ImportFileError, match="no such file"):
        make_spec(tmp_path / "missing.jsonl", "x")


def test_staging_copies_the_file_and_its_settings_into_the_warehouse(tmp_path):
    spec = make_spec(bundled_synthetic_qa(), "synthetic-qa", synthetic=True, generator="templated-qa-v1")
    warehouse = str(tmp_path / "warehouse")
    uri = stage(warehouse, bundled_synthetic_qa(), spec)
    assert uri == staged_file(warehouse, spec) and open(uri, "rb").read() == bundled_synthetic_qa().read_bytes()
    assert read_spec(warehouse, spec.shard) == spec
    assert spec.key == f"import-synthetic-qa/{spec.file_sha256[:16]}"
    with pytest.raises(ImportFileError, match="no .*import.json; import the file again"):
        read_spec(warehouse, ImportShard("synthetic-qa", "0" * 16))
    # the same bytes under another name, or imported again, name the same partition
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(bundled_synthetic_qa().read_bytes())
    assert make_spec(copy, "synthetic-qa", synthetic=True, generator="templated-qa-v1").key == spec.key


def test_documents_rows_of_an_imported_file(tmp_path):
    path = tmp_path / "messy.jsonl"
    ids = write_messy_jsonl(path)
    spec = make_spec(path, "messy")
    stats, read = ShardStats(), ReadStats()
    batches = list(iter_import_documents(str(path), spec, stats, read, LanguageIdentifier(), batch_rows=2))
    table = pa.Table.from_batches(batches)
    assert table.schema == DOCUMENTS_SCHEMA and table.num_rows == stats.documents == 4
    assert stats.records_read == 14 and sum(stats.skips.values()) == 10
    rows = table.to_pylist()
    assert [row["doc_id"] for row in rows] == [imported_doc_id(spec, i) for i in ids]
    assert {row["crawl"] for row in rows} == {"import-messy"} and {row["shard"] for row in rows} == {spec.shard.file_hash}
    assert {row["lang"] for row in rows} == {"en"} and all(row["n_chars"] == len(row["text"]) for row in rows)
    assert {row["extractor"] for row in rows} == {"import"} and {row["warc_path"] for row in rows} == {"messy.jsonl"}
    assert rows[-1]["url_host"] == "en.wikipedia.org" and rows[0]["url"] is None and rows[0]["url_host"] == ""
    # ids are per source and file: another file's record with the same id is another document
    other = make_spec(bundled_synthetic_qa(), "messy")
    assert imported_doc_id(other, ids[0]) != imported_doc_id(spec, ids[0])


def test_a_table_written_before_the_origin_columns_gains_them(tmp_path):
    """An existing warehouse's corpus (no source/synthetic/generator) takes a partition with them; the
    partitions not republished yet read them as null."""
    import polars as pl

    from corpus_assets.core.imports.origin import with_origin
    from corpus_assets.core.imports.staging import CRAWLED_ORIGIN
    from corpus_assets.core.lake.delta_tables import replace_partition_frame

    uri = str(tmp_path / "corpus")
    old = pl.DataFrame({"doc_id": ["a", "b"], "crawl": ["C", "C"], "shard": ["00000", "00001"], "text": ["x", "y"]})
    replace_partition_frame(uri, old.filter(pl.col("shard") == "00000"), {"crawl": "C", "shard": "00000"})
    replace_partition_frame(uri, old.filter(pl.col("shard") == "00001"), {"crawl": "C", "shard": "00001"})
    new = with_origin(old.filter(pl.col("shard") == "00001"), CRAWLED_ORIGIN)
    replace_partition_frame(uri, new, {"crawl": "C", "shard": "00001"})
    rows = pl.read_delta(uri).sort("doc_id")
    assert rows.select("doc_id", "source", "synthetic", "generator").rows() == [
        ("a", None, None, None), ("b", "common-crawl", False, None)]
