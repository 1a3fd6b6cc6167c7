"""`corpus import` end to end with the real Dagster, Delta, DuckDB, GX and fastText: the bundled sample
warehouse plus an imported JSON Lines file (real texts, one line of each problem, a copy of a crawled page,
an e-mail address), a Parquet file (the WikiText reference excerpt under other field names) and the
synthetic Q&A; then re-importing, the checks, a mixture with a synthetic source and its real-only sibling,
and the one-line errors."""
import contextlib
import io
import json
import re
import shutil

import dagster as dg
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from corpus_assets.cli import main
from corpus_assets.cli.instance import open_instance
from corpus_assets.core.imports.documents import imported_doc_id
from corpus_assets.core.imports.staging import make_spec
from corpus_assets.core.mixtures.store import stored_build
from corpus_assets.core.package_data import bundled_synthetic_qa, package_path

REFERENCE = package_path("data", "reference", "wikitext-2-valid-excerpt.jsonl")
ADDRESS = "jane.doe@example.org"


def run_cli(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    assert code == 0, out.getvalue()[-2000:]
    return out.getvalue()


def table(warehouse, name: str) -> pl.DataFrame:
    return pl.from_arrow(DeltaTable(str(warehouse / name)).to_pyarrow_table())


def crawled_page(warehouse) -> dict:
    """A page the sample's corpus holds, in no duplicate cluster, nothing removed as boilerplate."""
    corpus = table(warehouse, "corpus").filter(pl.col("n_boilerplate_lines") == 0)
    clustered = table(warehouse, "dedup_clusters")["doc_id"]
    doc_id = corpus.filter(~pl.col("doc_id").is_in(clustered.implode()) & (pl.col("lang") == "en")) \
        .sort("doc_id")["doc_id"][0]
    return table(warehouse, "documents").filter(pl.col("doc_id") == doc_id).row(0, named=True)


def write_messy(path, page: dict) -> None:
    wiki = [json.loads(line) for line in REFERENCE.read_text(encoding="utf-8").splitlines()[:3]]
    records = [
        {"id": "wiki-0", "title": wiki[0]["title"], "text": wiki[0]["text"] + f"\nQuestions about lobsters: {ADDRESS}"},
        {"id": "wiki-1", "text": wiki[1]["text"]},
        {"id": "copy-of-crawled", "text": page["text"], "url": page["url"]},
        {"id": "wiki-2", "text": wiki[2]["text"]},
        {"id": "wiki-1", "text": "a second record with a used id"},  # duplicate_id
        {"id": "no-text", "body": wiki[2]["text"]},  # missing_text
        {"id": "empty", "text": " \n "},  # empty_text
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(3, '{"id": "cut off", "text": "a line the writer never fini')  # malformed_line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_parquet(path) -> list[str]:
    """Thirty reference sections under other column names; returns their titles."""
    wiki = [json.loads(line) for line in REFERENCE.read_text(encoding="utf-8").splitlines()[10:40]]
    pq.write_table(pa.table({"section": list(range(len(wiki))), "body": [r["text"] for r in wiki],
                             "title": [r["title"] for r in wiki]}), path)
    return [r["title"] for r in wiki]


@pytest.fixture(scope="module")
def imported(warehouse_with_synthetic, tmp_path_factory):
    """A copy of the sample warehouse with three files imported by `corpus import` (the synthetic Q&A by the
    shared fixture, then two more here); the outputs and inputs."""
    root = tmp_path_factory.mktemp("imports")
    warehouse = root / "warehouse"
    shutil.copytree(warehouse_with_synthetic, warehouse)
    page = crawled_page(warehouse)
    messy, parquet = root / "messy.jsonl", root / "wiki-sections.parquet"
    write_messy(messy, page)
    titles = write_parquet(parquet)
    outputs = {
        "messy": run_cli("import", str(messy), "--source", "messy-notes", "--warehouse", str(warehouse)),
        "parquet": run_cli("import", str(parquet), "--source", "wikitext", "--text-field", "body", "--id-field",
                           "section", "--warehouse", str(warehouse)),
    }
    specs = {"synthetic": make_spec(bundled_synthetic_qa(), "synthetic-qa", synthetic=True, generator="templated-qa-v1"),
             "messy": make_spec(messy, "messy-notes"),
             "parquet": make_spec(parquet, "wikitext", text_field="body", id_field="section")}
    return {"warehouse": warehouse, "outputs": outputs, "specs": specs, "page": page, "messy": messy,
            "parquet_titles": titles}


def test_the_command_reports_every_skipped_record_by_reason(imported):
    out = imported["outputs"]["messy"]
    assert f"partition {imported['specs']['messy'].key}" in out
    assert "records 8: 4 documents, 4 skipped" in out
    for reason in ("duplicate_id: 1 (e.g. line 6: id 'wiki-1')", "empty_text: 1 (e.g. line 8)",
                   "malformed_line: 1 (e.g. line 4: ", "missing_text: 1 (e.g. line 7: no 'text')"):
        assert f"\n  {reason}" in out
    # the same counts are in the materialization metadata
    instance = open_instance(str(imported["warehouse"]))
    [synthetic] = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey("documents"), asset_partitions=[imported["specs"]["synthetic"].key]), limit=1).records
    assert synthetic.asset_materialization.metadata["skips_by_reason"].value == {}
    assert synthetic.asset_materialization.metadata["documents_written"].value == 99
    [record] = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey("documents"), asset_partitions=[imported["specs"]["messy"].key]), limit=1).records
    metadata = record.asset_materialization.metadata
    assert metadata["skips_by_reason"].value == {"duplicate_id": 1, "empty_text": 1, "malformed_line": 1,
                                                 "missing_text": 1}
    assert metadata["documents_written"].value == 4 and metadata["records_read"].value == 8
    assert metadata["skip_examples"].value["malformed_line"][0].startswith("line 4: ")


