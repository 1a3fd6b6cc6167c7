"""Signals → decisions → dedup → corpus through real Dagster runs on the bundled sample and on a
crawl made of the labelled near-duplicate articles."""
import itertools
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from corpus_assets.cli import main
from corpus_assets.cli.instance import open_instance
from corpus_assets.cli.runner import cli_run_config, run_environment, run_partitions
from warc_fixtures import REPO, warc_response, write_crawl

# an e-mail address; not a git remote (git@host:repo), which core/pii.py deliberately leaves alone
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])(?!git@)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def table(warehouse, name):
    return pl.read_delta(str(Path(warehouse) / name))


def test_every_shard_asset_has_one_row_per_document(sample_warehouse):
    documents = table(sample_warehouse, "documents")
    for name in ("signals", "decisions", "dedup_signatures"):
        other = table(sample_warehouse, name)
        assert sorted(other["doc_id"]) == sorted(documents["doc_id"]), name
    decisions = table(sample_warehouse, "decisions")
    assert (decisions["keep"] == (decisions["drop_reasons"].list.len() == 0)).all()
    assert decisions["filter_config_hash"].n_unique() == 1


def test_sample_duplicates_are_found_and_one_representative_kept(sample_warehouse):
    clusters = table(sample_warehouse, "dedup_clusters")
    per_cluster = clusters.group_by("cluster_id").agg(pl.col("is_kept").sum().alias("kept"), pl.len().alias("n"),
                                                      pl.col("cluster_size").first())
    assert (per_cluster["kept"] == 1).all() and (per_cluster["n"] == per_cluster["cluster_size"]).all()
    # the second crawl re-crawls 46 first-crawl URLs (44 with identical text) and mirrors 30 pages on mirror.* hosts
    recrawls = clusters.filter(pl.col("dedup_kind") == "url")
    assert recrawls["cluster_id"].n_unique() >= 44
    assert (recrawls.filter("is_kept")["crawl"] == "CC-SAMPLE-2026-07").all()  # the latest fetch is kept
    mirrors = clusters.filter(pl.col("url").str.contains("://mirror."))
    assert mirrors.height >= 28 and not mirrors["is_kept"].any()  # 28 of the 30 are found; the original is kept


def test_corpus_holds_kept_representatives_only_and_no_raw_pii(sample_warehouse):
    corpus = table(sample_warehouse, "corpus")
    decisions = table(sample_warehouse, "decisions")
    duplicates = table(sample_warehouse, "dedup_clusters").filter(~pl.col("is_kept"))["doc_id"]
    kept = decisions.filter("keep").filter(~pl.col("doc_id").is_in(duplicates.implode()))
    assert sorted(corpus["doc_id"]) == sorted(kept["doc_id"])
    assert corpus["text_hash"].n_unique() == corpus.height
    raw = table(sample_warehouse, "documents").filter(pl.col("doc_id").is_in(corpus["doc_id"].implode()))
    assert sum(1 for text in raw["text"] if EMAIL.search(text)) >= 5  # the sample does contain e-mails...
    assert not any(EMAIL.search(text) for text in corpus["text"])  # ...and none reaches the corpus
    assert corpus["pii_email_count"].sum() > 0 and "<EMAIL>" in "".join(corpus["text"])


def test_incremental_dedup_equals_a_from_scratch_run(sample_warehouse, tmp_path, capsys):
    warehouse = tmp_path / "wh"
    no_mixtures = ["--mixtures", str(tmp_path / "no-mixtures"), "--workers", "0"]  # the mix phase is not tested here
    (tmp_path / "no-mixtures").mkdir()
    assert main(["materialize", "--warehouse", str(warehouse), "--crawl", "CC-SAMPLE-2026-03", *no_mixtures]) == 0
    assert main(["materialize", "--warehouse", str(warehouse), "--crawl", "CC-SAMPLE-2026-07", *no_mixtures]) == 0
    assert "incremental, verified:" in capsys.readouterr().out  # verification is on by default
    columns = ["doc_id", "cluster_id", "cluster_size", "is_kept", "dedup_kind"]
    incremental = table(warehouse, "dedup_clusters").select(columns).sort("doc_id")
    # the same clusters as one run over both crawls at once
    membership = ["doc_id", "cluster_id", "cluster_size", "dedup_kind"]
    assert incremental.select(membership).equals(table(sample_warehouse, "dedup_clusters").select(membership).sort("doc_id"))
    # and the same representatives as a from-scratch run over the same decisions (representatives follow the
    # quality scores, which here come from the model versions trained after each crawl)
    [full] = run_partitions([None], ["dedup_clusters"], cli_run_config({"dedup_clusters": {"incremental": False}}),
                            0, run_environment(str(warehouse)), "deduplicate")
    assert full.success and full.metadata["dedup_clusters"]["mode"] == "full, verified"
    assert incremental.equals(table(warehouse, "dedup_clusters").select(columns).sort("doc_id"))
    # the first crawl's corpus partitions were refreshed: no duplicate of a cluster stays in the corpus
    duplicates = set(incremental.filter(~pl.col("is_kept"))["doc_id"])
    corpus = table(warehouse, "corpus")
    assert not set(corpus["doc_id"]) & duplicates and set(corpus["crawl"]) == {"CC-SAMPLE-2026-03", "CC-SAMPLE-2026-07"}


