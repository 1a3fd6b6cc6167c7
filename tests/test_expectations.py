"""Great Expectations suites (expectations/*.json) and their engine (core/expectations.py).

The suites must pass on the real bundled sample (materialized once per session by the
``sample_warehouse`` fixture), and a deliberately corrupted partition must fail the RIGHT
expectation - and only that one - naming the offending doc_id.
"""
import importlib.util
import json
import re
from pathlib import Path

import polars as pl
import pytest

from corpus_assets.cli.instance import documents_written, open_instance
from corpus_assets.core.checks import suites, validate
from corpus_assets.core.checks.cross_table import CUSTOM_CHECKS, check_corpus_traceability
from corpus_assets.core.checks.results import SAMPLE_SIZE, SuiteResult
from corpus_assets.core.checks.suites import SUITES_DIR, SuiteSettings, TABLES, _suite_text, check_name, load_suite, suite_spec
from corpus_assets.core.checks.report import format_results, write_report
from corpus_assets.core.checks.gx_engine import gx_runtime
from corpus_assets.core.checks.tables import list_partitions, read_table
from corpus_assets.core.checks.validate import validate_frame, validate_table
from corpus_assets.core.checks.warehouse import check_warehouse

ROOT = Path(__file__).resolve().parents[1]  # the repository
PARTITIONED = ["documents", "signals", "quality_scores", "decisions", "corpus"]


# ---------------------------------------------------------------------------------------------
# helpers / fixtures