def test_imported_rows_go_through_every_stage_in_their_own_partitions(imported):
    warehouse, specs = imported["warehouse"], imported["specs"]
    keys = {name: spec.key for name, spec in specs.items()}
    instance = open_instance(str(warehouse))
    for asset in ("documents", "signals", "decisions", "dedup_signatures", "corpus"):
        assert set(keys.values()) <= set(instance.get_materialized_partitions(dg.AssetKey(asset))), asset
    documents = table(warehouse, "documents")
    for name, expected in (("messy", 4), ("parquet", len(imported["parquet_titles"])), ("synthetic", 99)):
        rows = documents.filter(pl.col("crawl") == specs[name].shard.crawl)
        assert rows.height == expected and set(rows["shard"]) == {specs[name].shard.file_hash}
        assert set(table(warehouse, "signals").filter(pl.col("crawl") == specs[name].shard.crawl)["doc_id"]) == \
            set(rows["doc_id"])
    parquet = documents.filter(pl.col("crawl") == "import-wikitext")
    assert parquet["url"].null_count() == parquet.height and set(parquet["lang"]) == {"en"}
    parquet = parquet.sort("warc_record_offset")
    assert parquet["warc_record_offset"].to_list() == list(range(len(imported["parquet_titles"])))
    assert parquet["title"].to_list() == [title or None for title in imported["parquet_titles"]]  # carried


def test_corpus_names_each_rows_source_and_keeps_every_column(imported, sample_warehouse):
    corpus = table(imported["warehouse"], "corpus")
    before = table(sample_warehouse, "corpus")
    assert set(before.columns) | {"source", "synthetic", "generator"} == set(corpus.columns)
    crawled = corpus.filter(~pl.col("crawl").str.starts_with("import-"))
    assert set(crawled["source"]) == {"common-crawl"} and not crawled["synthetic"].any()
    assert crawled["generator"].null_count() == crawled.height
    origin = (corpus.filter(pl.col("crawl").str.starts_with("import-"))
              .group_by("crawl", "source", "synthetic", "generator").len().sort("crawl"))
    assert origin.select("crawl", "source", "synthetic", "generator").rows() == [
        ("import-messy-notes", "messy-notes", False, None), ("import-synthetic-qa", "synthetic-qa", True, "templated-qa-v1"),
        ("import-wikitext", "wikitext", False, None)]
    # the crawled partitions' rows are the sample's, only with the new columns
    assert crawled.drop("source", "synthetic", "generator").sort("doc_id").equals(
        before.select(crawled.drop("source", "synthetic", "generator").columns).sort("doc_id"))


