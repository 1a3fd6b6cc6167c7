"""Labels, training, calibration and held-out measures on the sample with real fastText."""
import datetime as dt

import numpy as np
import polars as pl
import pytest

from corpus_assets.core.scoring.labels import (
    SOURCE_RANDOM_PAGE,
    SOURCE_REFERENCE_HOST,
    SOURCE_REFERENCE_TEXT,
    LabelSet,
    LabelSettings,
    bootstrap_labels,
    build_labels,
    host_matches,
    labels_from_ratings,
    load_reference_hosts,
    load_reference_texts,
    rated_documents_text,
)
from corpus_assets.core.scoring.scorer import MULTILINGUAL
from corpus_assets.core.scoring.splits import heldout_mask
from corpus_assets.core.scoring.training import TrainSettings, train_quality_model


def ratings_frame(rows):
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return pl.DataFrame([{"doc_id": d, "rater": r, "rating": x, "rated_at": at + dt.timedelta(minutes=m)}
                         for d, r, x, m in rows])


def test_allow_list_matches_hosts_and_subdomains():
    hosts = pl.Series(["debian-handbook.info", "de.wikipedia.org", "wikipedia.org", "notwikipedia.org", None, "WWW.DEBIAN.ORG"])
    assert host_matches(hosts, load_reference_hosts()).to_list() == [True, True, True, False, False, True]


def test_bootstrap_labels_are_reference_text_and_allowed_hosts_against_random_other_pages(sample_corpus):
    frame = bootstrap_labels(sample_corpus, LabelSettings())
    by_source = dict(frame.group_by("source").len().iter_rows())
    assert by_source[SOURCE_REFERENCE_TEXT] == load_reference_texts().height
    host_pages = frame.filter(pl.col("source") == SOURCE_REFERENCE_HOST)
    assert host_pages["lang"].n_unique() >= 3  # documentation in several languages
    negatives = frame.filter(pl.col("label") == 0)
    assert set(negatives["source"].to_list()) == {SOURCE_RANDOM_PAGE}
    assert not host_matches(negatives["host"], load_reference_hosts()).any()
    others = sample_corpus.filter(~host_matches(sample_corpus["url_host"], load_reference_hosts())).height
    assert negatives.height == min(others, frame.height - negatives.height)
    again = bootstrap_labels(sample_corpus, LabelSettings())
    assert again.equals(frame)
    fewer = bootstrap_labels(sample_corpus, LabelSettings(negatives_per_positive=0.1, seed=1))
    assert fewer.filter(pl.col("label") == 0).height == round(0.1 * (frame.height - negatives.height))


def test_labels_from_ratings_take_each_raters_latest_rating_and_the_mean_over_raters(sample_corpus):
    a, b, c, gone = sample_corpus["doc_id"][0], sample_corpus["doc_id"][1], sample_corpus["doc_id"][2], "not-in-corpus"
    ratings = ratings_frame([
        (a, "ana", 1, 0), (a, "ana", 4, 5),  # ana changed her mind: 4
        (a, "li", 2, 1),                      # mean (4 + 2) / 2 = 3 -> positive
        (b, "ana", 2, 0), (b, "li", 3, 0),    # mean 2.5 -> negative
        (c, "li", 5, 0), (gone, "li", 5, 0),
    ])
    frame = labels_from_ratings(ratings, sample_corpus)
    got = {row["doc_id"]: (row["rating"], row["label"]) for row in frame.iter_rows(named=True)}
    assert got == {a: (3.0, 1), b: (2.5, 0), c: (5.0, 1)}


def test_ratings_replace_the_bootstrap_once_enough_documents_are_rated(sample_corpus):
    ids = sample_corpus["doc_id"].to_list()
    ratings = ratings_frame([(d, "ana", i % 6, 0) for i, d in enumerate(ids[:30])])
    assert build_labels(sample_corpus, ratings, LabelSettings(min_rated_docs=31)).source == "bootstrap"
    assert build_labels(sample_corpus, ratings, LabelSettings(min_rated_docs=30)).source == "ratings"
    assert build_labels(sample_corpus, None).source == "bootstrap"


def test_bootstrap_model_is_measured_on_held_out_labels_it_never_saw(bootstrap_model):
    m = bootstrap_model.metrics
    heldout = bootstrap_model.heldout
    assert heldout.height == m["heldout_docs"] > 20
    assert heldout_mask(heldout["doc_id"].to_list(), 0.2).all()
    trained_on = sum(info["train_docs"] for key, info in m["models"].items() if key == MULTILINGUAL)
    assert trained_on + heldout.height == sum(sum(c.values()) for c in bootstrap_model.label_counts.values())
    assert m["auc"] > 0.8
    low, high = m["auc_ci95"]
    assert low <= m["auc"] <= high
    assert 0.0 <= m["ece"] <= 1.0 and m["spearman"] is None  # no ratings in the bootstrap
    assert m["host_baseline_auc"] is not None and m["host_grouped"]["auc"] is not None
    assert set(m["auc_by_lang"]) == set(heldout["lang"].to_list())
    info = m["models"][MULTILINGUAL]
    assert info["calibration"] == "platt" and info["calibration_labels"] == info["train_docs"]
    assert info["nan_retries"] == 0 and info["epochs"] == 25