def _generator():
    spec = importlib.util.spec_from_file_location("make_expectation_suites", ROOT / "scripts" / "make_expectation_suites.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def warehouse(sample_warehouse):
    return sample_warehouse


@pytest.fixture(scope="module")
def partition(warehouse):
    """The sample partition with the most corpus rows."""
    parts = list_partitions(warehouse, "corpus")
    return max(parts, key=lambda p: read_table(warehouse, "corpus", p, columns=["doc_id"]).height)


@pytest.fixture(scope="module")
def frames(warehouse, partition):
    return {t: read_table(warehouse, t, partition) for t in PARTITIONED}


def failing(result: SuiteResult) -> set[str]:
    return {o.name for o in result.failures}


def set_row(frame: pl.DataFrame, row: int, **values) -> pl.DataFrame:
    """``frame`` with the given column values replaced in one row (dtypes kept)."""
    mask = pl.int_range(pl.len()) == row
    return frame.with_columns([pl.when(mask).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
                               for c, v in values.items()])


def ctx(partition, **extra):
    return {"partition": partition, **extra}


# ---------------------------------------------------------------------------------------------
# the suite files


@pytest.mark.parametrize("table", TABLES)
def test_suite_files_load_as_gx_suites(table):
    import great_expectations as gx

    spec = suite_spec(table)
    suite = load_suite(table)
    assert isinstance(suite, gx.ExpectationSuite)
    assert suite.name == table
    assert len(suite.expectations) == len(spec["expectations"]) > 5
    # also loadable the plain GX way, and every check has a distinct name (usable as a check key)
    assert len(gx.ExpectationSuite(**json.loads((SUITES_DIR / f"{table}.json").read_text())).expectations) == len(spec["expectations"])
    names = [check_name(e) for e in spec["expectations"]] + list(SuiteSettings.of(spec).custom_checks)
    assert len(names) == len(set(names))
    assert set(SuiteSettings.of(spec).custom_checks) <= set(CUSTOM_CHECKS)


def test_suite_files_are_up_to_date_with_the_code():
    """expectations/*.json == what scripts/make_expectation_suites.py generates from SIGNAL_SCHEMA,
    DOCUMENTS_SCHEMA and the lid.176 labels (re-run the script after changing those)."""
    gen = _generator()
    for name, spec in gen.build_suites().items():
        assert (SUITES_DIR / f"{name}.json").read_text(encoding="utf-8") == gen.render(spec), \
            f"expectations/{name}.json is stale: run scripts/make_expectation_suites.py"


def test_signal_ranges_and_language_set_come_from_the_code():
    from corpus_assets.core.ingest.langid import LanguageIdentifier
    from corpus_assets.core.quality.signals import SIGNAL_SCHEMA

    spec = suite_spec("signals")
    ranged = {e["kwargs"]["column"]: e["kwargs"] for e in spec["expectations"]
              if e["type"] == "expect_column_values_to_be_between"}
    assert all(ranged[name]["min_value"] == 0 for name in SIGNAL_SCHEMA)
    fractions = [name for name in SIGNAL_SCHEMA if name.endswith("_frac") and "_top_" not in name]
    assert fractions and all(ranged[name]["max_value"] == 1 for name in fractions)
    lang_sets = [e["kwargs"]["value_set"] for e in suite_spec("documents")["expectations"]
                 if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "lang"]
    assert set(LanguageIdentifier().labels) <= set(lang_sets[0]) and len(lang_sets[0]) == 177


def _pii_patterns() -> list[str]:
    [exp] = [e for e in suite_spec("corpus")["expectations"]
             if e["type"] == "expect_column_values_to_not_match_regex_list"]
    return exp["kwargs"]["regex_list"]


def test_pii_patterns_stay_on_the_fast_regex_engine():
    # pandas runs a pattern on RE2 (pyarrow) unless it uses a feature RE2 lacks or treats differently
    for pattern in _pii_patterns():
        re.compile(pattern)
        assert not re.search(r"\\[sSdDwWbB]|(?<!\\)\$|\(\?<?[=!]", pattern), pattern


PII_POSITIVE = [
    "Kontakt:\nJan Koch\njan.koch@baumev.de\n",
    "Johnny Castro johnnycastro.asesor@larepublica.net | Viernes",
    "Schreiben Sie an info@example.de.",
    "Telefon +49 (0)40 / 49 07 11 06",
    "Tel.: (030) 78 95 47 78",
    "电话：021-54098575",
    "Call us: +44 20 7946 0958 today",
    "身份证号：110101199003077777",
    "credit card number: 4111 1111 1111 1111",
    "Spenden: IBAN DE89 3704 0044 0532 0130 00",
    "Fon\xa0 05191 979238",
]
PII_NEGATIVE = [
    "Kontakt: <EMAIL>, Tel. <PHONE>, Karte <CARD>, Ausweis <ID_NUMBER>",
    "git clone git@github.com:org/repo.git",
    "![logo](image@2x.png)",
    "订阅请发信到 debian-列表主题-request@lists.debian.org。",
    "Version 10.0.19041.1 released 2021-05-04, build 1234567890",
    "Preis 1.299,00 EUR, PLZ 10115, Jahr 2024",
    "see https://example.com/u/+49301234567/profile",
]


def test_pii_patterns_fire_on_pii_and_not_on_placeholders():
    patterns = [re.compile(p) for p in _pii_patterns()]
    for text in PII_POSITIVE:
        assert any(p.search(text) for p in patterns), text
    for text in PII_NEGATIVE:
        assert not any(p.search(text) for p in patterns), text


def test_pii_patterns_agree_with_the_masker():
    """Everything a pattern catches is something pii.mask_pii masks (so the corpus check never
    flags text the masker left alone on purpose)."""
    from corpus_assets.core.privacy.pii import mask_pii

    patterns = [re.compile(p) for p in _pii_patterns()]
    for text in PII_POSITIVE:
        masked, counts = mask_pii(text)
        assert sum(counts.values()) >= 1, text
        assert not any(p.search(masked) for p in patterns), (text, masked)


def test_pii_patterns_on_the_real_pii_snippets():
    """The PII fixture (real snippets of the sample crawl): no pattern fires on a masked snippet nor
    on a negative one (dates, versions, ISBNs ...); the patterns are conservative, not complete."""
    from corpus_assets.core.privacy.pii import mask_pii

    rows = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "pii" / "real_snippets.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    patterns = [re.compile(p) for p in _pii_patterns()]
    negatives = [row["text"] for row in rows if row["kind"] == "neg"]
    positives = [row["text"] for row in rows if row["kind"] != "neg"]
    assert len(negatives) >= 10 and len(positives) >= 10
    for text in negatives + positives:
        masked, _ = mask_pii(text)
        assert not any(p.search(masked) for p in patterns), masked
    assert not [text for text in negatives if any(p.search(text) for p in patterns)]
    assert sum(any(p.search(text) for p in patterns) for text in positives) >= 10


def test_load_suite_refuses_a_suite_gx_would_silently_shrink(tmp_path, monkeypatch):
    bad = {"name": "broken", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "doc_id"}},
        {"type": "expect_column_values_to_be_betwen", "kwargs": {"column": "doc_id"}},  # typo: GX drops it, only logs
    ]}
    (tmp_path / "broken.json").write_text(json.dumps(bad))
    monkeypatch.setattr(suites, "SUITES_DIR", tmp_path)
    _suite_text.cache_clear()
    try:
        with pytest.raises(ValueError, match="rejected"):
            load_suite("broken")
        with pytest.raises(FileNotFoundError):
            load_suite("no_such_table")
    finally:
        _suite_text.cache_clear()


