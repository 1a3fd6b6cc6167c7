"""`corpus mix` end to end on the sample warehouse (with the synthetic Q&A imported): build through Dagster
runs, list, diff after a spec change, `corpus sql --version`, export twice, spot-check; `corpus materialize`
builds the mixtures as its last phase and the demo shows one."""
import csv
import json
import shutil

import dagster as dg
import polars as pl
import pytest
import yaml
from deltalake import DeltaTable
from mixture_fixtures import MIXTURES

from corpus_assets.cli import main
from corpus_assets.cli.demo import show_mixture
from corpus_assets.cli.instance import open_instance
from corpus_assets.core.mixtures.diff import diff_mixture_rows
from corpus_assets.core.mixtures.spec import load_specs
from corpus_assets.core.mixtures.spotcheck import SHEET_COLUMNS
from corpus_assets.core.mixtures.store import build_versions, read_rows, stored_build
from warc_fixtures import warc_response, write_crawl

NAMES = sorted(load_specs(MIXTURES))


def run(capsys, *args) -> str:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def fails(capsys, *args) -> str:
    capsys.readouterr()
    assert main(list(args)) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("corpus: error: ") and "\n" not in err, err
    return err


@pytest.fixture(scope="module")
def warehouse(warehouse_with_synthetic, tmp_path_factory):
    """A copy of the warehouse with every mixture built by `corpus mix build`."""
    warehouse = tmp_path_factory.mktemp("mix-cli") / "warehouse"
    shutil.copytree(warehouse_with_synthetic, warehouse)
    assert main(["mix", "build", "--warehouse", str(warehouse), "--workers", "0"]) == 0
    return warehouse


def test_materialize_builds_every_mixture_after_the_corpus_and_the_demo_shows_one(sample_warehouse, capsys):
    instance = open_instance(str(sample_warehouse))
    assert sorted(instance.get_materialized_partitions(dg.AssetKey("mixtures"))) == NAMES
    corpus_version = DeltaTable(str(sample_warehouse / "corpus")).version()
    for name in NAMES:
        assert stored_build(str(sample_warehouse), name).manifest["inputs"]["corpus"]["delta_version"] == corpus_version
    capsys.readouterr()
    assert show_mixture(str(sample_warehouse), str(MIXTURES)) == "web-curriculum-v1"
    out = capsys.readouterr().out
    assert out.startswith("Mixtures: web-curriculum-v1 (") and "web-en-zh-v1-real-only (" in out
    assert "\nMixture web-curriculum-v1 (" in out and "low-resource" in out and "web_zh" in out


def test_mix_build_runs_through_dagster_and_list_says_what_is_built(warehouse, capsys):
    instance = open_instance(str(warehouse))
    runs = {record.dagster_run.run_id: record.dagster_run.tags["dagster/partition"] for record in
            instance.get_run_records(dg.RunsFilter(job_name="build_mixtures", tags={"corpus/launched_by": "cli"}))}
    for name in NAMES:  # the latest build of each mixture is a build_mixtures run for its partition
        [latest] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("mixtures"), asset_partitions=[name]), limit=1).records
        assert runs[latest.run_id] == name
    listing = json.loads(run(capsys, "mix", "list", "--warehouse", str(warehouse), "--format", "json"))
    assert [row["mixture"] for row in listing] == NAMES and {row["status"] for row in listing} == {"up to date"}
    for row in listing:
        assert row["rows"] == read_rows(str(warehouse), row["mixture"]).height
        assert row["built_version"] == build_versions(str(warehouse), row["mixture"])[-1]


def test_mix_diff_after_a_spec_change_and_sql_reads_the_earlier_build(warehouse, tmp_path, capsys):
    copy, specs = tmp_path / "wh", tmp_path / "specs"
    shutil.copytree(warehouse, copy)
    shutil.copytree(MIXTURES, specs)
    data = yaml.safe_load((specs / "web-en-zh-v1.yaml").read_text())
    (specs / "web-en-zh-v1.yaml").write_text(yaml.safe_dump({**data, "token_budget": 60000}))
    where = ["--warehouse", str(copy), "--mixtures", str(specs)]
    listing = json.loads(run(capsys, "mix", "list", *where, "--format", "json"))
    assert {row["mixture"]: row["status"] for row in listing}["web-en-zh-v1"] == "spec changed"
    before = build_versions(str(copy), "web-en-zh-v1")[-1]
    run(capsys, "mix", "build", "web-en-zh-v1", *where, "--workers", "0")
    after = build_versions(str(copy), "web-en-zh-v1")[-1]
    assert after > before
    old, new = read_rows(str(copy), "web-en-zh-v1", before), read_rows(str(copy), "web-en-zh-v1", after)
    diff = json.loads(run(capsys, "mix", "diff", "web-en-zh-v1", "--warehouse", str(copy), "--format", "json"))
    assert diff == diff_mixture_rows(old, new).to_dicts()
    assert sum(row["tokens_added"] - row["tokens_removed"] for row in diff) == new["n_tokens"].sum() - old["n_tokens"].sum() > 0
    header = run(capsys, "mix", "diff", "web-en-zh-v1", "--warehouse", str(copy), "--from", str(before))
    assert header.startswith(f"mixture web-en-zh-v1: version {before} (spec {old['spec_hash'][0]}")

    query = "SELECT count(*) AS n, sum(n_tokens)::BIGINT AS tokens FROM mixtures WHERE mixture = 'web-en-zh-v1'"
    then = json.loads(run(capsys, "sql", "--warehouse", str(copy), "--version", f"mixtures={before}", "--format", "json",
                          query))
    now = json.loads(run(capsys, "sql", "--warehouse", str(copy), "--format", "json", query))
    assert then == [{"n": old.height, "tokens": old["n_tokens"].sum()}]
    assert now == [{"n": new.height, "tokens": new["n_tokens"].sum()}]
    summary = json.loads(run(capsys, "sql", "--warehouse", str(copy), "--version", f"mixtures={before}", "--format",
                             "json", "SELECT sum(tokens)::BIGINT AS t FROM mixture_summary WHERE mixture = 'web-en-zh-v1'"))
    assert summary == [{"t": old["n_tokens"].sum()}]  # derived views follow the version too
    latest = DeltaTable(str(copy / "mixtures")).version()
    assert "has versions 0 to" in fails(capsys, "sql", "--warehouse", str(copy), "--version",
                                        f"mixtures={latest + 1}", query)
    assert "expected TABLE=VERSION" in fails(capsys, "sql", "--warehouse", str(copy), "--version", "mixtures", query)


