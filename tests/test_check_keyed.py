"""The checks that compare rows and the cross-table checks of a warehouse table run out of core
(`core/checks/keyed.py`: the key columns streamed from the Delta partition into a scratch DuckDB under a
memory limit), and report what the in-memory checks report for the same rows read whole: success, observed
value, counts, failing ids and values.  Real Delta tables (partitions of the bundled sample, broken on
purpose) and a real DuckDB; one test forces DuckDB to spill.
"""
import polars as pl
import pytest

from corpus_assets.core.checks import keyed, validate
from corpus_assets.core.checks.keyed import KeyedChecks
from corpus_assets.core.checks.tables import list_partitions, read_table, table_schema
from corpus_assets.core.checks.validate import validate_frame, validate_table
from corpus_assets.core.lake.delta_tables import replace_partition_frame, replace_table_frame

TABLES = ["documents", "signals", "quality_scores", "decisions", "corpus"]
# the tables each suite's cross-table checks read
OTHERS = {"documents": [], "signals": ["documents"], "quality_scores": ["documents"], "decisions": ["signals"],
          "corpus": ["documents", "decisions", "quality_scores"]}


@pytest.fixture(scope="module")
def sample(sample_warehouse):
    warehouse = str(sample_warehouse)
    part = max(list_partitions(warehouse, "corpus"),
               key=lambda p: read_table(warehouse, "corpus", p, columns=["doc_id"]).height)
    tables = {t: read_table(warehouse, t, part) for t in [*TABLES, "dedup_clusters"]}
    return part, tables


def _summary(result) -> list[dict]:
    return [{"name": o.name, "check": o.check, "success": o.success, "observed_value": o.observed_value,
             "element_count": o.element_count, "missing_count": o.missing_count,
             "unexpected_count": o.unexpected_count, "unexpected_ids": o.unexpected_ids,
             "unexpected_values": o.unexpected_values, "skipped": o.skipped, "error": o.error,
             "kwargs": o.kwargs} for o in result.outcomes]


def _differences(a, b) -> list[tuple]:
    """(check, field, out of core, in memory) wherever two results differ."""
    assert [o["name"] for o in _summary(a)] == [o["name"] for o in _summary(b)]
    return [(x["name"], k, x[k], y[k]) for x, y in zip(_summary(a), _summary(b)) for k in x if x[k] != y[k]]


