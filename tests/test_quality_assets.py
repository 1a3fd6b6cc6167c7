"""The quality model and scores as Dagster assets on the bundled sample: real fastText, Delta, DuckDB and GX.

The session's `sample_warehouse` went through every phase (ingest, model, score, dedup, publish), so it
holds a bootstrap model (no ratings table there). Tests that change things work on a copy.
"""
import datetime as dt
import json
import shutil

import dagster as dg
import polars as pl
import pytest
from deltalake import DeltaTable

from corpus_assets.cli import main
from corpus_assets.cli.instance import open_instance
from corpus_assets.cli.rate import import_starter_ratings
from corpus_assets.core.dedup.clusters import final_clusters
from corpus_assets.core.quality.quality_cut import QUALITY_REASON
from corpus_assets.core.scoring import registry
from warc_fixtures import REPO


def sql(capsys, warehouse, query):
    capsys.readouterr()
    assert main(["sql", "--warehouse", str(warehouse), "--format", "json", query]) == 0
    return json.loads(capsys.readouterr().out)


def delta(warehouse, table, columns=None) -> pl.DataFrame:
    return pl.read_delta(str(warehouse / table), columns=columns)


def latest_metadata(warehouse, asset: str) -> dict:
    instance = open_instance(str(warehouse))
    [record] = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records
    return {k: getattr(v, "value", v) for k, v in record.asset_materialization.metadata.items()}


@pytest.fixture
def warehouse_copy(sample_warehouse, tmp_path):
    copy = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, copy)
    return copy


def test_the_sample_has_an_active_model_and_every_document_one_score(sample_warehouse, capsys):
    models = delta(sample_warehouse, "quality_models")
    assert models.height == 1 and models["active"].to_list() == [True]
    assert models["label_source"][0] == "bootstrap" and 0.5 < models["heldout_auc"][0] <= 1.0
    assert models["heldout_auc_ci_low"][0] <= models["heldout_auc"][0] <= models["heldout_auc_ci_high"][0]
    root = registry.models_root(sample_warehouse)
    assert registry.active_version(root) == 1 and (root / "1" / "thresholds.json").is_file()

    docs = delta(sample_warehouse, "documents", ["doc_id"])
    scores = delta(sample_warehouse, "quality_scores")
    assert scores.height == docs.height == scores["doc_id"].n_unique()
    assert set(scores["doc_id"]) == set(docs["doc_id"])
    assert scores["quality_score"].is_between(0.0, 1.0).all() and set(scores["model_version"]) == {1}
    assert (scores["quality_bucket"] == (scores["quality_score"] * 10).floor().clip(0, 9).cast(pl.Int8)).all()

    corpus = delta(sample_warehouse, "corpus", ["doc_id", "quality_score", "model_version"])
    joined = corpus.join(scores, on="doc_id", suffix="_scored")
    assert joined.height == corpus.height
    assert (joined["quality_score"] == joined["quality_score_scored"]).all()
    assert (joined["model_version"] == joined["model_version_scored"]).all()

    rows = sql(capsys, sample_warehouse, "select lang, avg(quality_score) as mean from corpus group by lang")
    means = {r["lang"]: r["mean"] for r in rows}
    assert {"en", "de", "zh", "ja"} <= set(means) and all(0.0 <= m <= 1.0 for m in means.values())
    decisions = delta(sample_warehouse, "decisions", ["quality_score", "quality_rule", "drop_reasons"])
    assert decisions["quality_score"].null_count() == 0 and decisions["quality_rule"].null_count() == decisions.height
    assert not decisions["drop_reasons"].list.contains(QUALITY_REASON).any()  # the packaged config has no cut


def test_model_metadata_reports_measures_and_the_activation_decision(sample_warehouse):
    meta = latest_metadata(sample_warehouse, "quality_model")
    assert meta["version"] == 1 and meta["active_version"] == 1 and meta["trained"] is True
    assert meta["decision"] == "activated: first quality model version"
    assert meta["label_source"] == "bootstrap" and meta["labels"] > 200
    assert len(meta["heldout_auc_ci95"]) == 2 and 0.0 <= meta["ece"] <= 1.0
    assert "| held-out ROC AUC |" in meta["measures"] and "| host-only baseline AUC |" in meta["measures"]
    assert "| en |" in meta["auc_by_language"] and "| de |" in meta["labels_by_language"]
    assert "| all |" in meta["thresholds"]
    scored = latest_metadata(sample_warehouse, "quality_scores")
    assert scored["model_version"] == 1 and "| language |" in scored["mean_score_by_language"]
    # counted batch by batch, as the rows were written
    assert sum(scored["documents_by_bucket"].values()) == scored["dagster/row_count"] > 0
    assert 0.0 < scored["mean_score"] < 1.0


