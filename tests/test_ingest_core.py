"""Pure ingest functions on real sample records and crafted bad input."""
import gzip
from collections import Counter

import pytest

from corpus_assets.core.ingest.ccsource import CrawlSource, SourceError
from corpus_assets.core.ingest.charset import decode_html
from corpus_assets.core.ingest.documents import DocumentSettings, ShardStats, iter_shard_documents, record_to_row
from corpus_assets.core.ingest.extract import extract_main_text
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.ingest.shards import Shard, parse_shard_key, plan_shards
from corpus_assets.core.ingest.warc_reader import WarcDamaged, iter_records
from warc_fixtures import SAMPLE, sample_files, warc_response, write_crawl


def test_shard_keys_round_trip_and_plan():
    shards = plan_shards("CC-MAIN-2024-22", 250, 100)
    assert [s.key for s in shards] == ["CC-MAIN-2024-22/00000-00099", "CC-MAIN-2024-22/00100-00199",
                                       "CC-MAIN-2024-22/00200-00249"]
    assert all(parse_shard_key(s.key) == s for s in shards)
    assert parse_shard_key("CC-SAMPLE-2026-03/00003") == Shard("CC-SAMPLE-2026-03", 3, 3)
    for bad in ["CC-MAIN", "CC/abc", "CC/00005-00001", "a b/00001"]:
        with pytest.raises(ValueError):
            parse_shard_key(bad)
    with pytest.raises(ValueError):
        Shard("X", 0, 9).select(["a", "b"])


def test_source_lists_crawls_and_files_of_the_bundled_sample():
    source = CrawlSource(f"file://{SAMPLE}")
    assert [c["id"] for c in source.list_crawls()] == ["CC-SAMPLE-2026-07", "CC-SAMPLE-2026-03"]
    files = source.list_files("CC-SAMPLE-2026-03")
    assert len(files) == 4 and all(f.startswith("crawl-data/CC-SAMPLE-2026-03/segments/") for f in files)
    with source.open(files[0]) as stream:
        assert stream.read(2) == b"\x1f\x8b"  # a gzip member, streamed
    with pytest.raises(SourceError, match="NO-SUCH-CRAWL"):
        source.list_files("NO-SUCH-CRAWL")
    with pytest.raises(SourceError, match="not found"):
        CrawlSource("/no/such/folder")
    with pytest.raises(SourceError, match="scheme"):
        CrawlSource("ftp://example.org/cc")


def test_records_carry_offsets_that_address_the_gzip_member():
    path = sample_files("CC-SAMPLE-2026-03")[0]
    records = list(iter_records(open(path, "rb"), local_path=str(path)))
    assert len(records) == 108 and all(r.http_status == 200 for r in records)
    data = path.read_bytes()
    for record in records[:5] + records[-2:]:
        member = gzip.decompress(data[record.offset: record.offset + record.length])
        assert member.startswith(b"WARC/1.0") and record.url.encode() in member


def test_truncated_file_yields_records_before_the_damage(tmp_path):
    path = sample_files("CC-SAMPLE-2026-03")[1]
    whole = list(iter_records(open(path, "rb")))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    read = []
    with pytest.raises(WarcDamaged, match="truncated|digest"):
        for record in iter_records(open(cut, "rb"), local_path=str(cut)):
            read.append(record)
    assert 0 < len(read) < len(whole)
    assert [r.url for r in read] == [r.url for r in whole[: len(read)]]


def test_corrupt_bytes_stop_the_file_with_an_error(tmp_path):
    path = sample_files("CC-SAMPLE-2026-03")[2]
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle: middle + 4000] = bytes(4000)
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(WarcDamaged):
        list(iter_records(open(bad, "rb"), local_path=str(bad)))


def test_lying_charset_header_is_not_believed():
    german = "<html><body><p>Grüße aus Köln – schöne Straße</p></body></html>"
    # header claims UTF-8 but the bytes are Windows-1252: strict decode fails, meta/detection decide
    decoded = decode_html(german.encode("cp1252"), "text/html; charset=utf-8")
    assert decoded is not None and "Grüße aus Köln" in decoded.text and decoded.charset_source != "header"
    # header claims Latin-1 but the bytes are UTF-8 (the commonest lie)
    decoded = decode_html(german.encode("utf-8"), "text/html; charset=iso-8859-1")
    assert decoded.text.count("Grüße") == 1 and decoded.charset_source == "utf8_override"
    chinese = "<html><head><meta charset='gbk'></head><body><p>这是一个中文网页，用来测试字符集。</p></body></html>"
    decoded = decode_html(chinese.encode("gbk"), "text/html; charset=utf-8")
    assert "中文网页" in decoded.text and decoded.charset_source == "meta"
    decoded = decode_html(chinese.encode("gbk"), "text/html")  # no header: the meta tag decides
    assert "中文网页" in decoded.text


def test_real_gb2312_and_windows_1251_pages_decode():
    texts = [decode_html(r.payload, r.content_type) for path in sample_files("CC-SAMPLE-2026-03")
             for r in iter_records(open(path, "rb")) if "gb2312" in r.content_type.lower() or "1251" in r.content_type]
    assert len(texts) >= 2
    assert all(t is not None and t.text.count("\ufffd") == 0 for t in texts)