def test_duplicates_are_found_across_sources_and_pii_is_masked_in_imported_text(imported):
    warehouse, spec, page = imported["warehouse"], imported["specs"]["messy"], imported["page"]
    copy_id = imported_doc_id(spec, "copy-of-crawled")
    clusters = table(warehouse, "dedup_clusters")
    [cluster] = clusters.filter(pl.col("doc_id") == copy_id)["cluster_id"]
    members = clusters.filter(pl.col("cluster_id") == cluster).sort("doc_id")
    assert set(members["doc_id"]) == {copy_id, page["doc_id"]}
    assert members.filter(pl.col("is_kept"))["doc_id"].to_list() == [page["doc_id"]]  # the crawled page, fetched
    corpus = table(warehouse, "corpus")
    assert copy_id not in corpus["doc_id"] and page["doc_id"] in corpus["doc_id"]
    wiki0 = imported_doc_id(spec, "wiki-0")
    signals = table(warehouse, "signals").filter(pl.col("doc_id") == wiki0)
    assert signals["pii_email_count"].to_list() == [1]
    [text] = corpus.filter(pl.col("doc_id") == wiki0)["text"]
    assert ADDRESS not in text and "Questions about lobsters: <EMAIL>" in text
    decisions = table(warehouse, "decisions").filter(pl.col("crawl") == spec.shard.crawl)
    assert decisions.height == 4 and decisions["filter_config_hash"].null_count() == 0


def test_the_expectation_suites_pass_with_imported_partitions(imported):
    out = run_cli("check", "--warehouse", str(imported["warehouse"]), "--table", "documents", "--table", "corpus",
                  "--table", "decisions")
    for spec in imported["specs"].values():
        assert f"corpus          {spec.key}" in out
    passed, total = re.search(r"(\d+) of (\d+) suites passed", out).groups()
    assert passed == total and int(total) >= 3 * (6 + 3)  # 3 tables x (6 sample shards + 3 imports)


def test_reimporting_the_same_file_changes_nothing(imported, tmp_path):
    warehouse, spec = imported["warehouse"], imported["specs"]["messy"]
    partition = (pl.col("crawl") == spec.shard.crawl) & (pl.col("shard") == spec.shard.file_hash)
    before = {name: table(warehouse, name).filter(partition).sort("doc_id") for name in ("documents", "corpus")}
    keys = open_instance(str(warehouse)).get_dynamic_partitions("warc_shards")
    moved = tmp_path / "elsewhere" / "messy.jsonl"  # the same bytes from another folder
    moved.parent.mkdir()
    shutil.copy(imported["messy"], moved)
    out = run_cli("import", str(moved), "--source", "messy-notes", "--warehouse", str(warehouse))
    assert "records 8: 4 documents, 4 skipped" in out and f"partition {spec.key}" in out
    assert open_instance(str(warehouse)).get_dynamic_partitions("warc_shards") == keys
    for name, rows in before.items():
        assert table(warehouse, name).filter(partition).sort("doc_id").equals(rows), name


def test_a_mixture_with_a_synthetic_source_and_its_real_only_sibling(imported):
    warehouse = str(imported["warehouse"])
    run_cli("mix", "build", "web-en-zh-v1", "web-en-zh-v1-real-only", "--warehouse", warehouse)
    build = stored_build(warehouse, "web-en-zh-v1")
    assert build.manifest["shortfalls"] == [] and build.manifest["inputs"]["corpus"]["columns_defaulted"] == {}
    rows = build.rows
    synthetic = rows.filter(pl.col("source") == "synth_qa")
    assert synthetic.height > 0 and synthetic["synthetic"].all() and not rows.filter(
        pl.col("source") != "synth_qa")["synthetic"].any()
    assert 0.04 <= synthetic["n_tokens"].sum() / rows["n_tokens"].sum() <= 0.05
    corpus = table(imported["warehouse"], "corpus")
    assert set(synthetic["doc_id"]) <= set(corpus.filter(pl.col("source") == "synthetic-qa")["doc_id"])
    real_only = stored_build(warehouse, "web-en-zh-v1-real-only").rows
    assert real_only.height > 0 and not real_only["synthetic"].any() and "synth_qa" not in real_only["source"]