# ---------------------------------------------------------------------------------------------
# every suite passes on the real sample


@pytest.fixture(scope="module")
def sample_results(warehouse):
    """``corpus check`` over the sample: every table, partition by partition, row counts from the instance."""
    return check_warehouse(warehouse, documents_written=documents_written(open_instance(str(warehouse))))


@pytest.mark.parametrize("table", PARTITIONED)
def test_suite_passes_on_every_sample_partition(sample_results, warehouse, table):
    results = [(part, result) for t, part, result in sample_results if t == table]
    assert [part for part, _ in results] == list_partitions(warehouse, table) and len(results) >= 2
    for part, result in results:
        assert result.success, (part, format_results([(table, part, result)]))
        assert not [o for o in result.outcomes if o.error]
        assert result.partition == part and result.row_count > 0
        skipped = {o.name for o in result.outcomes if o.skipped}
        # only the optional columns that do not exist yet may be skipped: partition checks and
        # cross-table checks all ran
        assert all(("text_hash" in s or "quality_score" in s) for s in skipped), skipped
        assert any(o.expectation_type == "custom_check" for o in result.outcomes) or table == "documents"


def test_whole_table_validation_passes(warehouse):
    for table in PARTITIONED:
        result = validate_table(warehouse, table)
        assert result.success, format_results([(table, None, result)])
        assert result.partition is None
        # without a partition the per-partition expectations are skipped, not failed
        assert any(o.skipped and "partition" in o.skipped for o in result.outcomes)


def test_check_warehouse_report(sample_results, tmp_path):
    text = format_results(sample_results)
    assert "documents" in text and "FAILED" not in text
    path = write_report(sample_results, tmp_path / "_reports")
    assert path == tmp_path / "_reports" / "expectations.html"
    page = path.read_text()
    assert page.startswith("<!doctype html>") and "expect_column_values_to_not_match_regex_list(text)" in page
    data = json.loads((tmp_path / "_reports" / "expectations.json").read_text())
    assert len(data) == len(sample_results)


# ---------------------------------------------------------------------------------------------
# corrupted partitions fail the right expectation


def test_lang_score_out_of_range(frames, partition):
    docs = set_row(frames["documents"], 3, lang_score=5.0)
    result = validate_frame("documents", docs, ctx(partition))
    assert not result.success
    assert failing(result) == {"expect_column_values_to_be_between(lang_score)"}
    outcome = result.outcome("expect_column_values_to_be_between", "lang_score")
    assert outcome.unexpected_count == 1 and outcome.unexpected_values == [5.0]
    assert outcome.unexpected_ids == [docs["doc_id"][3]]


