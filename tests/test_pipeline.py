"""The documents asset through real Dagster runs into a real Delta table, queried by `corpus sql`."""
import json
import os
import subprocess
import sys

import dagster as dg
import polars as pl
import pytest
from deltalake import DeltaTable

from corpus_assets.cli import main
from corpus_assets.cli.instance import documents_written, open_instance
from corpus_assets.cli.runner import cli_run_config, register_partitions, run_environment, run_partitions
from warc_fixtures import copy_sample, sample_files


def sql(capsys, warehouse, query):
    capsys.readouterr()
    assert main(["sql", "--warehouse", str(warehouse), "--format", "json", query]) == 0
    return json.loads(capsys.readouterr().out)


def test_sample_materializes_through_dagster_and_answers_sql(sample_warehouse, capsys):
    rows = sql(capsys, sample_warehouse, "SELECT crawl, count(DISTINCT shard) AS shards, count(*) AS n, "
                                         "count(DISTINCT doc_id) AS ids FROM documents GROUP BY crawl ORDER BY crawl")
    assert [(r["crawl"], r["shards"]) for r in rows] == [("CC-SAMPLE-2026-03", 4), ("CC-SAMPLE-2026-07", 2)]
    assert all(r["n"] == r["ids"] for r in rows)
    # every response record of the sample is a document or a counted skip, per the materializations
    from corpus_assets.core.ingest.warc_reader import iter_records
    responses = sum(1 for crawl in ("CC-SAMPLE-2026-03", "CC-SAMPLE-2026-07") for f in sample_files(crawl)
                    for _ in iter_records(open(f, "rb")))
    instance = open_instance(str(sample_warehouse))
    keys = [f"{r['crawl']}/{i:05d}" for r in rows for i in range(r["shards"])]
    read = written = skipped = 0
    for key in keys:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("documents"), asset_partitions=[key]), limit=1).records
        meta = record.asset_materialization.metadata
        read += meta["records_read"].value
        written += meta["documents_written"].value
        skipped += sum(meta["skips_by_reason"].value.values())
    assert read == responses == written + skipped and written == sum(r["n"] for r in rows)
    langs = {r["lang"] for r in sql(capsys, sample_warehouse, "SELECT DISTINCT lang FROM documents")}
    assert {"de", "en", "zh", "ja", "ko", "ru", "ar"} <= langs
    bad = sql(capsys, sample_warehouse, "SELECT count(*) AS n FROM documents WHERE n_chars <> length(text) "
                                        "OR lang_score NOT BETWEEN 0 AND 1 OR url_host = '' AND url NOT LIKE 'http://hard::%'")
    assert bad == [{"n": 0}]
    # the Dagster instance recorded a materialization per shard with metadata
    assert len(instance.get_materialized_partitions(dg.AssetKey("documents"))) >= 6


