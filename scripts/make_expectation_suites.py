"""Generate the Great Expectations suites in ``expectations/*.json`` from the code they guard.

    .venv/bin/python scripts/make_expectation_suites.py          # rewrite expectations/*.json
    .venv/bin/python scripts/make_expectation_suites.py --check  # exit 1 if a file is out of date

The JSON files are the reviewable artefact (GX 1.x ``ExpectationSuite`` JSON, loaded by
``corpus_assets.core.expectations.load_suite``); this script only saves typing and keeps
them in step with the code: column types come from ``DOCUMENTS_SCHEMA`` / ``SIGNAL_SCHEMA``,
the language set from the lid.176 model's labels, signal ranges from ``SIGNAL_SCHEMA``
names, PII count columns from ``pii.PII_TYPES``.  Edit this script, re-run it, review the
JSON diff.

Engine settings live next to GX's own keys (GX ignores them):

* suite ``meta.corpus_assets``: ``index_column`` (id reported for failing rows),
  ``text_columns`` (validated in row chunks, dropped from every other batch),
  ``derived_columns`` (``name: Polars SQL expression`` added before validation),
  ``derived_frames`` (``name: {sql, index_column}``: a Polars SQL query over the table,
  ``FROM self``), ``custom_checks`` (named cross-table checks of the engine);
* expectation ``meta``: ``frame`` (a derived frame instead of the table rows),
  ``requires`` (context flags: ``expect_rows``, ``partition``), ``optional`` (skip, not fail,
  when a column it names is absent).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import polars as pl  # noqa: E402

from corpus_assets.core.imports.documents import IMPORT_EXTRACTOR  # noqa: E402
from corpus_assets.core.imports.keys import COMMON_CRAWL_SOURCE, IMPORT_PREFIX  # noqa: E402
from corpus_assets.core.imports.origin import ORIGIN_SCHEMA  # noqa: E402
from corpus_assets.core.ingest.documents import DOCUMENTS_SCHEMA  # noqa: E402
from corpus_assets.core.ingest.langid import LanguageIdentifier  # noqa: E402
from corpus_assets.core.mixtures.select import ROW_SCHEMA as MIXTURE_ROW_SCHEMA, SHARE_TOLERANCE  # noqa: E402
from corpus_assets.core.privacy.pii import PII_TYPES  # noqa: E402
from corpus_assets.core.quality.signals import SIGNAL_SCHEMA  # noqa: E402
from corpus_assets.core.scoring.ratings_table import MAX_RATER_CHARS  # noqa: E402
from corpus_assets.core.scoring.registry import QUALITY_MODELS_SCHEMA  # noqa: E402
from corpus_assets.core.scoring.sheets import MAX_RATING, MIN_RATING, RATINGS_SCHEMA  # noqa: E402

OUT_DIR = ROOT / "corpus_assets" / "expectations"

# lid.176 labels plus the identifier's own fallback for text with no letters at all
UNDETERMINED_LANG = "und"
DOC_ID_REGEX = r"^[0-9a-f]{32}$"
URL_REGEX = r"^https?://"
# numpy integer dtypes + pandas' nullable ones (an integer column with nulls converts to those)
INT_TYPES = [*(f"{u}int{b}" for u in ("", "u") for b in (8, 16, 32, 64)),
             *(f"{u}Int{b}Dtype" for u in ("", "U") for b in (8, 16, 32, 64))]
PII_COUNT_COLUMNS = [f"pii_{kind}_count" for kind in PII_TYPES]

# ---------------------------------------------------------------------------------------------
# PII patterns for the corpus text.  Deliberately conservative: each one only fires on a shape
# that corpus_assets.core.privacy.pii *does* mask (so a hit means masking was skipped or regressed),
# never on the typed placeholders (<EMAIL>, <PHONE>, <ID_NUMBER>, <CARD>) and not on the cases
# pii.py leaves alone on purpose (git@github.com:..., "-request@" list addresses, image@2x.png,
# numbers inside URLs, unverified bare digit runs).
# Syntax: the subset that Python `re` and RE2 agree on AND that pandas runs on RE2 (its pyarrow
# string engine): no look-arounds, no \s \d \w \b and no `$` - pandas falls back to Python `re`
# for those (about 25x slower on a 170 MB text column).  End of text is spelled \Z (pandas
# rewrites it to RE2's \z), whitespace as an explicit class.
_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|name|pro|io|co|me|tv|app|dev|online|site|xyz|shop|"
    "de|fr|es|it|nl|be|ch|at|uk|ie|se|no|dk|fi|is|pl|cz|sk|hu|ro|bg|gr|pt|lu|li|ee|lv|lt|si|hr|rs|"
    "ua|by|ru|tr|cn|jp|kr|tw|hk|sg|my|th|vn|id|ph|in|pk|ir|il|ae|sa|eg|ma|za|ng|ke|au|nz|ca|us|mx|"
    "br|ar|cl|pe|uy|ve|bo|ec|py|cr|eu"
)
PII_PATTERNS: dict[str, str] = {
    # local part not glued to a preceding address char; a listed TLD; not followed by more address
    "email": (r"(?i)(?:^|[^a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*@(?:[a-z0-9-]+\.)+(?:" + _TLDS
              + r")(?:[^a-z0-9@_:/.-]|\.(?:[^a-z0-9]|\Z)|\Z)"),
    # a phone keyword directly followed by an international / trunk-0 / (area) number
    "phone_keyword": (r"(?i)(?:^|[^a-z])(?:tel|tél|phone|telefon|telephone|téléphone|fax|fon|mobile|handy|mob|cell)"
                      r"\.?[ \t\xa0]*[:：]?[ \t\xa0]*\n?[ \t\xa0]*(?:\+|00|0|\()[0-9][0-9 ()/.-]{6,20}[0-9]"),
    "phone_keyword_cjk": r"(?:电话|手机|传真|電話|傳真|手機)[:：][ \t]*\+?[0-9][0-9 -]{6,18}[0-9]",
    # +CC followed by separated digit groups, standing on its own
    "phone_international": (r"(?:^|[ \t\n\r\xa0:：(])\+[1-9][0-9]{0,2}[ -]\(?[0-9]{1,5}\)?(?:[ -][0-9]{2,8}){1,4}"
                            r"(?:[^0-9A-Za-z./-]|\Z)"),
    "id_number_keyword": (r"(?i)(?:身份证号码|身份证号|身份证|passport (?:no|number)|social security number)"
                          r"[.:： \t]*[0-9]{6,}"),
    # IBAN after its keyword, in the masker's candidate form (single spaces between groups)
    "iban_keyword": (r"IBAN[:：]?[ \t\xa0]*(?:DE|AT|CH|LI|LU|FR|BE|NL|IT|ES|PT|GB|IE|DK|SE|NO|FI|PL|CZ|SK|HU|RO|BG|HR|SI|GR)"
                     r"[0-9]{2}(?: ?[0-9A-Z]{4}){3,7}"),
    "card_keyword": (r"(?i)(?:credit card (?:no|number)|card number|银行卡号|信用卡号|卡号)[.:： \t]*"
                     r"[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}"),
}


def expect(expectation_type: str, description: str | None = None, *, meta: dict | None = None, **kwargs) -> dict:
    """One GX expectation; `in_check` below puts it in a named check group."""
    out: dict = {"type": expectation_type, "kwargs": kwargs}
    if description:
        out["description"] = description
    if meta:
        out["meta"] = meta
    return out


def in_check(check: str, *expectations: dict) -> list[dict]:
    """Put expectations in a check group: the Dagster UI shows one asset check per group."""
    return [{**e, "meta": {**(e.get("meta") or {}), "check": check}} for e in expectations]


def pandas_type(dtype) -> str:
    """The GX ``type_`` a column of this Arrow / Polars dtype has after the engine's pandas conversion."""
    if isinstance(dtype, pa.DataType):
        dtype = pl.from_arrow(pa.array([], type=dtype)).dtype
    if dtype == pl.String:
        return "str"
    if dtype == pl.Boolean:
        return "bool"
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise ValueError("naive datetimes are not used in the warehouse")
        return "Timestamp"  # tz-aware datetime64[us, UTC]: pandas' scalar type
    if isinstance(dtype, (pl.List, pl.Array)):
        return "list"
    if dtype.is_integer() or dtype.is_float():
        return str(dtype).lower()  # int64, int32, float64 (numpy names)
    raise ValueError(f"no GX type for {dtype}")