def test_duplicated_doc_id(frames, partition):
    docs = frames["documents"]
    dup = pl.concat([docs, docs.slice(2, 1)])
    result = validate_frame("documents", dup, ctx(partition))
    assert failing(result) == {"expect_column_values_to_be_unique(doc_id)"}
    outcome = result.outcome("expect_column_values_to_be_unique(doc_id)")
    assert outcome.unexpected_count == 2 and outcome.unexpected_ids == [docs["doc_id"][2]]


def test_email_left_in_corpus_text(frames, partition):
    corpus = frames["corpus"]
    text = corpus["text"][1] + "\nSchreiben Sie an max.mustermann@example.de"
    bad = set_row(corpus, 1, text=text, n_chars=len(text))
    result = validate_frame("corpus", bad, ctx(partition))
    assert failing(result) == {"expect_column_values_to_not_match_regex_list(text)"}
    outcome = result.outcome("expect_column_values_to_not_match_regex_list(text)")
    assert outcome.unexpected_count == 1 and outcome.unexpected_ids == [corpus["doc_id"][1]]
    assert len(outcome.unexpected_values[0]) <= 120  # long texts are truncated in results


def test_text_checks_run_in_slices_over_every_row(frames, partition, monkeypatch):
    corpus = frames["corpus"]
    last = corpus.height - 1
    text = "Tel. +49 30 1234567\n" + corpus["text"][last]
    bad = set_row(corpus, last, text=text, n_chars=len(text))
    monkeypatch.setattr(validate, "BATCH_ROWS", 4)  # many batches: the hit is in the last one
    result = validate_frame("corpus", bad, ctx(partition))
    outcome = result.outcome("expect_column_values_to_not_match_regex_list(text)")
    assert failing(result) == {outcome.name}
    assert outcome.element_count == corpus.height and outcome.unexpected_count == 1
    assert outcome.unexpected_ids == [corpus["doc_id"][last]]
    assert result.outcome("expect_column_values_to_be_of_type(text)").success


def test_keep_with_a_drop_reason(frames, partition):
    decisions = set_row(frames["decisions"].sort("keep"), 0, keep=True)  # row 0 is a dropped document
    assert decisions["drop_reasons"][0].len() > 0
    result = validate_frame("decisions", decisions, ctx(partition))
    assert failing(result) == {"expect_column_values_to_be_in_set(keep_matches_drop_reasons)"}
    assert result.outcome("expect_column_values_to_be_in_set(keep_matches_drop_reasons)").unexpected_ids == \
        [decisions["doc_id"][0]]


def test_missing_config_hash(frames, partition):
    decisions = set_row(frames["decisions"], 0, filter_config_hash="")
    result = validate_frame("decisions", decisions, ctx(partition))
    assert failing(result) == {"expect_column_value_lengths_to_be_between(filter_config_hash)",
                               "expect_column_values_to_match_regex(filter_config_hash)",
                               "expect_column_unique_value_count_to_be_between(filter_config_hash)"}


def test_signal_out_of_range_and_null(frames, partition):
    signals = set_row(frames["signals"], 0, gopher_dup_line_frac=1.5, c4_sentence_count=None)
    result = validate_frame("signals", signals, ctx(partition))
    assert failing(result) == {"expect_column_values_to_be_between(gopher_dup_line_frac)",
                               "expect_column_values_to_not_be_null(c4_sentence_count)"}


def test_n_chars_inconsistent_with_text(frames, partition):
    docs = set_row(frames["documents"], 0, n_chars=frames["documents"]["n_chars"][0] + 1)
    result = validate_frame("documents", docs, ctx(partition))
    assert failing(result) == {"expect_column_values_to_be_in_set(n_chars_matches_text)"}


def test_lang_outside_the_model_labels_and_bad_url(frames, partition):
    docs = set_row(set_row(frames["documents"], 0, lang="xx"), 1, url="ftp://example.com/x")
    result = validate_frame("documents", docs, ctx(partition))
    assert failing(result) == {"expect_column_values_to_be_in_set(lang)", "expect_column_values_to_match_regex(url)"}