def test_sql_rejects_writes_and_bad_queries(sample_warehouse, capsys):
    assert main(["sql", "--warehouse", str(sample_warehouse), "DROP VIEW documents"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert main(["sql", "--warehouse", str(sample_warehouse), "SELECT nope FROM documents"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("corpus: error:") and len(err.strip().splitlines()) == 1
    csv_out = main(["sql", "--warehouse", str(sample_warehouse), "--format", "csv", "SELECT 1 AS a, 'x' AS b"])
    assert csv_out == 0 and capsys.readouterr().out == "a,b\n1,x\n"


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_rematerializing_a_partition_replaces_exactly_its_rows(tmp_path, capsys):
    warehouse = tmp_path / "wh"
    args = ["materialize", "--warehouse", str(warehouse), "--crawl", "CC-SAMPLE-2026-03", "--max-files", "2",
            "--select", "documents", "--workers", "0"]
    assert main(args) == 0
    first = pl.read_delta(str(warehouse / "documents")).sort("doc_id")
    assert main(args) == 0
    second = pl.read_delta(str(warehouse / "documents")).sort("doc_id")
    assert first.height == second.height > 0
    assert first.select("doc_id", "shard", "text").equals(second.select("doc_id", "shard", "text"))
    assert DeltaTable(str(warehouse / "documents")).version() == 3  # 2 shards x 2 overwrite commits


@pytest.mark.slow  # the suite's one test of the CLI's worker processes, started as a user starts them
def test_corpus_materialize_in_worker_processes_loses_and_duplicates_nothing(tmp_path):
    """`corpus materialize` in its own process: four shards at once from two worker processes into one
    Delta table, then again; every run is recorded in the warehouse's Dagster instance."""
    warehouse = tmp_path / "wh"
    command = [sys.executable, "-m", "corpus_assets.cli", "materialize", "--warehouse", str(warehouse),
               "--crawl", "CC-SAMPLE-2026-03", "--select", "documents", "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("CORPUS_")}
    for _ in range(2):
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert result.stdout.count(" ok ") == 4 and "with 2 workers" in result.stdout, result.stdout
        written = documents_written(open_instance(str(warehouse)))  # the latest run of each shard
        table = pl.read_delta(str(warehouse / "documents"))
        assert table.height == sum(written.values()) == table["doc_id"].n_unique()
        assert sorted(table["shard"].unique()) == ["00000", "00001", "00002", "00003"] and len(written) == 4
    runs = open_instance(str(warehouse)).get_run_records(dg.RunsFilter(job_name="ingest_shard"))
    assert len(runs) == 8 and {r.dagster_run.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}


@pytest.mark.slow  # Dagster's multiprocess executor starts a process per step
def test_multiprocess_executor_runs_a_shard(tmp_path):
    """The job's multiprocess executor (one process per step), as runs launched from the UI use it."""
    register_partitions(open_instance(str(tmp_path / "wh")), ["CC-SAMPLE-2026-07/00001"])
    run_config = {"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}
    [outcome] = run_partitions(["CC-SAMPLE-2026-07/00001"], ["documents"], run_config, workers=0,
                               env=run_environment(str(tmp_path / "wh")))
    assert outcome.success, outcome.error
    assert pl.read_delta(str(tmp_path / "wh" / "documents")).height == 77


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_a_damaged_warc_keeps_what_was_read_and_reports_it(tmp_path):
    source = copy_sample(tmp_path / "src", crawls=["CC-SAMPLE-2026-03"])
    victim = sorted((source / "crawl-data/CC-SAMPLE-2026-03").rglob("*00001.warc.gz"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    warehouse = tmp_path / "wh"
    keys = ["CC-SAMPLE-2026-03/00000", "CC-SAMPLE-2026-03/00001"]
    register_partitions(open_instance(str(warehouse)), keys)
    outcomes = {o.partition: o for o in run_partitions(keys, ["documents"], cli_run_config(), workers=0,
                                                       env=run_environment(str(warehouse), str(source)))}
    damaged, healthy = outcomes[keys[1]].metadata["documents"], outcomes[keys[0]].metadata["documents"]
    assert outcomes[keys[1]].success and outcomes[keys[0]].success
    assert len(damaged["damaged_files"]) == 1 and "00001.warc.gz" in damaged["damaged_files"][0]
    assert 0 < damaged["documents_written"] < 107  # the whole file gives 107
    assert healthy["damaged_files"] == []
    assert healthy["records_read"] == 108 == healthy["documents_written"] + sum(healthy["skips_by_reason"].values())
    counts = dict(pl.read_delta(str(warehouse / "documents")).group_by("shard").len().iter_rows())
    assert counts == {"00000": healthy["documents_written"], "00001": damaged["documents_written"]}


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["materialize", "--source", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "wh")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("corpus: error: source folder not found") and "\n" not in err
    assert main(["materialize", "--select", "nonsense", "--warehouse", str(tmp_path / "wh")]) == 1
    assert "unknown asset" in capsys.readouterr().err
    assert main(["sql", "--warehouse", str(tmp_path / "empty"), "SELECT 1"]) == 1
    assert "no warehouse" in capsys.readouterr().err


def test_sql_reads_the_warehouse_and_nothing_else(sample_warehouse, tmp_path, capsys):
    outside = tmp_path / "secret.csv"
    outside.write_text("a,b\n1,2\n")
    for query in (f"SELECT * FROM read_csv('{outside}')", "SELECT * FROM read_text('/etc/passwd')",
                  f"SELECT * FROM read_parquet('{tmp_path}/*.parquet')"):
        assert main(["sql", "--warehouse", str(sample_warehouse), query]) == 1
        err = capsys.readouterr().err
        assert err.startswith("corpus: error:") and ("disabled" in err or "not allowed" in err.lower()), err
    assert sql(capsys, sample_warehouse, "SELECT count(*) > 0 AS ok FROM corpus") == [{"ok": True}]
    inside = next((sample_warehouse / "documents").rglob("*.parquet"))
    assert sql(capsys, sample_warehouse, f"SELECT count(*) > 0 AS ok FROM read_parquet('{inside}')") == [{"ok": True}]