def column_set(columns: list[str], description: str) -> dict:
    return expect("expect_table_columns_to_match_set", description, column_set=columns, exact_match=False)


def types(schema: dict[str, object]) -> list[dict]:
    return [expect("expect_column_values_to_be_of_type", column=name, type_=pandas_type(dtype))
            for name, dtype in schema.items()]


def not_null(*columns: str) -> list[dict]:
    return [expect("expect_column_values_to_not_be_null", column=c) for c in columns]


def rows_accounted_for() -> dict:
    return expect("expect_table_row_count_to_equal",
                  "the partition holds exactly the documents the run wrote: an empty partition passes when the "
                  "shard had no HTML or only damaged files (skipped when the caller does not know the count)",
                  meta={"requires": ["expected_rows"]}, value={"$PARAMETER": "expected_rows"})


def partition_keys() -> list[dict]:
    return [expect("expect_column_values_to_be_in_set", f"every row carries the validated partition's {col}",
                   meta={"requires": ["partition"]}, column=col, value_set={"$PARAMETER": f"partition_{col}"})
            for col in ("crawl", "shard")]


def doc_id_checks() -> list[dict]:
    return [
        expect("expect_column_values_to_not_be_null", column="doc_id"),
        expect("expect_column_values_to_be_unique", "one row per document within the validated batch",
               column="doc_id"),
        expect("expect_column_values_to_match_regex", "128-bit blake2b hex of the WARC record id",
               column="doc_id", regex=DOC_ID_REGEX),
    ]


