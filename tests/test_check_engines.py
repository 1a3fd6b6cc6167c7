"""The Polars check engine reports exactly what Great Expectations reports, on real and broken frames.

Every table's suite runs twice on the same frame, once with `engine="gx"` (every expectation in GX's
pandas engine) and once with `engine="polars"`, and every outcome must agree: success, observed value,
element / missing / unexpected counts, failing ids and values. The frames are the bundled sample's
partitions (materialized through Dagster once per session) and copies broken on purpose: nulls, NaN,
out-of-range values, duplicates, malformed ids and URLs, raw PII in corpus text, a wrong dtype, a
missing or extra column, an empty partition.
"""
import math

import polars as pl
import pytest

from corpus_assets.core.checks.polars_engine import supports
from corpus_assets.core.checks.suites import columns_of, suite_spec
from corpus_assets.core.checks.tables import list_partitions, read_table
from corpus_assets.core.checks.validate import check_engine, validate_frame

TABLES = ["documents", "signals", "decisions", "corpus", "dedup_clusters"]


@pytest.fixture(scope="module")
def frames(sample_warehouse):
    warehouse = str(sample_warehouse)
    part = max(list_partitions(warehouse, "corpus"),
               key=lambda p: read_table(warehouse, "corpus", p, columns=["doc_id"]).height)
    out = {t: read_table(warehouse, t, part) for t in ["documents", "signals", "decisions", "corpus"]}
    out["dedup_clusters"] = read_table(warehouse, "dedup_clusters")
    return part, out


def _set(frame: pl.DataFrame, row: int, column: str, value) -> pl.DataFrame:
    mask = pl.int_range(pl.len()) == row
    dtype = frame.schema[column]
    return frame.with_columns(pl.when(mask).then(pl.lit(value, dtype=dtype)).otherwise(pl.col(column)).alias(column))


def _set_all(frame: pl.DataFrame, row: int, columns: list[str], value) -> pl.DataFrame:
    for column in columns:
        frame = _set(frame, row, column, value)
    return frame