def _variants(table: str, frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The table's partition broken in ways the keyed checks must see."""
    rows = pl.int_range(pl.len())
    out = {
        "as is": frame,
        "empty": frame.clear(),
        # every row of a repeated doc_id is unexpected: more than SAMPLE_SIZE of them, the first ids once each
        "duplicated doc_ids": pl.concat([frame, frame.head(7), frame.head(7)]),
        "null keys in one row of four": frame.with_columns(
            pl.when(rows % 4 == 1).then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
            if c not in ("crawl", "shard")),
        "rows not upstream": frame.with_columns(  # doc_ids no other table has
            pl.when(rows % 3 == 0).then(pl.format("{}x", pl.col("doc_id"))).otherwise(pl.col("doc_id")).alias("doc_id")),
        "rows missing": frame.filter(rows % 5 != 2),  # upstream rows without a row here
    }
    if "quality_score" in frame.columns:
        out["other scores"] = frame.with_columns(
            pl.when(rows % 2 == 0).then(pl.col("quality_score") / 2).otherwise(pl.col("quality_score")).alias("quality_score"))
    if "url" in frame.columns:
        out["other provenance"] = frame.with_columns(
            pl.when(rows == 1).then(pl.lit("https://elsewhere.example/")).otherwise(pl.col("url")).alias("url"))
    return out


def _write(warehouse, tables: dict[str, pl.DataFrame], part) -> None:
    for name, frame in tables.items():
        replace_partition_frame(str(warehouse / name), frame, part)


@pytest.mark.parametrize("table", TABLES)
def test_keyed_checks_report_what_the_in_memory_checks_report(sample, table, tmp_path, monkeypatch):
    """Each broken copy of the table's partition, with the partitions of the tables its cross-table checks
    read, in a warehouse: `validate_table` (keyed checks in DuckDB, every column streamed a few rows at a
    time) reports exactly what `validate_frame` reports on the partition read whole."""
    part, tables = sample
    monkeypatch.setattr(validate, "BATCH_ROWS", 4)
    monkeypatch.setattr(validate, "NARROW_BATCH_ROWS", 6)
    monkeypatch.setattr(keyed, "LOAD_BATCH_ROWS", 5)
    failed = set()
    for i, (name, frame) in enumerate(_variants(table, tables[table]).items()):
        warehouse = tmp_path / f"w{i}"
        _write(warehouse, {table: frame, **{o: tables[o] for o in OTHERS[table]}}, part)
        context = {"expected_rows": frame.height} if table == "documents" else {}
        streamed = validate_table(warehouse, table, part, context=context)
        whole = validate_frame(table, read_table(warehouse, table, part), {"partition": part, **context},
                               others={o: read_table(warehouse, o, part) for o in OTHERS[table]})
        assert _differences(streamed, whole) == [], name
        assert streamed.row_count == frame.height
        failed |= {o.name for o in streamed.failures}
    assert "expect_column_values_to_be_unique(doc_id)" in failed
    for check in {"signals": ["doc_ids_match_documents"], "quality_scores": ["doc_ids_match_documents"],
                  "decisions": ["doc_ids_match_signals"],
                  "corpus": ["rows_trace_to_documents", "rows_are_kept_decisions",
                             "rows_carry_their_quality_scores"]}.get(table, []):
        assert check in failed, check


def test_failing_keyed_checks_give_the_counts_and_ids(sample, tmp_path):
    """A corpus row with no documents row, a doc_id twice, a score that is not the quality_scores row's."""
    part, tables = sample
    corpus = tables["corpus"]
    orphan = corpus.row(0, named=True)["doc_id"]
    twice = corpus.row(1, named=True)["doc_id"]
    rescored = corpus.row(2, named=True)["doc_id"]
    broken = pl.concat([corpus, corpus.slice(1, 1)]).with_columns(
        pl.when(pl.col("doc_id") == rescored).then(pl.col("quality_score") / 3).otherwise(pl.col("quality_score"))
        .alias("quality_score"))
    warehouse = tmp_path / "warehouse"
    _write(warehouse, {"corpus": broken, "documents": tables["documents"].filter(pl.col("doc_id") != orphan),
                       "decisions": tables["decisions"], "quality_scores": tables["quality_scores"]}, part)
    result = validate_table(warehouse, "corpus", part)
    assert not result.success
    trace = result.outcome("rows_trace_to_documents")
    assert (trace.success, trace.unexpected_count, trace.unexpected_ids, trace.element_count) \
        == (False, 1, [orphan], broken.height)
    unique = result.outcome("expect_column_values_to_be_unique", "doc_id")
    assert (unique.success, unique.unexpected_count, unique.unexpected_ids, unique.unexpected_values) \
        == (False, 2, [twice], [twice, twice])
    scores = result.outcome("rows_carry_their_quality_scores")
    assert (scores.success, scores.unexpected_count, scores.unexpected_ids) == (False, 1, [rescored])
    assert result.outcome("rows_are_kept_decisions").success
    # the repeated row also repeats its text_hash
    assert {o.check for o in result.failures} == {"identity", "text", "traceability", "quality_score"}


def test_a_missing_other_table_skips_its_check(sample, tmp_path):
    part, tables = sample
    warehouse = tmp_path / "warehouse"
    _write(warehouse, {"signals": tables["signals"]}, part)
    outcome = validate_table(warehouse, "signals", part).outcome("doc_ids_match_documents")
    assert outcome.success and outcome.skipped == "needs table documents"


def test_a_global_table_with_derived_frames(sample_warehouse, sample, tmp_path):
    """dedup_clusters (global; a derived frame; a compound uniqueness; members checked against every
    document): duplicated members and unknown doc_ids, as the in-memory checks report them."""
    _, tables = sample
    clusters = read_table(sample_warehouse, "dedup_clusters")
    documents = read_table(sample_warehouse, "documents", columns=["doc_id"])
    rows = pl.int_range(pl.len())
    broken = pl.concat([clusters, clusters.head(3)]).with_columns(
        pl.when(rows % 7 == 3).then(pl.lit("f" * 32)).otherwise(pl.col("doc_id")).alias("doc_id"))
    warehouse = tmp_path / "warehouse"
    replace_table_frame(str(warehouse / "dedup_clusters"), broken)
    for part in list_partitions(sample_warehouse, "documents"):
        replace_partition_frame(str(warehouse / "documents"), read_table(sample_warehouse, "documents", part), part)
    streamed = validate_table(warehouse, "dedup_clusters")
    whole = validate_frame("dedup_clusters", read_table(warehouse, "dedup_clusters"), others={"documents": documents})
    assert _differences(streamed, whole) == []
    failed = {o.name for o in streamed.failures}
    assert {"expect_compound_columns_to_be_unique(dedup_kind, doc_id)", "doc_ids_exist_in_documents"} <= failed


@pytest.mark.parametrize("n,width,limit,most", [
    (600_000, 0, "24MB", "24MB"),  # ~20 MB of keys and their hash tables under a 24 MB limit: DuckDB spills
    (200_000, 150, "16MB", "2GiB"),  # long keys: its aggregation needs more than 16 MB, so the limit is raised
])
def test_keyed_checks_spill_beyond_their_memory_limit(tmp_path, monkeypatch, n, width, limit, most):
    """Keys of more bytes than DuckDB's memory limit: the counts and samples are still exact."""
    monkeypatch.setattr(keyed, "MAX_MEMORY_LIMIT", most)
    ids = pl.int_range(n, eager=True).map_elements(lambda i: f"{(i * 7919) % (n - 500):032x}" + "k" * width,
                                                   return_dtype=pl.String)
    frame = pl.DataFrame({"doc_id": ids, "crawl": "C", "shard": "S"})
    part = {"crawl": "C", "shard": "S"}
    replace_partition_frame(str(tmp_path / "keys"), frame, part)
    replace_partition_frame(str(tmp_path / "other"), frame.tail(n - 1000), part)
    schema = table_schema(tmp_path, "keys")
    cfg = {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "doc_id"}}
    with KeyedChecks(tmp_path, "keys", part, None, schema, memory_limit=limit) as checks:
        outcome = checks.expectation(cfg, "doc_id", {}, ["doc_id"])
        other = checks.load("other", ["doc_id"])
        count, ids_ = checks._anti(checks.load("keys", ["doc_id"]), checks._right(other, ["doc_id"]), ["doc_id"])
    expected = frame.filter(pl.col("doc_id").is_duplicated())  # 7919 is prime to n - 500: 500 values twice
    assert outcome.error is None and not outcome.success
    assert outcome.unexpected_count == expected.height == 1000
    assert outcome.unexpected_ids == expected["doc_id"].head(10).to_list()
    head = frame.head(1000).filter(~pl.col("doc_id").is_in(frame.tail(n - 1000)["doc_id"].implode()))
    assert count == head.height == 500 and ids_ == head["doc_id"].head(10).to_list()