# Imported files (`corpus import`) are partitions whose crawl is `import-<source>`: their rows may lack what
# only a crawl has (a URL, a fetch time).
IMPORTED_SQL = f"STARTS_WITH(crawl, '{IMPORT_PREFIX}')"
URL_DERIVED = {"url_present_unless_imported": f"COALESCE(url IS NOT NULL OR {IMPORTED_SQL}, FALSE)"}


def url_checks() -> list[dict]:
    return [expect("expect_column_values_to_be_in_set", "every crawled row has a URL (an imported record may have "
                   "none; derived column)", column="url_present_unless_imported", value_set=[True]),
            expect("expect_column_values_to_match_regex", column="url", regex=URL_REGEX)]


def lang_checks(labels: list[str]) -> list[dict]:
    return [
        expect("expect_column_values_to_not_be_null", column="lang"),
        expect("expect_column_values_to_be_in_set",
               f"a lid.176 label ({len(labels) - 1} languages) or '{UNDETERMINED_LANG}' (no letters to identify)",
               column="lang", value_set=labels),
        expect("expect_column_values_to_not_be_null", column="lang_score"),
        expect("expect_column_values_to_be_between", "fastText probability", column="lang_score",
               min_value=0.0, max_value=1.0),
    ]


def n_chars_checks() -> list[dict]:
    return [
        expect("expect_column_values_to_be_between", "documents with empty text are never written",
               column="n_chars", min_value=1),
        expect("expect_column_values_to_be_in_set", "n_chars == len(text) (derived column, computed in Polars)",
               column="n_chars_matches_text", value_set=[True]),
    ]


def pii_count_checks(description: str) -> list[dict]:
    return [expect("expect_column_values_to_be_in_type_list", column=c, type_list=INT_TYPES) for c in PII_COUNT_COLUMNS] + [
        expect("expect_column_values_to_be_between", description, column=c, min_value=0) for c in PII_COUNT_COLUMNS]


def suite(name: str, checks: dict[str, tuple[bool, str, list[dict]]], *, notes: str,
          index_column: str | None = "doc_id", text_columns: list[str] | None = None,
          derived_columns: dict[str, str] | None = None, derived_frames: dict[str, dict] | None = None,
          custom_checks: dict[str, str] | None = None) -> dict:
    """`checks`: {group: (blocking, description, expectations)}; `custom_checks`: {name: group}."""
    expectations = [e for group, (_, _, members) in checks.items() for e in in_check(group, *members)]
    groups = {group: {"blocking": blocking, "description": description}
              for group, (blocking, description, _) in checks.items()}
    engine = {"table": name, "index_column": index_column, "text_columns": text_columns or [],
              "derived_columns": derived_columns or {}, "derived_frames": derived_frames or {},
              "custom_checks": custom_checks or {}, "checks": groups}
    return {"name": name, "notes": notes, "meta": {"corpus_assets": engine}, "expectations": expectations}


N_CHARS_SQL = "COALESCE(n_chars = LENGTH(text), FALSE)"


def documents_suite(labels: list[str]) -> dict:
    schema = {f.name: f.type for f in DOCUMENTS_SCHEMA}
    return suite("documents", {
        "schema": (True, "every column of DOCUMENTS_SCHEMA exists with its type", [
            column_set(list(schema), "every column of DOCUMENTS_SCHEMA exists (extra columns are allowed)"),
            *types(schema)]),
        "row_count": (True, "no document goes missing without a reason", [rows_accounted_for()]),
        "identity": (True, "one row per document: doc_id, URL and partition keys", [
            *partition_keys(), *doc_id_checks(), *url_checks(), *not_null("url_host", "crawl", "shard")]),
        "text": (True, "every document has text and n_chars = len(text)", [*not_null("text"), *n_chars_checks()]),
        "provenance": (False, "WARC path (or imported file), offset, length, fetch time (crawled rows), charset and "
                              "extractor are recorded", [
            *not_null("warc_path", "charset", "extractor"),
            expect("expect_column_values_to_be_in_set", "every crawled row has a fetch time (derived column)",
                   column="fetch_time_present_unless_imported", value_set=[True]),
            expect("expect_column_values_to_be_between", column="warc_record_offset", min_value=0),
            expect("expect_column_values_to_be_between", column="warc_record_length", min_value=1),
            expect("expect_column_values_to_be_in_set", "only HTTP 200 responses are documents (null: WET records)",
                   column="http_status", value_set=[200]),
            expect("expect_column_values_to_be_in_set", column="extractor",
                   value_set=["resiliparse", "trafilatura", "wet", IMPORT_EXTRACTOR])]),
        "language": (False, "a lid.176 label and a probability per document", lang_checks(labels)),
    }, notes="Bronze documents: one row per HTTP-200 HTML page of a shard, or per usable record of an imported file.",
        text_columns=["text", "title"], derived_columns={
            "n_chars_matches_text": N_CHARS_SQL, **URL_DERIVED,
            "fetch_time_present_unless_imported": f"COALESCE(fetch_time IS NOT NULL OR {IMPORTED_SQL}, FALSE)"})


