"""Versioned model files, the activation rule, re-activation, and the records for `quality_models`."""
import dataclasses
import hashlib
import json

import numpy as np
import pytest

from corpus_assets.core.scoring import registry
from corpus_assets.core.scoring.labels import build_labels
from corpus_assets.core.scoring.thresholds import token_weighted_percentiles
from corpus_assets.core.scoring.training import TrainSettings, train_quality_model


@pytest.fixture(scope="module")
def worse_model(sample_corpus):
    """Same labels, but the model sees only each page's first 3 characters."""
    return train_quality_model(build_labels(sample_corpus, None), TrainSettings(max_chars=3))


def test_a_version_holds_its_files_with_their_hashes_and_scores_like_the_trained_model(bootstrap_model, sample_corpus, tmp_path):
    root = registry.models_root(tmp_path / "warehouse")
    version = registry.save_version(root, bootstrap_model)
    assert version == 1 and registry.list_versions(root) == [1]
    manifest = registry.read_manifest(root, 1)
    assert manifest["label_source"] == "bootstrap" and "multilingual" in manifest["model_keys"]
    assert manifest["model_keys"] == sorted(bootstrap_model.classifiers)  # per-language models where labels suffice
    assert manifest["parameters"]["fasttext"]["wordNgrams"] == 2
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((root / "1" / name).read_bytes()).hexdigest() == digest
    model_files = {f"fasttext-{key}.bin" for key in manifest["model_keys"]}
    assert model_files | {"calibration.json", "metrics.json", "heldout.parquet"} <= set(manifest["files"])
    texts, langs = sample_corpus["text"].to_list(), sample_corpus["lang"].to_list()
    loaded = registry.load_scorer(root, 1).score(texts, langs)
    assert loaded.model_version == 1
    assert np.array_equal(loaded.quality_score, bootstrap_model.scorer().score(texts, langs).quality_score)
    assert registry.save_version(root, bootstrap_model) == 2
    with pytest.raises(FileNotFoundError, match="no thresholds yet"):
        registry.load_thresholds(root, 1)
    table = token_weighted_percentiles(loaded.quality_score, sample_corpus["n_chars"].to_numpy(), langs)
    registry.save_thresholds(root, 1, table, scored_docs=sample_corpus.height)
    assert registry.load_thresholds(root, 1) == table
    with pytest.raises(FileNotFoundError, match="no quality model version 9"):
        registry.load_scorer(root, 9)


def test_activation_rule_keeps_a_worse_model_and_an_earlier_version_can_be_activated_again(
        bootstrap_model, worse_model, tmp_path):
    root = registry.models_root(tmp_path / "warehouse")
    assert registry.active_version(root) is None

    first = registry.save_version(root, bootstrap_model)
    decision = registry.decide_and_record_activation(root, first, bootstrap_model)
    assert decision.activated and decision.reason == "first quality model version"
    assert registry.active_version(root) == first

    worse = registry.save_version(root, worse_model)
    decision = registry.decide_and_record_activation(root, worse, worse_model)
    assert not decision.activated
    assert decision.auc_new < decision.auc_active  # the active model re-scored the same held-out labels
    assert decision.auc_active == pytest.approx(bootstrap_model.metrics["auc"])
    assert f"version {first} stays active" in decision.reason
    assert registry.active_version(root) == first

    same = registry.save_version(root, bootstrap_model)  # no worse: equal AUC on the same labels
    decision = registry.decide_and_record_activation(root, same, bootstrap_model)
    assert decision.activated and decision.active_version == first
    assert registry.active_version(root) == same

    registry.activate(root, first, "rollback by hand")
    assert registry.active_version(root) == first
    records = registry.model_records(root)
    assert records["version"].to_list() == [first, worse, same]
    assert records["active"].to_list() == [True, False, False]
    assert records["activation_reason"].to_list()[0] == "rollback by hand"
    assert "stays active" in records["activation_reason"].to_list()[1]
    assert records["heldout_auc"].to_list()[1] == pytest.approx(worse_model.metrics["auc"])
    assert json.loads(records["label_counts"][0]) == json.loads(json.dumps(bootstrap_model.label_counts))
    assert records.schema == registry.QUALITY_MODELS_SCHEMA
    with pytest.raises(FileNotFoundError):
        registry.activate(root, 42, "no such version")


def test_a_version_without_a_held_out_auc_is_not_activated_over_an_active_one(bootstrap_model, tmp_path):
    root = registry.models_root(tmp_path / "warehouse")
    registry.decide_and_record_activation(root, registry.save_version(root, bootstrap_model), bootstrap_model)
    no_auc = dataclasses.replace(bootstrap_model, metrics={**bootstrap_model.metrics, "auc": None})
    decision = registry.decide_and_record_activation(root, registry.save_version(root, no_auc), no_auc)
    assert not decision.activated and "no held-out AUC" in decision.reason
    assert registry.active_version(root) == 1