@pytest.mark.parametrize("make, args, message", [
    (lambda p: p.write_text('{"id": 1, "body": "x"}\n'), [], "no record among the first 1000 has the field 'text'"),
    (lambda p: p.write_text('{"id": 1, "text": "x"}\n'), ["--synthetic"], "--synthetic needs --generator"),
    (lambda p: p.write_text('{"id": 1, "text": "x"}\n'), ["--source", "Web Text"], "source name 'Web Text'"),
    (lambda p: pq.write_table(pa.table({"id": [1], "body": ["x"]}), p.with_suffix(".parquet")), ["--parquet"],
     "no column 'text' for the text"),
])
def test_import_errors_are_one_line_and_write_nothing(tmp_path, capsys, make, args, message):
    path = tmp_path / "data.jsonl"
    make(path)
    if args == ["--parquet"]:
        path, args = path.with_suffix(".parquet"), []
    if "--source" not in args:
        args = [*args, "--source", "x"]
    warehouse = tmp_path / "warehouse"
    assert main(["import", str(path), *args, "--warehouse", str(warehouse)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("corpus: error: ") and "\n" not in err and message in err, err
    assert not (warehouse / "_imports").exists()


def test_a_missing_file_is_one_line(tmp_path, capsys):
    assert main(["import", str(tmp_path / "nope.jsonl"), "--source", "x", "--warehouse", str(tmp_path / "w")]) == 1
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_the_suites_catch_rows_whose_origin_or_url_is_wrong(imported):
    from corpus_assets.core.checks.tables import read_table
    from corpus_assets.core.checks.validate import validate_frame

    warehouse, spec = imported["warehouse"], imported["specs"]["synthetic"]
    crawled = {"crawl": "CC-SAMPLE-2026-03", "shard": "00000"}
    synthetic = {"crawl": spec.shard.crawl, "shard": spec.shard.file_hash}

    def failing(table: str, partition: dict, change: dict) -> set[str]:
        frame = read_table(warehouse, table, partition)
        first = pl.int_range(pl.len()) == 0
        frame = frame.with_columns(pl.when(first).then(pl.lit(v, frame.schema[c])).otherwise(pl.col(c)).alias(c)
                                   for c, v in change.items())
        return {o.name for o in validate_frame(table, frame, {"partition": partition}).failures}

    source_check = "expect_column_values_to_be_in_set(source_matches_partition)"
    generator_check = "expect_column_values_to_be_in_set(generator_iff_synthetic)"
    assert failing("corpus", crawled, {}) == failing("corpus", synthetic, {}) == set()
    assert failing("corpus", crawled, {"synthetic": True}) == {source_check, generator_check}
    assert failing("corpus", crawled, {"source": "synthetic-qa"}) == {source_check}
    assert failing("corpus", synthetic, {"source": "common-crawl"}) == {source_check}
    assert failing("corpus", synthetic, {"generator": None}) == {generator_check}
    # a crawled page needs its URL; an imported record may have none
    url_check = "expect_column_values_to_be_in_set(url_present_unless_imported)"
    assert failing("documents", crawled, {"url": None}) == {url_check}
    assert failing("documents", synthetic, {"url": None}) == set()


def test_materialize_takes_the_imported_partitions_through_its_phases(imported):
    """A new filter config re-decides imported rows too: `corpus materialize` includes every imported file."""
    warehouse = str(imported["warehouse"])
    instance = open_instance(warehouse)
    key = imported["specs"]["parquet"].key

    def latest_decisions() -> int:
        return instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("decisions"), asset_partitions=[key]), limit=1).records[0].storage_id

    before = latest_decisions()
    out = run_cli("materialize", "--select", "decisions", "--warehouse", warehouse, "--workers", "2")
    assert "6 shards (0 newly registered) and 3 imported file(s)" in out and f"{key} ok" in out
    assert latest_decisions() > before
