"""One `quality_model` build: labels from the pool (or ratings), a version trained or reused, the activation
rule applied, thresholds stored. Pure of Dagster; the asset reads the tables and reports the outcome.

A version is reused, not retrained, when an existing version learned from exactly the same labels and
settings (`pool.label_fingerprint`): re-materializing an unchanged warehouse adds no version and changes
no score.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from corpus_assets.core.scoring import registry
from corpus_assets.core.scoring.labels import LabelSettings, LabelSet, build_labels, rated_documents_text
from corpus_assets.core.scoring.pool import label_fingerprint, masked_pool
from corpus_assets.core.scoring.thresholds import token_weighted_percentiles
from corpus_assets.core.scoring.training import TrainSettings, train_quality_model

FINGERPRINT_KEY = "labels_fingerprint"


@dataclass
class ModelBuild:
    version: int
    trained: bool  # False: an existing version with the same labels was reused
    active: int | None  # the active version after this build
    decision: str  # what happened to this version, in one sentence
    label_set: LabelSet
    metrics: dict
    manifest: dict
    percentiles: dict[str, list[float]] = field(default_factory=dict)


def build_model(root: Path, pool_docs: pl.DataFrame, ratings: pl.DataFrame | None, rated_dropped: pl.DataFrame,
                label_settings: LabelSettings | None = None, train_settings: TrainSettings | None = None,
                retrain: bool = False) -> ModelBuild:
    """`pool_docs`: the rule-kept pages (`pool.POOL_COLUMNS`, raw text); `rated_dropped`: rated pages the
    rules drop (same columns, raw text; they are masked here); `ratings`: `quality_ratings` rows or None."""
    label_settings = label_settings or LabelSettings()
    train_settings = train_settings or TrainSettings()
    pool = masked_pool(pool_docs)
    docs = pool
    if ratings is not None and ratings.height:
        rated_ids = set(ratings["doc_id"].to_list())
        docs = rated_documents_text(pool, pl.concat([pool_docs, rated_dropped]).unique("doc_id", keep="first"), rated_ids)
    label_set = build_labels(docs, ratings, label_settings)
    if label_set.source == "bootstrap" and docs is not pool:  # too few ratings: the bootstrap reads the pool only
        label_set = build_labels(pool, None, label_settings)
    fingerprint = label_fingerprint(label_set, {"train": train_settings.as_dict(),
                                                "min_rated_docs": label_settings.min_rated_docs,
                                                "negatives_per_positive": label_settings.negatives_per_positive,
                                                "seed": label_settings.seed})
    existing = None if retrain else registry.version_with(root, FINGERPRINT_KEY, fingerprint)
    if existing is not None:
        active = registry.active_version(root)
        state = "it is the active version" if active == existing else f"version {active} is active"
        decision = f"labels unchanged since version {existing}: reused, not retrained ({state})"
        version, trained = existing, False
    else:
        model = train_quality_model(label_set, train_settings)
        version = registry.save_version(root, model, extra={FINGERPRINT_KEY: fingerprint})
        outcome = registry.decide_and_record_activation(root, version, model)
        decision = ("activated: " if outcome.activated else "kept, not activated: ") + outcome.reason
        trained = True
    percentiles = _thresholds(root, version, pool_docs)
    return ModelBuild(version=version, trained=trained, active=registry.active_version(root), decision=decision,
                      label_set=label_set, metrics=registry.read_metrics(root, version),
                      manifest=registry.read_manifest(root, version), percentiles=percentiles)


def _thresholds(root: Path, version: int, pool_docs: pl.DataFrame) -> dict[str, list[float]]:
    """The version's token-weighted percentiles over the rule-kept pages, scored as `quality_scores` scores
    them (raw text), stored once per version."""
    try:
        return registry.load_thresholds(root, version)
    except FileNotFoundError:
        pass
    scored = pool_docs.filter(pl.col("n_chars") > 0)
    if not scored.height:
        return {}
    result = registry.load_scorer(root, version).score(scored["text"].to_list(), scored["lang"].to_list())
    percentiles = token_weighted_percentiles(result.quality_score, scored["n_chars"].to_numpy().astype(np.float64),
                                             scored["lang"].to_list())
    registry.save_thresholds(root, version, percentiles, scored_docs=scored.height)
    return percentiles