def test_scores_are_calibrated_probabilities_with_buckets(bootstrap_model, sample_corpus):
    result = bootstrap_model.scorer(version=3).score(sample_corpus["text"].to_list(), sample_corpus["lang"].to_list())
    assert result.model_version == 3
    assert result.quality_score.min() >= 0.0 and result.quality_score.max() <= 1.0
    assert np.array_equal(result.quality_bucket, np.minimum((result.quality_score * 10).astype(int), 9))
    assert len(set(result.quality_bucket.tolist())) >= 3  # the sample's pages are not all alike
    heldout = bootstrap_model.heldout
    again = bootstrap_model.scorer().score(heldout["text"].to_list(), heldout["lang"].to_list())
    assert np.allclose(again.quality_score, heldout["quality_score"].to_numpy())


def test_a_language_with_enough_labels_gets_its_own_model(sample_corpus):
    label_set = build_labels(sample_corpus, None)
    settings = TrainSettings(min_lang_labels=100, min_lang_class_labels=20, calibration_folds=3, host_grouped_folds=0,
                             bootstrap_resamples=100)
    trained = train_quality_model(label_set, settings)
    assert set(trained.classifiers) == {MULTILINGUAL, "en"}
    assert trained.metrics["host_grouped"] is None
    keys = trained.heldout.select("lang", "model_key").unique()
    assert all((lang == "en") == (key == "en") for lang, key in keys.iter_rows())
    assert trained.scorer().route(["EN", "zh", None]).tolist() == ["en", MULTILINGUAL, MULTILINGUAL]


def test_a_rating_trained_model_reports_spearman_with_the_mean_ratings(sample_corpus):
    """Ratings made by a rule over real pages (reference hosts 4-5, others 1-2, one rater in three
    disagreeing), to exercise the rating path before the starter ratings exist."""
    allowed = sample_corpus["url_host"].is_in(list(load_reference_hosts())).to_list()
    rows = []
    for i, (doc_id, good) in enumerate(zip(sample_corpus["doc_id"].to_list(), allowed)):
        rows.append((doc_id, "ana", 4 + i % 2 if good else 1 + i % 2, 0))
        if i % 3 == 0:
            rows.append((doc_id, "li", 3, 0))
    label_set = build_labels(sample_corpus, ratings_frame(rows), LabelSettings(min_rated_docs=50))
    assert label_set.source == "ratings" and label_set.frame.height == sample_corpus.height
    trained = train_quality_model(label_set, TrainSettings(calibration_folds=3, host_grouped_folds=0,
                                                           bootstrap_resamples=100))
    assert trained.label_source == "ratings"
    assert trained.metrics["spearman"] is not None and trained.metrics["spearman"] > 0.3


def test_training_refuses_labels_of_one_class(sample_corpus):
    frame = build_labels(sample_corpus, None).frame.with_columns(pl.lit(1, pl.Int8).alias("label"))
    with pytest.raises(ValueError, match="one class only"):
        train_quality_model(LabelSet(frame, "bootstrap"))


def test_rated_pages_the_filters_dropped_are_learned_from_with_masked_text(sample_warehouse, sample_corpus):
    from deltalake import DeltaTable

    from corpus_assets.core.privacy.pii import mask_pii

    documents = pl.from_arrow(DeltaTable(str(sample_warehouse / "documents")).to_pyarrow_table(
        columns=["doc_id", "lang", "url_host", "text"]))
    dropped = documents.filter(~pl.col("doc_id").is_in(sample_corpus["doc_id"].implode()))
    assert dropped.height > 0
    rated = {dropped["doc_id"][0], dropped["doc_id"][1], sample_corpus["doc_id"][0]}
    texts = rated_documents_text(sample_corpus, documents, rated)
    assert texts.height == sample_corpus.height + 2
    for i in (0, 1):
        row = texts.filter(pl.col("doc_id") == dropped["doc_id"][i])
        assert row["text"][0] == mask_pii(dropped["text"][i])[0]
    labels = labels_from_ratings(ratings_frame([(d, "ana", 1, 0) for d in rated]), texts)
    assert sorted(labels["doc_id"].to_list()) == sorted(rated)
