"""Partitions are validated batch by batch, and the merged outcome is the whole frame's.

`validate_table` streams a partition's columns that need not be seen together (`iter_table_batches`; the
text, and every column whose expectations judge rows one by one) and `validate_frame` slices them,
`BATCH_ROWS` rows at a time; here that is a few rows, so the bundled sample's partitions (and copies broken
on purpose: raw PII in many rows, failing rows that share a doc_id, rows of nulls, out-of-range numbers,
duplicates, an empty partition) are validated in many batches, and every outcome must equal the one-batch
validation: success, observed value, element / missing / unexpected counts, failing ids and values, in
both engines.
"""
import polars as pl
import pytest

from corpus_assets.core.checks import validate
from corpus_assets.core.checks.gx_engine import merge_chunk
from corpus_assets.core.checks.results import SAMPLE_SIZE, CheckOutcome
from corpus_assets.core.checks.tables import iter_table_batches, list_partitions, read_table
from corpus_assets.core.checks.validate import validate_frame, validate_table
from corpus_assets.core.lake.delta_tables import replace_partition_frame

TABLES = ["documents", "corpus", "signals", "decisions", "quality_scores"]
CROSS = ["documents", "decisions", "quality_scores"]  # what the corpus suite's cross-table checks read
PII = ["mail me: jane.doe@example.com today", "Tel.: +49 30 1234567 (office)", "IBAN: DE89 3704 0044 0532 0130 00"]


@pytest.fixture(scope="module")
def sample(sample_warehouse):
    warehouse = str(sample_warehouse)
    part = max(list_partitions(warehouse, "corpus"),
               key=lambda p: read_table(warehouse, "corpus", p, columns=["doc_id"]).height)
    return part, {t: read_table(warehouse, t, part) for t in TABLES}


def _with_pii(frame: pl.DataFrame) -> pl.DataFrame:
    """Raw PII in every other row: more failing rows than SAMPLE_SIZE, in every batch."""
    rows = pl.int_range(pl.len())
    return frame.with_columns(pl.when(rows % 2 == 0).then(pl.format("{} {}", pl.lit(PII[0]), pl.col("text")))
                              .otherwise(pl.col("text")).alias("text"))