def _value_breakages(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Copies with nulls, NaN, out-of-range numbers and malformed strings."""
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    numbers = [c for c, t in frame.schema.items() if t.is_numeric()]
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    out = {"a row of nulls": _set_all(frame, 0, frame.columns, None),
           "negative numbers": _set_all(frame, 1, numbers, -1),
           "huge numbers": _set_all(frame, 2 % max(frame.height, 1), numbers, 10**6),
           "garbled strings": _set_all(frame, 0, strings, "Not-A-Value\n")}
    if floats:
        out["NaN"] = frame.with_columns([pl.when(pl.int_range(pl.len()) < 2).then(float("nan")).otherwise(pl.col(c))
                                         .alias(c) for c in floats])
    for column in ("doc_id", "filter_config_hash"):
        if column in frame.columns:
            out[f"{column} with a trailing newline"] = _set(frame, 0, column, frame.get_column(column)[0] + "\n")
    if "url" in frame.columns:
        out["ftp url"] = _set(frame, 1, "url", "ftp://example.com/x")
    if "text" in frame.columns:
        pii = ["mail me: jane.doe@example.com today", "Tel.: +49 30 1234567 (office)", "手机：13812345678",
               "IBAN: DE89 3704 0044 0532 0130 00", "card number 4111 1111 1111 1111", "", "\u212aelvin@x.de"]
        texted = frame
        for row, text in enumerate(pii[:frame.height]):
            texted = _set(texted, row, "text", text)
        out["raw PII in text"] = texted
    return out


def _breakages(table: str, frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Named broken copies of `frame`."""
    out = {"as is": frame, "empty": frame.clear(), "duplicated rows": pl.concat([frame, frame.head(3)]),
           **_value_breakages(frame), "an extra column": frame.with_columns(pl.lit(1).alias("unexpected_extra"))}
    numbers = [c for c, t in frame.schema.items() if t.is_numeric()]
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    if numbers:
        out["an integer column as float"] = frame.with_columns(pl.col(numbers[0]).cast(pl.Float64))
    if strings:
        out["a column missing"] = frame.drop(strings[-1])
    if table == "dedup_clusters" and frame.height:
        out["two kept per cluster"] = frame.with_columns(pl.lit(True).alias("is_kept"))
        out["cluster size off"] = frame.with_columns((pl.col("cluster_size") + 1).alias("cluster_size"))
    if table == "decisions" and frame.height:
        out["keep with reasons"] = frame.with_columns(pl.lit(True).alias("keep"))
    return out


def _same(value_a, value_b) -> bool:
    if isinstance(value_a, float) and isinstance(value_b, float) and math.isnan(value_a) and math.isnan(value_b):
        return True
    if isinstance(value_a, (list, tuple)) and isinstance(value_b, (list, tuple)):
        return len(value_a) == len(value_b) and all(_same(a, b) for a, b in zip(value_a, value_b))
    if isinstance(value_a, dict) and isinstance(value_b, dict):
        return value_a.keys() == value_b.keys() and all(_same(value_a[k], value_b[k]) for k in value_a)
    return value_a == value_b


def _summary(outcome) -> dict:
    return {"success": outcome.success, "observed_value": outcome.observed_value,
            "element_count": outcome.element_count, "missing_count": outcome.missing_count,
            "unexpected_count": outcome.unexpected_count, "unexpected_ids": outcome.unexpected_ids,
            "unexpected_values": outcome.unexpected_values, "skipped": outcome.skipped, "error": bool(outcome.error)}


@pytest.mark.parametrize("table", TABLES)
def test_polars_engine_reports_what_gx_reports(frames, table):
    part, tables = frames
    partition = None if table == "dedup_clusters" else part
    differences = []
    failures_seen = 0
    for name, broken in _breakages(table, tables[table]).items():
        context = {"partition": partition, "expected_rows": tables[table].height if table == "documents" else None}
        gx = validate_frame(table, broken, context, others=tables, engine="gx")
        ours = validate_frame(table, broken, context, others=tables, engine="polars")
        assert [o.name for o in gx.outcomes] == [o.name for o in ours.outcomes]
        failures_seen += len(gx.failures)
        for a, b in zip(gx.outcomes, ours.outcomes):
            sa, sb = _summary(a), _summary(b)
            if not _same(sa, sb):
                differences.append((name, a.name, {k: (sa[k], sb[k]) for k in sa if not _same(sa[k], sb[k])}))
    assert differences == []
    assert failures_seen > 10  # the broken copies did break things


@pytest.mark.parametrize("table", TABLES)
def test_every_expectation_of_the_suites_runs_in_polars(frames, table):
    """On real partitions no expectation falls back to GX, so a pipeline run never imports it."""
    part, tables = frames
    parameters = {"partition_crawl": [part["crawl"]], "partition_shard": [part["shard"]], "expected_rows": 1}
    frame = tables[table]
    settings = suite_spec(table)["meta"]["corpus_assets"]
    for name, sql in settings["derived_columns"].items():
        frame = frame.with_columns(pl.sql_expr(sql).alias(name))
    for cfg in suite_spec(table)["expectations"]:
        target = (cfg.get("meta") or {}).get("frame", "rows")
        on = frame if target == "rows" else pl.SQLContext(frames={"self": frame}).execute(
            settings["derived_frames"][target]["sql"], eager=True)
        if (cfg.get("meta") or {}).get("optional") and not set(columns_of(cfg["kwargs"])) <= set(on.columns):
            continue  # skipped, not evaluated, while the column does not exist yet
        assert supports(cfg, on, parameters), cfg


def test_the_engine_is_chosen_by_argument_or_environment(monkeypatch):
    monkeypatch.delenv("CORPUS_CHECK_ENGINE", raising=False)
    assert check_engine() == "polars"
    monkeypatch.setenv("CORPUS_CHECK_ENGINE", "gx")
    assert check_engine() == "gx"
    assert check_engine("polars") == "polars"
    with pytest.raises(ValueError, match="unknown check engine"):
        check_engine("spark")


@pytest.mark.parametrize("engine", ["polars", "gx"])
def test_a_derived_frame_samples_the_same_failing_rows_whatever_the_row_order(frames, engine):
    """A derived frame is a GROUP BY, whose output order varies: the ids a report samples must not."""
    clusters = frames[1]["dedup_clusters"].with_columns((pl.col("cluster_size") + 1).alias("cluster_size"))
    reports = [validate_frame("dedup_clusters", ordered, {"partition": None}, others=frames[1], engine=engine)
               for ordered in (clusters, clusters.reverse(), clusters.sample(fraction=1.0, shuffle=True, seed=7))]
    # the expectations on the clusters frame fail; a custom check samples the table's rows in their own order
    sampled = [[(o.name, o.unexpected_ids) for o in report.outcomes if not o.success and o.name.startswith("expect_")]
               for report in reports]
    assert sampled[0] != []
    assert sampled[1] == sampled[0]
    assert sampled[2] == sampled[0]