def test_thresholds_in_the_filter_config_cut_decisions_and_corpus(warehouse_copy, tmp_path):
    config = tmp_path / "filters.yaml"
    config.write_text((REPO / "configs" / "filters.yaml").read_text()
                      + "quality:\n  top_token_fraction: 0.5\n  languages:\n    de: {min_score: 0.5}\n")
    args = ["materialize", "--warehouse", str(warehouse_copy), "--workers", "0", "--filter-config", str(config)]
    assert main(args + ["--select", "decisions,dedup_clusters,corpus"]) == 0
    decisions = delta(warehouse_copy, "decisions")
    de = decisions.filter(pl.col("lang") == "de")
    assert set(de["quality_rule"]) == {"min_score=0.5"} and set(de["quality_threshold"]) == {0.5}
    en = decisions.filter(pl.col("lang") == "en")
    assert set(en["quality_rule"]) == {"top_token_fraction=0.5@en"}
    below = decisions["quality_score"] < decisions["quality_threshold"]
    assert below.any() and (~below).any()
    assert (decisions["drop_reasons"].list.contains(QUALITY_REASON) == below).all()
    assert not decisions.filter(below)["keep"].any()
    # "top 50 % of tokens": among the pages the rules keep, about half of the English characters pass
    chars = delta(warehouse_copy, "documents", ["doc_id", "n_chars"])
    rule_kept = en.join(chars, on="doc_id").filter(pl.col("drop_reasons").list.set_difference([QUALITY_REASON])
                                                    .list.len() == 0)
    share = rule_kept.filter(pl.col("quality_score") >= pl.col("quality_threshold"))["n_chars"].sum() / rule_kept["n_chars"].sum()
    assert 0.3 < share < 0.7
    corpus = delta(warehouse_copy, "corpus", ["doc_id"])
    assert not corpus.join(decisions.filter(below), on="doc_id").height
    assert latest_metadata(warehouse_copy, "decisions")["quality_model_version"] == 1


def test_ratings_train_a_new_version_and_rescoring_touches_only_scores(warehouse_copy, capsys):
    assert "392" in import_starter_ratings(str(warehouse_copy))  # what `corpus demo` imports after ingest
    args = ["materialize", "--warehouse", str(warehouse_copy), "--workers", "0"]
    assert main(args + ["--select", "quality_model"]) == 0
    models = delta(warehouse_copy, "quality_models").sort("version")
    assert models["version"].to_list() == [1, 2] and models["label_source"].to_list() == ["bootstrap", "ratings"]
    assert models["active"].sum() == 1 and models["activation_reason"].null_count() == 0
    assert "on the same" in models["activation_reason"][1]  # compared with version 1 on version 2's held-out labels
    meta = latest_metadata(warehouse_copy, "quality_model")
    assert meta["version"] == 2 and meta["label_source"] == "ratings" and meta["spearman"] is not None
    assert meta["decision"].startswith(("activated: held-out AUC", "kept, not activated: held-out AUC"))

    assert main(args + ["--select", "quality_model"]) == 0  # same ratings, same pool: no new version
    assert delta(warehouse_copy, "quality_models").height == 2
    assert latest_metadata(warehouse_copy, "quality_model")["trained"] is False

    root = registry.models_root(warehouse_copy)
    registry.activate(root, 2, "test: score with the rating-trained version")
    untouched = {t: DeltaTable(str(warehouse_copy / t)).version() for t in ("documents", "signals", "dedup_signatures")}
    assert main(args + ["--select", "quality_scores,decisions,dedup_clusters,corpus"]) == 0
    assert {t: DeltaTable(str(warehouse_copy / t)).version() for t in untouched} == untouched
    assert set(delta(warehouse_copy, "quality_scores")["model_version"]) == {2}
    assert set(delta(warehouse_copy, "corpus")["model_version"]) == {2}
    assert main(["check", "--warehouse", str(warehouse_copy), "--table", "quality_scores", "--table", "corpus",
                 "--table", "quality_models"]) == 0


def test_dedup_prefers_the_higher_quality_score_as_representative(tmp_path):
    fetched = [dt.datetime(2026, 1, d, tzinfo=dt.timezone.utc) for d in (1, 2, 3)]
    signatures = pl.DataFrame({"doc_id": ["a", "b", "c"], "url": ["https://x/1", "https://x/2", "https://x/3"],
                               "crawl": ["C"] * 3, "shard": ["00000"] * 3, "fetch_time": fetched,
                               "text_hash": [7, 7, 7], "minhash_status": ["ok"] * 3})
    verdicts = pl.DataFrame({"doc_id": ["a", "b", "c"], "keep": [True, True, False]})

    def representative(decisions: pl.DataFrame) -> str:
        out = tmp_path / f"clusters-{len(decisions.columns)}.parquet"
        final_clusters(signatures, None, decisions, out)
        return pl.read_parquet(out).filter("is_kept")["doc_id"].item()

    assert representative(verdicts) == "a"  # without scores: the earliest fetch
    # with scores: the higher score among kept documents wins over the earlier fetch; a dropped one never wins
    assert representative(verdicts.with_columns(quality_score=pl.Series([0.2, 0.9, 0.99]))) == "b"


def test_sample_clusters_keep_their_best_scored_kept_member(sample_warehouse):
    clusters = delta(sample_warehouse, "dedup_clusters", ["doc_id", "cluster_id", "is_kept"])
    decisions = delta(sample_warehouse, "decisions", ["doc_id", "keep", "quality_score"])
    members = clusters.join(decisions, on="doc_id")
    best = (members.group_by("cluster_id").agg(
        pl.col("quality_score").filter(pl.col("keep")).max().alias("best_kept"),
        pl.col("quality_score").filter(pl.col("is_kept")).first().alias("representative"),
        pl.col("keep").any().alias("any_kept")))
    assert best.height > 10
    with_kept = best.filter("any_kept")
    assert (with_kept["representative"] == with_kept["best_kept"]).all()


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_scores_without_a_model_fail_with_one_clear_line(tmp_path, capsys):
    assert main(["materialize", "--warehouse", str(tmp_path / "wh"), "--select", "documents,quality_scores",
                 "--crawl", "CC-SAMPLE-2026-07", "--max-files", "1", "--workers", "0"]) == 1
    [failed] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  CC-SAMPLE-2026-07/")]
    assert "quality_scores" in failed and "no active quality model" in failed and "--select quality_model" in failed