def signal_range(name: str, dtype) -> dict:
    if dtype.is_integer():
        return expect("expect_column_values_to_be_between", "a count", column=name, min_value=0)
    if "_top_" in name and name.endswith("gram_char_frac"):
        # datatrove definition: chars of the top n-gram x its count / len(text); occurrences
        # overlap, so "a a a a a" gives 1.4 for 2-grams - non-negative, not bounded by 1
        return expect("expect_column_values_to_be_between",
                      "top n-gram chars x count / len(text): overlapping occurrences can exceed 1",
                      column=name, min_value=0.0)
    if name.endswith("_frac"):
        return expect("expect_column_values_to_be_between", "a fraction", column=name, min_value=0.0, max_value=1.0)
    return expect("expect_column_values_to_be_between", "a ratio / mean: non-negative", column=name, min_value=0.0)


def signals_suite(labels: list[str]) -> dict:
    keys = {"doc_id": pl.String, "crawl": pl.String, "shard": pl.String, "url": pl.String, "lang": pl.String,
            "lang_score": pl.Float64, "n_chars": pl.Int64}
    safety = {"safety_tags": pl.List(pl.String), "badword_ratio": pl.Float64, "url_blocklisted": pl.Boolean}
    columns = [*keys, *SIGNAL_SCHEMA, *PII_COUNT_COLUMNS, *safety]
    return suite("signals", {
        "schema": (True, "keys, every SIGNAL_SCHEMA column, PII counts and safety columns exist with their types", [
            column_set(columns, "keys, every SIGNAL_SCHEMA column, PII counts and safety columns exist"),
            *types(keys), *types(SIGNAL_SCHEMA), *types(safety)]),
        "coverage": (True, "exactly the partition's documents have signals", []),
        "identity": (True, "one row per document: doc_id, URL and partition keys",
                     [*partition_keys(), *doc_id_checks(), *url_checks()]),
        "signal_ranges": (False, "every quality signal is present and in its range", [
            expect("expect_column_values_to_be_between", column="n_chars", min_value=1),
            *not_null(*SIGNAL_SCHEMA), *(signal_range(name, dtype) for name, dtype in SIGNAL_SCHEMA.items())]),
        "pii_counts": (False, "PII counts are non-negative integers", pii_count_checks("PII matches found in the raw text")),
        "safety": (True, "safety tags, bad-word ratio and URL blocklist flag agree", [
            *not_null("safety_tags", "badword_ratio", "url_blocklisted"),
            expect("expect_column_values_to_be_between", "bad-word hits / words", column="badword_ratio",
                   min_value=0.0, max_value=1.0),
            expect("expect_column_values_to_be_in_set", "url_blocklisted <=> 'url_blocklist' in safety_tags (derived)",
                   column="url_blocklisted_matches_tags", value_set=[True])]),
        "language": (False, "a lid.176 label and a probability per document", lang_checks(labels)),
    }, notes="Silver signals: numbers per document (never verdicts); ranges generated from SIGNAL_SCHEMA.",
        derived_columns={"url_blocklisted_matches_tags":
                         "COALESCE(url_blocklisted = ARRAY_CONTAINS(safety_tags, 'url_blocklist'), FALSE)", **URL_DERIVED},
        custom_checks={"doc_ids_match_documents": "coverage"})


QUALITY_REASON = "quality_score_below_threshold"
QUALITY_SCORE_SCHEMA = {"quality_score": pl.Float64, "model_version": pl.Int64}


def quality_scores_suite() -> dict:
    schema = {"doc_id": pl.String, "crawl": pl.String, "shard": pl.String, "quality_score": pl.Float64,
              "quality_bucket": pl.Int8, "model_version": pl.Int64}
    return suite("quality_scores", {
        "schema": (True, "doc_id, partition keys, quality_score, quality_bucket, model_version exist with their types", [
            column_set(list(schema), "doc_id, partition keys, quality_score, quality_bucket, model_version exist"),
            *types(schema)]),
        "coverage": (True, "one score per document of the partition (1:1 doc_ids)", []),
        "identity": (True, "one row per document: doc_id and partition keys", [*partition_keys(), *doc_id_checks()]),
        "scores": (True, "every score in [0, 1] with its bucket, from one recorded model version", [
            *not_null("quality_score", "quality_bucket", "model_version"),
            expect("expect_column_values_to_be_between", "a calibrated probability", column="quality_score",
                   min_value=0.0, max_value=1.0),
            expect("expect_column_values_to_be_between", "the score's tenth", column="quality_bucket",
                   min_value=0, max_value=9),
            expect("expect_column_values_to_be_in_set", "quality_bucket = min(floor(10 x score), 9) (derived column)",
                   column="bucket_matches_score", value_set=[True]),
            expect("expect_column_values_to_be_between", "model versions count from 1", column="model_version",
                   min_value=1),
            expect("expect_column_unique_value_count_to_be_between",
                   "one model version per partition (a partition is scored in one run)",
                   meta={"requires": ["partition"]}, column="model_version", min_value=0, max_value=1)]),
    }, notes="Quality scores: every document of a shard scored by the active quality model.",
        derived_columns={"bucket_matches_score":
                         "COALESCE(quality_bucket = LEAST(CAST(FLOOR(quality_score * 10) AS INT), 9), FALSE)"},
        custom_checks={"doc_ids_match_documents": "coverage"})