def _broken(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    rows = pl.int_range(pl.len())
    numbers = [c for c, t in frame.schema.items() if t.is_numeric()]
    out = {
        "as is": frame,
        "empty": frame.clear(),
        "duplicated rows": pl.concat([frame, frame.head(3)]),
        "a row of nulls in four": frame.with_columns(pl.when(rows % 4 == 1).then(None).otherwise(pl.col(c)).alias(c)
                                                     for c in frame.columns),
        "negative numbers in one row of three": frame.with_columns(
            pl.when(rows % 3 == 0).then(-1).otherwise(pl.col(c)).cast(frame.schema[c]).alias(c) for c in numbers),
    }
    if "text" not in frame.columns:
        return out
    pii = _with_pii(frame)
    texts = rows
    return {
        **out,
        "raw PII in many rows": pii,
        # the first failing rows repeat a doc_id: the sample lists each id once, from the first failing rows
        "failing rows sharing doc_ids": pii.with_columns(
            pl.when(texts < 6).then(pl.col("doc_id").first()).otherwise(pl.col("doc_id")).alias("doc_id")),
        "null and mistyped text": frame.with_columns(
            pl.when(texts % 3 == 1).then(None).otherwise(pl.col("text")).alias("text"),
            (pl.col("n_chars") + (texts % 4 == 0).cast(pl.Int64)).cast(frame.schema["n_chars"]).alias("n_chars")),
        "PII in the last row only": frame.with_columns(
            pl.when(texts == pl.len() - 1).then(pl.lit(PII[1])).otherwise(pl.col("text")).alias("text")),
    }


def _summary(result) -> list[dict]:
    return [{"name": o.name, "success": o.success, "observed_value": o.observed_value, "element_count": o.element_count,
             "missing_count": o.missing_count, "unexpected_count": o.unexpected_count,
             "unexpected_ids": o.unexpected_ids, "unexpected_values": o.unexpected_values, "skipped": o.skipped,
             "error": o.error} for o in result.outcomes]


# GX pays ~1 s per batch of the signals suite: it gets the tables with text (and larger batches)
@pytest.mark.parametrize("table,engine,rows", [(t, "polars", 3) for t in TABLES] +
                         [("documents", "gx", 8), ("corpus", "gx", 8)])
def test_frames_validated_in_batches_give_the_whole_frames_outcomes(sample, table, engine, rows, monkeypatch):
    part, tables = sample
    context = {"partition": part, "expected_rows": tables[table].height if table == "documents" else None}
    failures = 0
    for name, frame in _broken(tables[table]).items():
        monkeypatch.setattr(validate, "BATCH_ROWS", 10**9)
        whole = validate_frame(table, frame, context, others=tables, engine=engine)
        monkeypatch.setattr(validate, "BATCH_ROWS", rows)
        batched = validate_frame(table, frame, context, others=tables, engine=engine)
        assert _summary(batched) == _summary(whole), name
        failures += len(whole.failures)
    assert failures >= 6  # the broken copies did break things


def test_many_failing_rows_keep_the_first_samples(sample, monkeypatch):
    part, tables = sample
    frame = _with_pii(tables["corpus"])
    monkeypatch.setattr(validate, "BATCH_ROWS", 2)
    outcome = validate_frame("corpus", frame, {"partition": part}).outcome(
        "expect_column_values_to_not_match_regex_list(text)")
    failing = frame.filter(pl.int_range(pl.len()) % 2 == 0)
    assert outcome.element_count == frame.height and outcome.unexpected_count == failing.height > SAMPLE_SIZE
    assert outcome.unexpected_ids == failing["doc_id"].head(SAMPLE_SIZE).to_list()


@pytest.mark.parametrize("table", ["documents", "corpus"])
def test_tables_are_validated_streamed(sample, table, tmp_path, monkeypatch):
    """A broken partition written to a warehouse: `validate_table`, streaming its text and most other columns a
    few rows at a time, reports what `validate_frame` reports for the partition read whole (cross-table checks
    included)."""
    part, tables = sample
    warehouse = tmp_path / "warehouse"
    broken = _broken(tables[table])["failing rows sharing doc_ids"]
    replace_partition_frame(str(warehouse / table), broken, part)
    for other in CROSS:
        if other != table:
            replace_partition_frame(str(warehouse / other), tables[other], part)
    monkeypatch.setattr(validate, "BATCH_ROWS", 4)
    streamed = validate_table(warehouse, table, part)
    monkeypatch.setattr(validate, "BATCH_ROWS", 10**9)
    others = {t: read_table(warehouse, t, part) for t in CROSS if t != table}
    whole = validate_frame(table, read_table(warehouse, table, part), {"partition": part}, others=others)
    assert _summary(streamed) == _summary(whole)
    assert "expect_column_values_to_be_in_set(n_chars_matches_text)" in {o.name for o in streamed.failures}  # text prefixed
    assert streamed.row_count == broken.height


def test_table_batches_are_bounded_and_in_read_order(sample_warehouse):
    warehouse = str(sample_warehouse)
    part = list_partitions(warehouse, "documents")[0]
    batches = list(iter_table_batches(warehouse, "documents", part, ["doc_id", "text", "no_such_column"], 3))
    assert len(batches) > 2 and max(b.height for b in batches) <= 3
    assert pl.concat(batches).equals(read_table(warehouse, "documents", part, columns=["doc_id", "text"]))
    narrow = read_table(warehouse, "documents", part, placeholders=["text", "title"])
    whole = read_table(warehouse, "documents", part)
    assert narrow.schema == whole.schema and narrow["text"].null_count() == narrow.height
    assert narrow.drop("text", "title").equals(whole.drop("text", "title"))


def test_an_error_every_batch_raises_is_reported_once():
    def failed(error: str) -> CheckOutcome:
        return CheckOutcome("expect_x(text)", "expect_x", False, error=error)

    merged = merge_chunk(merge_chunk(failed("ValueError: boom"), failed("ValueError: boom"), None),
                         failed("KeyError: text"), None)
    assert merged.error == "ValueError: boom; KeyError: text" and not merged.success
    assert merge_chunk(CheckOutcome("expect_x(text)", "expect_x", True), failed("ValueError: boom"), None).error \
        == "ValueError: boom"