def test_changing_the_filter_config_reruns_decisions_only(sample_warehouse, tmp_path, capsys):
    warehouse = tmp_path / "wh"
    shutil.copytree(sample_warehouse, warehouse)
    versions = {name: DeltaTable(str(warehouse / name)).version() for name in ("documents", "signals")}
    before = table(warehouse, "decisions")
    strict = tmp_path / "strict.yaml"
    strict.write_text((REPO / "configs" / "filters.yaml").read_text()
                      .replace("c4_min_terminal_punct_line_frac: null", "c4_min_terminal_punct_line_frac: 0.9"))
    assert main(["materialize", "--warehouse", str(warehouse), "--select", "decisions", "--workers", "0",
                 "--filter-config", str(strict)]) == 0
    after = table(warehouse, "decisions")
    assert {name: DeltaTable(str(warehouse / name)).version() for name in versions} == versions
    assert after["filter_config_hash"].n_unique() == 1 and after["filter_config_hash"][0] != before["filter_config_hash"][0]
    assert after["keep"].sum() < before["keep"].sum()
    assert after.filter(pl.col("drop_reasons").list.contains("c4_min_terminal_punct_line_frac")).height > 0
    # corpus still holds the old verdicts: the command says so in one line, and --stale refreshes it
    stale_line = [line for line in capsys.readouterr().out.splitlines() if "older than its inputs" in line]
    assert len(stale_line) == 1 and "--stale" in stale_line[0]
    dropped = set(after.filter(~pl.col("keep"))["doc_id"])
    assert set(table(warehouse, "corpus")["doc_id"]) & dropped
    assert main(["materialize", "--warehouse", str(warehouse), "--select", "dedup_clusters,corpus", "--stale",
                 "--workers", "0"]) == 0
    assert not set(table(warehouse, "corpus")["doc_id"]) & dropped
    assert "older than its inputs" not in capsys.readouterr().out


@pytest.mark.parametrize("change, field", [
    ("gopher_min_words: 50", "gopher_min_wordz: 50"),
    ("gopher_max_dup_line_frac: 0.3", "gopher_max_dup_line_frac: 3.5"),
    ("gopher_min_words: 50", "gopher_min_words: lots"),
])
def test_a_malformed_filter_config_is_rejected_before_any_run(tmp_path, capsys, change, field):
    bad = tmp_path / "bad.yaml"
    text = (REPO / "configs" / "filters.yaml").read_text()
    assert change in text
    bad.write_text(text.replace(change, field))
    instance = open_instance(str(tmp_path / "wh"))
    runs_before = len(instance.get_run_records())
    assert main(["materialize", "--warehouse", str(tmp_path / "wh"), "--filter-config", str(bad)]) == 1
    error = capsys.readouterr().err
    assert str(bad) in error and field.split(":")[0] in error and len(error.strip().splitlines()) == 1
    assert len(instance.get_run_records()) == runs_before


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_labelled_near_duplicates_are_found_with_high_precision_and_recall(tmp_path):
    """articles_1000 (chrisjmccormick/MinHash) wrapped as web pages of a two-file crawl."""
    lines = (REPO / "tests/fixtures/neardup/articles_1000.train").read_text().splitlines()
    articles = [line.split(" ", 1) for line in lines if line.strip()]
    truth = {tuple(sorted(line.split())) for line in (REPO / "tests/fixtures/neardup/articles_1000.truth")
             .read_text().splitlines() if line.strip()}
    pages = [warc_response(f"https://news{i % 7}.example/{tid}",
                           f"<html><head><title>{tid}</title></head><body><article><p>{text}</p></article></body></html>"
                           .encode()) for i, (tid, text) in enumerate(articles)]
    half = len(pages) // 2
    write_crawl(tmp_path / "src", "CC-NEARDUP", {"a.warc.gz": b"".join(pages[:half]), "b.warc.gz": b"".join(pages[half:])})
    warehouse = tmp_path / "wh"
    assert main(["materialize", "--source", str(tmp_path / "src"), "--warehouse", str(warehouse), "--workers", "0",
                 "--select", "documents,signals,quality_model,quality_scores,decisions,dedup_signatures,dedup_clusters"]) == 0
    clusters = table(warehouse, "dedup_clusters").with_columns(tid=pl.col("url").str.extract(r"/(t\d+)$"))
    found = {tuple(sorted(pair)) for members in clusters.group_by("cluster_id").agg("tid")["tid"]
             for pair in itertools.combinations(members, 2)}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)


def test_verified_clustering_drops_candidates_below_the_threshold(sample_warehouse, tmp_path):
    from corpus_assets.cli.runner import cli_run_config, run_environment, run_partitions

    warehouse = tmp_path / "wh"
    shutil.copytree(sample_warehouse, warehouse)
    fuzzy_before = table(warehouse, "dedup_fuzzy_clusters").height
    for threshold, check in ((0.5, lambda n: n == fuzzy_before), (1.0, lambda n: n < fuzzy_before)):
        config = cli_run_config({"dedup_clusters": {"verify_threshold": threshold}})
        [outcome] = run_partitions([None], ["dedup_clusters"], config, workers=0,
                                   env=run_environment(str(warehouse)), job_name="deduplicate")
        assert outcome.success, outcome.error
        assert outcome.metadata["dedup_clusters"]["mode"] == "full, verified"
        assert check(table(warehouse, "dedup_fuzzy_clusters").height), threshold