def test_skips_are_counted_by_reason(tmp_path):
    html = "<html><head><title>Hallo</title></head><body><article><p>" + "Ein echter Absatz mit Inhalt. " * 20 + "</p></article></body></html>"
    write_crawl(tmp_path, "CC-TEST", {"f.warc.gz": b"".join([
        warc_response("https://a.example/ok", html.encode()),
        warc_response("https://a.example/missing", b"<html>gone</html>", status=404),
        warc_response("https://a.example/logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        warc_response("https://a.example/empty", b"<html><body></body></html>"),
        warc_response("https://a.example/huge", b"<html>" + b"x" * 3000 + b"</html>"),
        warc_response("xhttps://a.example/mangled", html.encode()),
    ])})
    source = CrawlSource(str(tmp_path))
    stats = ShardStats()
    batches = list(iter_shard_documents(source, Shard("CC-TEST", 0, 0), source.list_files("CC-TEST"),
                                        DocumentSettings(max_payload_bytes=2048), stats, LanguageIdentifier()))
    rows = [row for batch in batches for row in batch.to_pylist()]
    assert [r["url"] for r in rows] == ["https://a.example/ok"]
    assert rows[0]["title"] == "Hallo" and rows[0]["lang"] == "de" and rows[0]["n_chars"] == len(rows[0]["text"])
    assert stats.records_read == 6 and stats.documents == 1
    assert dict(stats.skips) == {"http_status": 1, "not_html": 1, "empty_text": 1, "too_large": 1, "bad_url": 1}


def test_extractors_find_main_text_and_title():
    path = sample_files("CC-SAMPLE-2026-03")[0]
    record = next(r for r in iter_records(open(path, "rb")) if "debian" not in r.url)
    html = decode_html(record.payload, record.content_type).text
    for extractor in ("resiliparse", "trafilatura"):
        title, text = extract_main_text(html, extractor)
        assert len(text) > 200 and "<div" not in text
    with pytest.raises(ValueError):
        extract_main_text(html, "nope")


def test_language_identifier_uses_the_bundled_lid176():
    lid = LanguageIdentifier()
    assert len(lid.labels) == 176
    assert lid.predict("Der schnelle braune Fuchs springt über den faulen Hund.")[0] == "de"
    assert lid.predict("这是一个用于测试语言识别的中文句子。")[0] == "zh"
    lang, score = lid.predict("")
    assert (lang, score) == ("und", 0.0)


def test_wet_records_become_documents():
    from warc_fixtures import REPO
    wet = REPO / "tests" / "fixtures" / "whirlwind.warc.wet.gz"
    records = list(iter_records(open(wet, "rb"), "wet", local_path=str(wet)))
    assert len(records) == 1 and records[0].http_status is None
    row, skip = record_to_row(records[0], Shard("CC-MAIN-2024-22", 0, 0), "x.wet.gz", DocumentSettings(record_format="wet"),
                              LanguageIdentifier())
    assert skip is None and row["extractor"] == "wet" and row["lang"] in ("an", "es") and row["n_chars"] > 500


def test_edge_trimming_drops_menus_but_not_cjk_paragraphs():
    from corpus_assets.core.ingest.extract import trim_edges

    text = "Home\nNews › Politik\nDer erste Absatz ist ein ganzer Satz mit Inhalt.\n这是新闻文章的最后一段，讲述了很多重要的事情，没有句号结尾但它是正文的一部分内容啊\nImpressum"
    assert trim_edges(text) == ("Der erste Absatz ist ein ganzer Satz mit Inhalt.\n"
                                "这是新闻文章的最后一段，讲述了很多重要的事情，没有句号结尾但它是正文的一部分内容啊")
    assert trim_edges("「引用の段落」") == "「引用の段落」"


@pytest.mark.parametrize("langid_batch", [1, 7])
def test_languages_identified_in_batches_give_each_record_its_own_row(monkeypatch, langid_batch):
    """Rows are extracted first and language-identified LANGID_BATCH at a time; every row, its language and the
    counts are those of record_to_row, record by record, across batch, row-batch and file boundaries."""
    from corpus_assets.core.ingest import documents

    source = CrawlSource(f"file://{SAMPLE}")
    files = source.list_files("CC-SAMPLE-2026-03")[:2]
    shard, settings, langid = Shard("CC-SAMPLE-2026-03", 0, 1), DocumentSettings(batch_rows=50), LanguageIdentifier()
    expected = []
    for warc_path in files:
        with source.open(warc_path) as stream:
            for record in iter_records(stream):
                row, _ = record_to_row(record, shard, warc_path, settings, langid)
                expected += [row] if row else []
    monkeypatch.setattr(documents, "LANGID_BATCH", langid_batch)
    stats = ShardStats()
    batches = list(iter_shard_documents(source, shard, files, settings, stats, langid))
    rows = [row for batch in batches for row in batch.to_pylist()]
    assert len(expected) > 100 and {len(batch) for batch in batches[:-1]} == {50}
    assert [(r["doc_id"], r["lang"], r["lang_score"], r["text"]) for r in rows] == \
           [(r["doc_id"], r["lang"], r["lang_score"], r["text"]) for r in expected]
    assert stats.languages == Counter(r["lang"] for r in expected) and stats.documents == len(expected)