ACTIVE_SQL = ("SELECT 'all' AS scope, COUNT(*) AS n_versions, SUM(CASE WHEN active THEN 1 ELSE 0 END) AS n_active "
              "FROM self")


def quality_models_suite() -> dict:
    return suite("quality_models", {
        "schema": (True, "the columns of a model version exist with their types", [
            column_set(list(QUALITY_MODELS_SCHEMA), "version, label source and counts, parameters, file hash, "
                                                    "measures, activation"),
            *types({k: v for k, v in QUALITY_MODELS_SCHEMA.items() if k not in ("heldout_auc", "heldout_auc_ci_low",
                    "heldout_auc_ci_high", "ece", "spearman", "host_baseline_auc", "host_grouped_auc")})]),
        "identity": (True, "one row per version, each with its label source and file hash", [
            *not_null("version", "created_at", "label_source", "file_hash", "parameters", "active"),
            expect("expect_column_values_to_be_unique", column="version"),
            expect("expect_column_values_to_be_between", "versions count from 1", column="version", min_value=1),
            expect("expect_column_values_to_be_in_set", column="label_source", value_set=["ratings", "bootstrap"]),
            expect("expect_column_values_to_match_regex", "SHA-256 over the version's files", column="file_hash",
                   regex=r"^[0-9a-f]{64}$")]),
        "activation": (True, "exactly one active version; every version says why it is (not) active", [
            *not_null("activation_reason"),
            expect("expect_column_values_to_be_between", "exactly one active version", meta={"frame": "active"},
                   column="n_active", min_value=1, max_value=1)]),
        "measures": (False, "held-out measures lie in their ranges", [
            *(expect("expect_column_values_to_be_between", column=c, min_value=0.0, max_value=1.0)
              for c in ("heldout_auc", "heldout_auc_ci_low", "heldout_auc_ci_high", "ece", "host_baseline_auc",
                        "host_grouped_auc")),
            expect("expect_column_values_to_be_between", "a rank correlation", column="spearman",
                   min_value=-1.0, max_value=1.0)]),
    }, notes="Quality model versions (one row each) and which one is active.", index_column="version",
        derived_frames={"active": {"sql": ACTIVE_SQL, "index_column": "scope"}})


def decisions_suite(labels: list[str]) -> dict:
    schema = {"doc_id": pl.String, "crawl": pl.String, "shard": pl.String, "url": pl.String, "lang": pl.String,
              "keep": pl.Boolean, "drop_reasons": pl.List(pl.String), "filter_config_hash": pl.String,
              **QUALITY_SCORE_SCHEMA, "quality_threshold": pl.Float64, "quality_rule": pl.String}
    return suite("decisions", {
        "schema": (True, "keys, keep, drop_reasons, filter_config_hash exist with their types", [
            column_set(list(schema), "keys, keep, drop_reasons, filter_config_hash exist"), *types(schema)]),
        "coverage": (True, "exactly the partition's signal rows have decisions", []),
        "identity": (True, "one row per document: doc_id, URL and partition keys",
                     [*partition_keys(), *doc_id_checks(), *url_checks()]),
        "verdicts": (True, "keep <=> no drop reason, under one recorded filter config", [
            *not_null("keep", "drop_reasons", "filter_config_hash"),
            expect("expect_column_values_to_be_in_set", "keep <=> drop_reasons is empty (derived column)",
                   column="keep_matches_drop_reasons", value_set=[True]),
            expect("expect_column_value_lengths_to_be_between", "the filter config's hash is recorded",
                   column="filter_config_hash", min_value=1),
            expect("expect_column_values_to_match_regex", column="filter_config_hash", regex=r"^[0-9a-f]+$"),
            expect("expect_column_unique_value_count_to_be_between",
                   "one filter config per partition (a partition is decided in one run)",
                   meta={"requires": ["partition"]}, column="filter_config_hash", min_value=0, max_value=1)]),
        "quality_cut": (True, "every document carries its quality score; dropped for quality <=> score below the "
                              "threshold that applied, and that threshold is named", [
            *not_null("quality_score", "model_version"),
            expect("expect_column_values_to_be_between", column="quality_score", min_value=0.0, max_value=1.0),
            expect("expect_column_values_to_be_in_set",
                   f"'{QUALITY_REASON}' in drop_reasons <=> quality_score < quality_threshold (derived column)",
                   column="quality_cut_matches_reason", value_set=[True]),
            expect("expect_column_values_to_be_in_set", "a threshold always names its rule (derived column)",
                   column="threshold_has_rule", value_set=[True])]),
    }, notes="Silver decisions: keep / drop_reasons per document from a versioned filter config, with the quality "
             "cut on the scores of quality_scores.",
        derived_columns={"keep_matches_drop_reasons":
                         "COALESCE(keep = (COALESCE(ARRAY_LENGTH(drop_reasons), 0) = 0), FALSE)", **URL_DERIVED,
                         "quality_cut_matches_reason":
                         f"COALESCE(ARRAY_CONTAINS(drop_reasons, '{QUALITY_REASON}'), FALSE) = "
                         "COALESCE(quality_score < quality_threshold, FALSE)",
                         "threshold_has_rule": "(quality_threshold IS NULL) = (quality_rule IS NULL)"},
        custom_checks={"doc_ids_match_signals": "coverage"})