def files_of(folder) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_mix_export_twice_gives_identical_bytes(warehouse, tmp_path, capsys):
    for out in ("a", "b"):
        run(capsys, "mix", "export", "web-curriculum-v1", "--warehouse", str(warehouse), "--format", "parquet",
            "--shard-rows", "50", "--out", str(tmp_path / out))
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    build = stored_build(str(warehouse), "web-curriculum-v1")
    index = json.loads((tmp_path / "a" / "index.json").read_text())
    assert sum(item["rows"] for item in index["files"]) == build.rows.height
    assert json.loads((tmp_path / "a" / "manifest.json").read_text()) == build.manifest
    exported = pl.read_parquet(tmp_path / "a" / "01-low-resource" / "*.parquet")
    assert exported.height == build.rows.filter(pl.col("stage") == "low-resource").height
    assert "tokenizer.json" in fails(capsys, "mix", "export", "web-curriculum-v1", "--warehouse", str(warehouse),
                                     "--format", "tokens", "--out", str(tmp_path / "c"))


def test_mix_spot_check_writes_a_seeded_rating_sheet_per_synthetic_source(warehouse, tmp_path, capsys):
    for sheet in ("one.csv", "two.csv"):
        run(capsys, "mix", "spot-check", "web-en-zh-v1", "--n", "5", "--warehouse", str(warehouse),
            "--out", str(tmp_path / sheet))
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    with open(tmp_path / "one.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    synthetic = stored_build(str(warehouse), "web-en-zh-v1").rows.filter(pl.col("synthetic"))
    assert list(rows[0]) == SHEET_COLUMNS and len(rows) == 5
    assert {row["doc_id"] for row in rows} <= set(synthetic["doc_id"])
    assert all(row["excerpt"] and row["title"] and not row["rating"] for row in rows)
    assert "no synthetic source" in fails(capsys, "mix", "spot-check", "web-curriculum-v1", "--n", "5",
                                          "--warehouse", str(warehouse), "--out", str(tmp_path / "x.csv"))


def test_mix_errors_are_one_line_naming_what_is_wrong(warehouse, tmp_path, capsys):
    where = ["--warehouse", str(warehouse)]
    assert "no mixture spec named nope" in fails(capsys, "mix", "build", "nope", *where)
    assert "mixture nope has not been built" in fails(capsys, "mix", "diff", "nope", *where)
    assert "has no version 999" in fails(capsys, "mix", "export", "web-en-zh-v1", "--version", "999", *where)
    specs = tmp_path / "specs"
    shutil.copytree(MIXTURES, specs)
    data = yaml.safe_load((specs / "web-en-zh-v1.yaml").read_text())
    data["sources"][1]["weight"] = -1
    (specs / "web-en-zh-v1.yaml").write_text(yaml.safe_dump(data))
    err = fails(capsys, "mix", "build", *where, "--mixtures", str(specs))
    assert f"{specs / 'web-en-zh-v1.yaml'}: sources[1].weight: " in err
    err = fails(capsys, "materialize", *where, "--mixtures", str(specs), "--select", "mixtures")
    assert f"{specs / 'web-en-zh-v1.yaml'}: sources[1].weight: " in err  # rejected before any run starts


def test_materialize_builds_the_packaged_examples_only_over_the_bundled_sample(tmp_path, capsys):
    html = b"<html><body><article><p>" + b"A real paragraph with enough words to be a document. " * 20 + b"</p></article></body></html>"
    write_crawl(tmp_path / "src", "CC-OTHER", {"a.warc.gz": warc_response("https://other.example/a", html)})
    out = run(capsys, "materialize", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"),
              "--select", "mixtures", "--workers", "0")
    assert "mixtures: not built; the packaged example specs are sized for the bundled sample" in out
    assert not (tmp_path / "wh" / "mixtures").exists()