def test_missing_column_and_wrong_type(frames, partition):
    docs = frames["documents"].drop("lang_score").with_columns(pl.col("http_status").cast(pl.Int64))
    result = validate_frame("documents", docs, ctx(partition))
    assert failing(result) == {"expect_table_columns_to_match_set", "expect_column_values_to_be_of_type(lang_score)",
                               "expect_column_values_to_not_be_null(lang_score)",
                               "expect_column_values_to_be_between(lang_score)",
                               "expect_column_values_to_be_of_type(http_status)"}
    assert "missing" in result.outcome("expect_column_values_to_be_between(lang_score)").observed_value
    assert result.outcome("expect_column_values_to_be_of_type(http_status)").observed_value == "int64"


def test_rows_of_another_partition(frames, partition):
    other = {"crawl": partition["crawl"], "shard": "99999"}
    result = validate_frame("documents", frames["documents"], ctx(other))
    assert failing(result) == {"expect_column_values_to_be_in_set(shard)"}


def test_empty_partition_passes_only_when_the_writer_wrote_nothing(frames, partition):
    empty = frames["documents"].clear()
    explained = validate_frame("documents", empty, ctx(partition, expected_rows=0))
    assert explained.success and not explained.outcome("expect_table_row_count_to_equal").skipped
    missing = validate_frame("documents", empty, ctx(partition, expected_rows=3))
    assert failing(missing) == {"expect_table_row_count_to_equal"}
    assert missing.outcome("expect_table_row_count_to_equal").check == "row_count"
    unknown = validate_frame("documents", empty, ctx(partition))
    assert unknown.success and unknown.outcome("expect_table_row_count_to_equal").skipped
    for table in ("signals", "decisions"):  # empty downstream partitions follow their upstream one
        assert validate_frame(table, frames[table].clear(), ctx(partition),
                              others={"documents": empty, "signals": frames["signals"].clear()}).success


@pytest.mark.parametrize("table", TABLES)
def test_every_expectation_belongs_to_a_check_group(table):
    settings = SuiteSettings.of(suite_spec(table))
    groups = {group.name for group in settings.checks}
    assert "schema" in groups and any(group.blocking for group in settings.checks)
    assert {(e.get("meta") or {}).get("check") for e in suite_spec(table)["expectations"]} <= groups
    assert set(settings.custom_checks.values()) <= groups


def test_outcomes_carry_their_check_group(frames, partition):
    for table in PARTITIONED:
        groups = {group.name for group in SuiteSettings.of(suite_spec(table)).checks}
        result = validate_frame(table, frames[table], ctx(partition), others=frames)
        assert {outcome.check for outcome in result.outcomes} <= groups
        assert result.of_check("schema").outcomes and result.of_check("schema").success


def test_optional_corpus_columns(frames, partition):
    corpus = frames["corpus"].drop("text_hash", strict=False)
    skipped = validate_frame("corpus", corpus, ctx(partition))
    assert skipped.success and skipped.outcome("expect_column_values_to_be_unique(text_hash)").skipped
    hashes = pl.Series("text_hash", range(corpus.height), dtype=pl.Int64)
    good = corpus.with_columns(hashes)
    result = validate_frame("corpus", good, ctx(partition))
    assert result.success and not [o for o in result.outcomes if o.skipped and o.expectation_type != "custom_check"]
    bad = set_row(set_row(good, 1, text_hash=0), 2, quality_score=1.5)
    assert failing(validate_frame("corpus", bad, ctx(partition))) == {
        "expect_column_values_to_be_unique(text_hash)", "expect_column_values_to_be_between(quality_score)"}