def corpus_suite(labels: list[str]) -> dict:
    schema = {"doc_id": pl.String, "crawl": pl.String, "shard": pl.String, "url": pl.String,
              "url_host": pl.String, "fetch_time": pl.Datetime("us", "UTC"), "warc_path": pl.String,
              "warc_record_offset": pl.Int64, "warc_record_length": pl.Int64, "title": pl.String,
              "text": pl.String, "lang": pl.String, "lang_score": pl.Float64, "n_chars": pl.Int64, **ORIGIN_SCHEMA,
              **QUALITY_SCORE_SCHEMA}
    return suite("corpus", {
        "schema": (True, "provenance, masked text and PII counts exist with their types", [
            column_set([*schema, *PII_COUNT_COLUMNS], "provenance, masked text and PII counts exist"), *types(schema)]),
        "identity": (True, "one row per document: doc_id, URL and partition keys",
                     [*partition_keys(), *doc_id_checks(), *url_checks(), *not_null("crawl", "shard")]),
        "no_raw_pii": (True, "no e-mail, phone, ID-number or card-number shape survives masking (every row's text)", [
            expect("expect_column_values_to_not_match_regex_list",
                   "no e-mail, phone, ID-number or card-number shape survives masking: "
                   + ", ".join(PII_PATTERNS), column="text", regex_list=list(PII_PATTERNS.values()))]),
        "origin": (True, f"every row names its source: '{COMMON_CRAWL_SOURCE}' for crawled rows, the imported source "
                         "for an imported file's partition; a generator exactly for synthetic rows", [
            *not_null("source", "synthetic"),
            expect("expect_column_values_to_be_in_set",
                   f"source = '{COMMON_CRAWL_SOURCE}' and not synthetic in a crawl's partition, the partition's "
                   f"source in an import's (crawl = '{IMPORT_PREFIX}<source>') (derived column)",
                   column="source_matches_partition", value_set=[True]),
            expect("expect_column_values_to_be_in_set", "generator is set iff the row is synthetic (derived column)",
                   column="generator_iff_synthetic", value_set=[True])]),
        "traceability": (True, "every row traces back to documents and is kept by decisions", [
            *not_null("warc_path"),
            expect("expect_column_values_to_be_between", column="warc_record_offset", min_value=0),
            expect("expect_column_values_to_be_between", column="warc_record_length", min_value=1)]),
        "text": (True, "every row has text, n_chars = len(text), and no two rows share a text_hash", [
            *not_null("text"), *n_chars_checks(),
            expect("expect_column_values_to_be_unique", "exact-text dedup: no two rows share a text_hash",
                   meta={"optional": True}, column="text_hash")]),
        "language": (False, "a lid.176 label and a probability per document", lang_checks(labels)),
        "pii_counts": (False, "PII counts are non-negative integers", pii_count_checks("PII spans replaced by placeholders")),
        "quality_score": (True, "one score per row: quality_score in [0, 1] and the model version that gave it, "
                                "as quality_scores holds them", [
            *not_null("quality_score", "model_version"),
            expect("expect_column_values_to_be_between", column="quality_score", min_value=0.0, max_value=1.0),
            expect("expect_column_values_to_be_between", column="model_version", min_value=1)]),
    }, notes="Gold corpus: kept documents, PII-masked, with provenance back to documents and their quality scores.",
        text_columns=["text", "title"], derived_columns={
            "n_chars_matches_text": N_CHARS_SQL, **URL_DERIVED,
            "source_matches_partition": (f"COALESCE(CASE WHEN {IMPORTED_SQL} THEN crawl = CONCAT('{IMPORT_PREFIX}', source) "
                                         f"ELSE source = '{COMMON_CRAWL_SOURCE}' AND NOT synthetic END, FALSE)"),
            "generator_iff_synthetic": "COALESCE(synthetic = (generator IS NOT NULL), FALSE)"},
        custom_checks={"rows_trace_to_documents": "traceability", "rows_are_kept_decisions": "traceability",
                       "rows_carry_their_quality_scores": "quality_score"})


CLUSTERS_SQL = (
    "SELECT dedup_kind, cluster_id, COUNT(*) AS n_members, "
    "SUM(CASE WHEN is_kept THEN 1 ELSE 0 END) AS n_kept, "
    "MIN(cluster_size) AS cluster_size_min, MAX(cluster_size) AS cluster_size_max "
    "FROM self WHERE cluster_id IS NOT NULL GROUP BY dedup_kind, cluster_id"
)


