"""GX suites as blocking Dagster asset checks and as `corpus check`."""
import shutil

import dagster as dg
import polars as pl
import pytest

from corpus_assets.cli import main
from corpus_assets.core.checks.suites import check_groups
from corpus_assets.core.lake.delta_tables import replace_partition_frame
from corpus_assets.cli.instance import open_instance
from corpus_assets.cli.runner import cli_run_config, register_partitions, run_environment, run_partitions
from warc_fixtures import REPO, warc_response, write_crawl

# table: the asset its checks belong to
TABLES = {"documents": "documents", "signals": "signals", "quality_scores": "quality_scores", "decisions": "decisions",
          "corpus": "corpus", "dedup_clusters": "dedup_clusters", "quality_models": "quality_model", "mixtures": "mixtures"}


def latest_evaluation(instance, asset, check, partition=None):
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=20):
        if record.evaluation is not None and (partition is None or record.evaluation.partition == partition):
            return record.evaluation
    return None


def test_checks_pass_on_the_sample_and_cli_writes_a_report(sample_warehouse, capsys):
    instance = open_instance(str(sample_warehouse))
    for table, asset in TABLES.items():
        for group in check_groups(table):
            evaluation = latest_evaluation(instance, asset, group.name)
            assert evaluation is not None and evaluation.passed, (table, group.name)
    assert main(["check", "--warehouse", str(sample_warehouse)]) == 0
    out = capsys.readouterr().out
    assert "35 of 35 suites passed" in out  # 5 partitioned tables x 6 shards, dedup_clusters, quality_models, 3 mixtures
    assert (sample_warehouse / "_reports" / "expectations.html").stat().st_size > 1000


def test_corrupted_tables_fail_the_right_expectation(sample_warehouse, tmp_path, capsys):
    warehouse = tmp_path / "wh"
    shutil.copytree(sample_warehouse, warehouse)
    partition = {"crawl": "CC-SAMPLE-2026-03", "shard": "00000"}
    docs = pl.read_delta(str(warehouse / "documents")).filter((pl.col("crawl") == "CC-SAMPLE-2026-03") & (pl.col("shard") == "00000"))
    bad_docs = pl.concat([docs.with_columns(lang_score=pl.when(pl.int_range(pl.len()) == 0).then(5.0)
                                            .otherwise(pl.col("lang_score"))), docs.head(1)])
    replace_partition_frame(str(warehouse / "documents"), bad_docs, partition)
    corpus = pl.read_delta(str(warehouse / "corpus")).filter((pl.col("crawl") == "CC-SAMPLE-2026-03") & (pl.col("shard") == "00000"))
    leaked = corpus.with_columns(text=pl.when(pl.int_range(pl.len()) == 0)
                                 .then(pl.col("text") + " Contact: jane.doe@example.org").otherwise(pl.col("text")))
    replace_partition_frame(str(warehouse / "corpus"), leaked, partition)
    assert main(["check", "--warehouse", str(warehouse), "--table", "documents", "--table", "corpus"]) == 1
    out = capsys.readouterr().out
    assert "expect_column_values_to_be_between(lang_score)" in out
    assert "expect_column_values_to_be_unique(doc_id)" in out
    assert "expect_column_values_to_not_match_regex_list(text)" in out
    assert corpus["doc_id"][0] in out  # the failing row is named


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_a_failing_blocking_check_stops_downstream_assets(tmp_path):
    html = "<html><body><article><p>" + "A real paragraph with enough words to be a document. " * 20 + "</p></article></body></html>"
    record = warc_response("https://dup.example/page", html.encode())
    write_crawl(tmp_path / "src", "CC-BROKEN", {"f.warc.gz": record + record})  # the same record twice
    key = "CC-BROKEN/00000"
    instance = open_instance(str(tmp_path / "wh"))
    register_partitions(instance, [key])
    env = run_environment(str(tmp_path / "wh"), str(tmp_path / "src"))
    [outcome] = run_partitions([key], ["documents", "signals"], cli_run_config(), workers=0, env=env)
    assert "documents" in outcome.metadata and "signals" not in outcome.metadata
    assert not outcome.success and "documents" in outcome.error
    evaluation = latest_evaluation(instance, "documents", "identity", key)
    assert evaluation is not None and not evaluation.passed
    assert latest_evaluation(instance, "documents", "schema", key).passed
    assert "expect_column_values_to_be_unique(doc_id)" in str(evaluation.metadata)
    assert not (tmp_path / "wh" / "signals").exists()


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_a_failed_shard_stops_neither_the_others_nor_the_report(tmp_path, capfd):
    """One shard fails its blocking check; the other is deduplicated and published; the command ends
    with one line per failed shard, and --missing re-runs exactly that shard."""
    html = "<html><body><article><p>" + "A real paragraph with enough words to be a document. " * 20 + "</p></article></body></html>"
    record = warc_response("https://dup.example/page", html.encode())
    good = next((REPO / "data" / "sample-crawl" / "crawl-data" / "CC-SAMPLE-2026-07").rglob("*.warc.gz")).read_bytes()
    write_crawl(tmp_path / "src", "CC-MIXED", {"a.warc.gz": good, "b.warc.gz": record + record})
    args = ["materialize", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"), "--workers", "0"]
    assert main(args) == 1
    out, err = capfd.readouterr()
    failed = [line for line in out.splitlines() if line.startswith("  CC-MIXED/")]
    assert len(failed) == 1 and "CC-MIXED/00001" in failed[0] and "documents" in failed[0]
    assert len(err.strip().splitlines()) == 1 and "--missing" in err
    assert "Traceback" not in out + err and len((out + err).splitlines()) < 30
    assert set(pl.read_delta(str(tmp_path / "wh" / "corpus"))["shard"]) == {"00000"}
    assert main(args + ["--missing"]) == 1
    out, _ = capfd.readouterr()
    assert "for 1 with" in out and "CC-MIXED/00000" not in out.split("deduplicating")[0]