def test_every_corpus_row_carries_its_quality_score(frames, partition):
    others = {"quality_scores": frames["quality_scores"]}
    assert validate_frame("corpus", frames["corpus"], ctx(partition), others=others).success
    bad = set_row(set_row(frames["corpus"], 0, model_version=None), 1, quality_score=0.123456)
    result = validate_frame("corpus", bad, ctx(partition), others=others)
    assert failing(result) == {"expect_column_values_to_not_be_null(model_version)", "rows_carry_their_quality_scores"}
    assert set(result.outcome("rows_carry_their_quality_scores").unexpected_ids) == set(bad["doc_id"][:2])


def test_quality_cut_and_scores_are_checked(frames, partition):
    decisions = frames["decisions"]
    cut = set_row(decisions, 0, quality_threshold=1.0, quality_rule="min_score=1")  # below it, but no drop reason
    assert failing(validate_frame("decisions", cut, ctx(partition))) == {"expect_column_values_to_be_in_set(quality_cut_matches_reason)"}
    no_rule = set_row(decisions, 0, quality_threshold=0.0)
    assert failing(validate_frame("decisions", no_rule, ctx(partition))) == {"expect_column_values_to_be_in_set(threshold_has_rule)"}
    scores = frames["quality_scores"]
    bad = set_row(set_row(scores, 0, quality_score=1.2), 1, quality_bucket=9 if scores["quality_bucket"][1] != 9 else 0)
    assert failing(validate_frame("quality_scores", bad, ctx(partition))) == {
        "expect_column_values_to_be_between(quality_score)", "expect_column_values_to_be_in_set(bucket_matches_score)"}


def test_many_failures_sample_at_most_ten_ids(frames, partition):
    docs = frames["documents"].with_columns(lang_score=pl.lit(2.0))
    outcome = validate_frame("documents", docs, ctx(partition)).outcome("expect_column_values_to_be_between(lang_score)")
    assert outcome.unexpected_count == docs.height > SAMPLE_SIZE
    assert len(outcome.unexpected_ids) == SAMPLE_SIZE and set(outcome.unexpected_ids) <= set(docs["doc_id"])


# ---------------------------------------------------------------------------------------------
# cross-table checks


def test_corpus_traceability(frames):
    corpus, documents, decisions = frames["corpus"], frames["documents"], frames["decisions"]
    assert check_corpus_traceability(corpus, documents, decisions).success
    moved = set_row(corpus, 0, warc_record_offset=corpus["warc_record_offset"][0] + 1)
    result = check_corpus_traceability(moved, documents, decisions)
    assert failing(result) == {"rows_trace_to_documents"}
    assert result.outcome("rows_trace_to_documents").unexpected_ids == [corpus["doc_id"][0]]
    dropped_id = decisions.filter(~pl.col("keep"))["doc_id"][0]
    stray = set_row(corpus, 0, doc_id=dropped_id)
    result = check_corpus_traceability(stray, documents, decisions)
    assert failing(result) == {"rows_trace_to_documents", "rows_are_kept_decisions"}
    assert result.outcome("rows_are_kept_decisions").unexpected_ids == [dropped_id]


def test_signals_must_cover_the_documents(frames, partition):
    signals = frames["signals"].slice(1)
    result = validate_frame("signals", signals, ctx(partition), others={"documents": frames["documents"]})
    assert failing(result) == {"doc_ids_match_documents"}
    assert result.outcome("doc_ids_match_documents").unexpected_ids == [frames["signals"]["doc_id"][0]]


def test_custom_checks_without_the_other_table_are_skipped(frames, partition):
    result = validate_frame("corpus", frames["corpus"], ctx(partition))
    assert result.success
    assert result.outcome("rows_trace_to_documents").skipped == "needs table documents"


# ---------------------------------------------------------------------------------------------
# dedup clusters (table not built yet: a hand-made frame)