def dedup_clusters_suite() -> dict:
    on_clusters = {"frame": "clusters"}
    return suite("dedup_clusters", {
        "schema": (True, "the cluster columns exist with their types", [
            column_set(["doc_id", "url", "cluster_id", "cluster_size", "is_kept", "dedup_kind"],
                       "one row per (dedup kind, clustered document)"),
            expect("expect_column_values_to_be_of_type", column="doc_id", type_="str"),
            expect("expect_column_values_to_be_of_type", column="is_kept", type_="bool"),
            expect("expect_column_values_to_be_in_type_list", column="cluster_size", type_list=INT_TYPES)]),
        "membership": (True, "every member is a known document, in at most one cluster per kind", [
            *not_null("doc_id", "is_kept", "dedup_kind"),
            expect("expect_column_values_to_be_in_set", column="dedup_kind", value_set=["exact", "url", "fuzzy"]),
            expect("expect_compound_columns_to_be_unique", "a document is in at most one cluster per dedup kind",
                   column_list=["dedup_kind", "doc_id"])]),
        "cluster_invariants": (True, "one kept document per cluster; cluster_size = its members", [
            expect("expect_column_values_to_be_between", column="cluster_size", min_value=1),
            expect("expect_column_values_to_be_between", "exactly one kept document per cluster",
                   meta=on_clusters, column="n_kept", min_value=1, max_value=1),
            expect("expect_column_pair_values_to_be_equal", "cluster_size equals the number of member rows",
                   meta=on_clusters, column_A="cluster_size_min", column_B="n_members"),
            expect("expect_column_pair_values_to_be_equal", "every member row carries the same cluster_size",
                   meta=on_clusters, column_A="cluster_size_max", column_B="n_members")]),
    }, notes="Global dedup clusters (exact / url / fuzzy); cross-row invariants are checked on the derived "
             "'clusters' frame (one row per cluster, aggregated in Polars SQL) with GX.",
        derived_frames={"clusters": {"sql": CLUSTERS_SQL, "index_column": "cluster_id"}},
        custom_checks={"doc_ids_exist_in_documents": "membership"})


# One row per (stage, source) of the build's manifest (the context table `manifest_sources`), with what the
# partition's rows hold: tokens, share of the stage's tokens, error against the target share in percentage
# points (null in a stage whose manifest records a shortfall: its shares are reported, not held), headroom
# under a synthetic cap, and synthetic-flagged rows.
MIXTURE_SOURCES_SQL = (
    "SELECT CONCAT(m.stage, '/', m.source) AS stage_source, m.stage, m.source, m.synthetic, m.target_share, "
    "m.max_share, m.manifest_tokens, COALESCE(a.tokens, 0) AS tokens, "
    "CAST(COALESCE(a.tokens, 0) AS DOUBLE) / t.stage_tokens AS share, "
    "CASE WHEN m.share_enforced THEN 100.0 * (CAST(COALESCE(a.tokens, 0) AS DOUBLE) / t.stage_tokens - m.target_share) "
    "END AS share_error_pp, "
    "m.max_share - CAST(COALESCE(a.tokens, 0) AS DOUBLE) / t.stage_tokens AS cap_headroom, "
    "COALESCE(a.synthetic_rows, 0) AS synthetic_rows, "
    "CASE WHEN m.synthetic THEN COALESCE(a.n_rows, 0) ELSE 0 END AS expected_synthetic_rows "
    "FROM manifest_sources m "
    "LEFT JOIN (SELECT stage, source, SUM(n_tokens) AS tokens, COUNT(*) AS n_rows, "
    "SUM(CASE WHEN synthetic THEN 1 ELSE 0 END) AS synthetic_rows FROM self GROUP BY stage, source) a "
    "ON m.stage = a.stage AND m.source = a.source "
    "LEFT JOIN (SELECT stage, SUM(n_tokens) AS stage_tokens FROM self GROUP BY stage) t ON m.stage = t.stage"
)


def mixtures_suite() -> dict:
    from_manifest = {"requires": ["manifest"]}
    on_sources = {"frame": "sources", "requires": ["manifest"]}
    tolerance_pp = round(100 * SHARE_TOLERANCE, 6)
    return suite("mixtures", {
        "schema": (True, "the columns of a mixture row exist with their types", [
            column_set(list(MIXTURE_ROW_SCHEMA), "mixture, spec_hash, stage, source, doc_id, copy, n_tokens, synthetic"),
            *types(MIXTURE_ROW_SCHEMA)]),
        "identity": (True, "every row names its mixture, build, stage and source; a document occurs once per "
                           "stage and copy", [
            *not_null(*MIXTURE_ROW_SCHEMA),
            expect("expect_column_values_to_be_in_set", "every row carries the validated partition's mixture",
                   meta={"requires": ["partition"]}, column="mixture", value_set={"$PARAMETER": "partition_mixture"}),
            expect("expect_column_unique_value_count_to_be_between", "one build (spec hash) per partition",
                   column="spec_hash", min_value=0, max_value=1),
            expect("expect_column_values_to_be_in_set", "the spec hash of the manifest of the build",
                   meta=from_manifest, column="spec_hash", value_set={"$PARAMETER": "manifest_spec_hash"}),
            expect("expect_column_values_to_be_in_set", "every row's stage and source are in the manifest",
                   meta=from_manifest, column="stage_source", value_set={"$PARAMETER": "manifest_stage_sources"}),
            expect("expect_compound_columns_to_be_unique",
                   "a document occurs at most once per stage and copy (it goes to the first source that matches)",
                   column_list=["stage", "doc_id", "copy"])]),
        "occurrences": (True, "copies count from 0 and every occurrence has tokens", [
            expect("expect_column_values_to_be_between", "0 for the first occurrence, +1 per repeat",
                   column="copy", min_value=0),
            expect("expect_column_values_to_be_between", "documents without tokens are never selected",
                   column="n_tokens", min_value=1)]),
        "shares": (True, f"each source's share of its stage's tokens is within {tolerance_pp:g} percentage point of its "
                         "weight, and the rows hold the tokens the manifest reports", [
            expect("expect_column_values_to_be_between",
                   "share - target share, in percentage points (null where the manifest records a shortfall)",
                   meta=on_sources, column="share_error_pp", min_value=-tolerance_pp, max_value=tolerance_pp),
            expect("expect_column_pair_values_to_be_equal", "tokens per source = the manifest's",
                   meta=on_sources, column_A="tokens", column_B="manifest_tokens")]),
        "synthetic_caps": (True, "a synthetic source never exceeds its max_share; only synthetic sources have "
                                 "synthetic rows", [
            expect("expect_column_values_to_be_between", "max_share - share (null for a source without a cap)",
                   meta=on_sources, column="cap_headroom", min_value=0.0),
            expect("expect_column_pair_values_to_be_equal",
                   "rows flagged synthetic = all rows of a synthetic source, none of a real one",
                   meta=on_sources, column_A="synthetic_rows", column_B="expected_synthetic_rows")]),
        "membership": (True, "every doc_id is a document of the corpus version the build read", []),
    }, notes="Mixture rows (one per document occurrence) checked against the manifest of the build that wrote "
             "them: the manifest's targets come in as the context table `manifest_sources` and the 'sources' "
             "frame joins them with the tokens the rows hold.",
        derived_columns={"stage_source": "CONCAT(stage, '/', source)"},
        derived_frames={"sources": {"sql": MIXTURE_SOURCES_SQL, "index_column": "stage_source"}},
        custom_checks={"doc_ids_exist_in_corpus": "membership"})


def quality_ratings_suite() -> dict:
    return suite("quality_ratings", {
        "schema": (True, "the rating columns exist with their types", [
            column_set(list(RATINGS_SCHEMA), "doc_id, rater, rating, note, rated_at, source_file"),
            *types(RATINGS_SCHEMA)]),
        "ratings": (True, f"every row is a rating from {MIN_RATING} to {MAX_RATING} of a document by a named rater, "
                          "from a named sheet", [
            *not_null("doc_id", "rater", "rating", "rated_at", "source_file"),
            expect("expect_column_values_to_match_regex", column="doc_id", regex=DOC_ID_REGEX),
            expect("expect_column_values_to_be_between", "the rubric's scale (docs/rating-rubric.md)",
                   column="rating", min_value=MIN_RATING, max_value=MAX_RATING),
            expect("expect_column_value_lengths_to_be_between", "a rater's name", column="rater",
                   min_value=1, max_value=MAX_RATER_CHARS),
            expect("expect_column_values_to_match_regex", "<sheet name>#sha256:<16 hex digits of its content>",
                   column="source_file", regex=r"#sha256:[0-9a-f]{16}\Z")]),
        "imported_once": (True, "re-importing a sheet adds nothing: one row per document, rater and sheet content", [
            expect("expect_compound_columns_to_be_unique", column_list=["doc_id", "rater", "source_file"])]),
        "membership": (True, "every rated doc_id is a document of the warehouse", []),
    }, notes="People's ratings (corpus rate import / serve, corpus demo's starter set): appended, never rewritten; "
             "each rater's latest rating of a document counts.",
        custom_checks={"doc_ids_exist_in_documents": "membership"})


def build_suites() -> dict[str, dict]:
    labels = sorted(set(LanguageIdentifier().labels)) + [UNDETERMINED_LANG]
    return {
        "documents": documents_suite(labels),
        "signals": signals_suite(labels),
        "quality_scores": quality_scores_suite(),
        "decisions": decisions_suite(labels),
        "corpus": corpus_suite(labels),
        "dedup_clusters": dedup_clusters_suite(),
        "quality_models": quality_models_suite(),
        "mixtures": mixtures_suite(),
        "quality_ratings": quality_ratings_suite(),
    }


def render(spec: dict) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    stale = []
    for name, spec in build_suites().items():
        path = args.out / f"{name}.json"
        text = render(spec)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({len(spec['expectations'])} expectations)")
    for path in stale:
        print(f"out of date: {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