def _clusters() -> pl.DataFrame:
    rows = [  # doc, cluster, size, kept, kind
        ("d1", "d1", 3, True, "fuzzy"), ("d2", "d1", 3, False, "fuzzy"), ("d3", "d1", 3, False, "fuzzy"),
        ("d4", "d4", 2, False, "fuzzy"), ("d5", "d4", 2, True, "fuzzy"),
        ("d1", "h9", 2, True, "exact"), ("d6", "h9", 2, False, "exact"),
        ("d7", None, None, True, "url"),  # not in any cluster
    ]
    return pl.DataFrame(rows, schema={"doc_id": pl.String, "cluster_id": pl.String, "cluster_size": pl.Int64,
                                      "is_kept": pl.Boolean, "dedup_kind": pl.String}, orient="row") \
        .with_columns(url=pl.lit("https://example.com/") + pl.col("doc_id"))


def test_dedup_clusters_pass():
    result = validate_frame("dedup_clusters", _clusters())
    assert result.success, format_results([("dedup_clusters", None, result)])
    assert result.outcome("doc_ids_exist_in_documents").skipped


def test_dedup_cluster_with_two_kept_rows():
    clusters = _clusters().with_columns(is_kept=pl.when(pl.col("doc_id") == "d2").then(True).otherwise("is_kept"))
    result = validate_frame("dedup_clusters", clusters)
    assert failing(result) == {"expect_column_values_to_be_between(n_kept)"}
    outcome = result.outcome("expect_column_values_to_be_between(n_kept)")
    assert outcome.frame == "clusters" and outcome.unexpected_ids == ["d1"] and outcome.unexpected_values == [2]


def test_dedup_cluster_size_must_match_members():
    clusters = _clusters().filter(pl.col("doc_id") != "d3")  # cluster d1 now has 2 rows but says 3
    result = validate_frame("dedup_clusters", clusters)
    assert failing(result) == {"expect_column_pair_values_to_be_equal(cluster_size_min, n_members)",
                               "expect_column_pair_values_to_be_equal(cluster_size_max, n_members)"}
    assert result.outcome("expect_column_pair_values_to_be_equal(cluster_size_min, n_members)").unexpected_ids == ["d1"]


def test_dedup_doc_ids_exist_in_documents():
    documents = pl.DataFrame({"doc_id": [f"d{i}" for i in range(1, 7)]})
    result = validate_frame("dedup_clusters", _clusters(), others={"documents": documents})
    assert failing(result) == {"doc_ids_exist_in_documents"}
    assert result.outcome("doc_ids_exist_in_documents").unexpected_ids == ["d7"]


# ---------------------------------------------------------------------------------------------
# result format


def test_result_metadata_and_rows(frames, partition):
    docs = set_row(frames["documents"], 0, lang_score=-1.0)
    result = validate_frame("documents", docs, ctx(partition))
    meta = result.to_metadata()
    json.dumps(meta)  # JSON-serialisable as is
    assert meta["success"] is False and meta["failed"] == 1
    assert meta["failed_checks"] == ["expect_column_values_to_be_between(lang_score)"]
    [failed] = [r for r in meta["results"] if r["status"] == "failed"]
    assert failed["unexpected_ids"] == [docs["doc_id"][0]] and failed["column"] == "lang_score"
    assert failed["kwargs"] == {"column": "lang_score", "min_value": 0.0, "max_value": 1.0}
    assert len(meta["results"]) == len(result.outcomes)
    assert len(result.to_metadata(include_passed=False)["results"]) == 1
    rows = result.to_rows(only_failures=True)
    assert rows == [{"check": "language/expect_column_values_to_be_between(lang_score)", "status": "failed",
                     "observed": "e.g. -1.0", "unexpected": f"1/{docs.height}", "sample_ids": docs["doc_id"][0]}]
    assert "FAILED" in format_results([("documents", partition, result)])


def test_gx_context_is_created_once_per_process():
    first = gx_runtime()
    assert gx_runtime() is first
    assert type(first.context).__name__ == "EphemeralDataContext"
    assert first.setup_seconds >= first.import_seconds >= 0  # the setup time it reports includes the import
