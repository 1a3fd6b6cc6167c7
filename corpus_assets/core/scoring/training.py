"""Train a quality model version from a label set: per-language fastText models where a language has
enough labels, one multilingual model for the rest, each calibrated, and measured on held-out labels.

1. **Held-out split** by a hash of doc_id (`splits.heldout_mask`, 20 %): the same documents in every
   version, never trained on.
2. **Models**: a language gets its own model when its training labels number >= `min_lang_labels`
   (150) with >= `min_lang_class_labels` (30) of each class; the multilingual model is trained on all
   training labels and scores every other language.
3. **Calibration** per model on out-of-fold scores: the training labels are split into
   `calibration_folds` folds (hash of doc_id), each fold scored by a model trained on the others; the
   calibrator is fitted on those scores, and the final model is trained on all training labels.
   Every fit of a version (folds, final models, the host-grouped folds below) runs in one fresh process
   (`fasttext_model.train_classifiers`).
4. **Metrics** on the held-out labels, each scored by its routed, calibrated model: AUC with a
   bootstrap 95 % interval, ECE, Spearman with mean ratings, AUC per language, the host-only
   baseline's AUC (host rates from the training rows). Then, because a doc_id split puts pages of the
   same host on both sides, a **host-grouped** check: the multilingual model is cross-validated over
   `host_grouped_folds` folds by host, so each page is scored by a model that never saw its host; its
   pooled out-of-fold AUC is what the model learned beyond "which website is this" (a host-only model
   is at 0.5 there by construction).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from corpus_assets.core.scoring.calibration import ISOTONIC_MIN_LABELS, Calibrator, fit_calibrator
from corpus_assets.core.scoring.fasttext_model import (
    FastTextClassifier,
    FastTextParams,
    FitJob,
    FitResult,
    train_classifiers,
)
from corpus_assets.core.scoring.labels import LabelSet
from corpus_assets.core.scoring.metrics import (
    auc_by_group,
    bootstrap_auc_interval,
    expected_calibration_error,
    host_baseline_scores,
    roc_auc,
    spearman,
)
from corpus_assets.core.scoring.scorer import MULTILINGUAL, QualityScorer
from corpus_assets.core.scoring.splits import FOLD_SALT, HOST_FOLD_SALT, folds, heldout_mask
from corpus_assets.core.scoring.text import MAX_CHARS, model_texts


@dataclass(frozen=True)
class TrainSettings:
    fasttext: FastTextParams = field(default_factory=FastTextParams)
    max_chars: int = MAX_CHARS
    heldout_fraction: float = 0.2
    calibration_folds: int = 5
    host_grouped_folds: int = 5  # 0 skips the host-grouped check
    min_lang_labels: int = 150
    min_lang_class_labels: int = 30
    isotonic_min_labels: int = ISOTONIC_MIN_LABELS
    bootstrap_resamples: int = 1000
    seed: int = 0  # of the bootstrap interval

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainedQualityModel:
    label_source: str
    settings: TrainSettings
    classifiers: dict[str, FastTextClassifier]
    calibrators: dict[str, Calibrator]
    metrics: dict
    label_counts: dict[str, dict[str, int]]
    #: doc_id, lang, host, text, label, rating, model_key, raw_score, quality_score of the held-out labels
    heldout: pl.DataFrame
    seconds: float

    def scorer(self, version: int | None = None) -> QualityScorer:
        return QualityScorer({k: c.model for k, c in self.classifiers.items()}, self.calibrators,
                             self.settings.max_chars, version)


def language_model_keys(langs: np.ndarray, labels: np.ndarray, settings: TrainSettings) -> list[str]:
    """Languages with enough training labels of both classes for a model of their own."""
    keys = []
    for lang in sorted(set(langs.tolist())):
        mine = labels[langs == lang]
        n_pos = int(mine.sum())
        if (len(mine) >= settings.min_lang_labels and n_pos >= settings.min_lang_class_labels
                and len(mine) - n_pos >= settings.min_lang_class_labels):
            keys.append(lang)
    return keys


def cross_fit_jobs(rows: np.ndarray, fold_of: np.ndarray, labels: np.ndarray) -> dict[int, FitJob]:
    """Per fold of `rows`: a fit on the other folds' rows that scores the fold's rows (none for a fold whose
    other folds hold one class only)."""
    jobs = {}
    for fold in sorted(set(fold_of.tolist())):
        train = rows[fold_of != fold]
        if len(set(labels[train].tolist())) == 2:
            jobs[fold] = FitJob(train, score=rows[fold_of == fold])
    return jobs


def out_of_fold(fold_of: np.ndarray, fits: dict[int, FitResult]) -> np.ndarray:
    """Each row's score from the fit that did not see its fold (NaN where that fold had no fit)."""
    out = np.full(len(fold_of), np.nan)
    for fold, fit in fits.items():
        out[fold_of == fold] = fit.scores
    return out


def _calibrated_model(labels: np.ndarray, oof: np.ndarray, final: FitResult, settings: TrainSettings
                      ) -> tuple[FastTextClassifier, Calibrator, dict]:
    scored = ~np.isnan(oof)
    calibrator = fit_calibrator(oof[scored], labels[scored], settings.isotonic_min_labels)
    assert final.classifier is not None  # a kept fit
    info = {"train_docs": len(labels), "train_positive": int(labels.sum()), "calibration": calibrator.method,
            "calibration_labels": int(scored.sum()), "out_of_fold_auc": roc_auc(labels[scored], oof[scored]),
            "lr_used": final.lr_used, "epochs": final.epochs, "nan_retries": final.nan_retries}
    return final.classifier, calibrator, info


def host_grouped_check(labels: np.ndarray, hosts: list[str], langs: np.ndarray, oof: np.ndarray,
                       settings: TrainSettings) -> dict:
    """Out-of-fold AUC of the multilingual model when folds are whole hosts."""
    scored = ~np.isnan(oof)
    return {"model": MULTILINGUAL, "folds": settings.host_grouped_folds, "docs": int(scored.sum()),
            "hosts": len(set(hosts)), "auc": roc_auc(labels[scored], oof[scored]),
            "auc_by_lang": auc_by_group(langs[scored], labels[scored], oof[scored])}


def heldout_metrics(heldout: pl.DataFrame, train_hosts: list[str], train_labels: np.ndarray,
                    settings: TrainSettings) -> dict:
    """Measures of calibrated held-out scores (`heldout` has label, rating, lang, host, quality_score, raw_score)."""
    labels = heldout["label"].to_numpy()
    scores = heldout["quality_score"].to_numpy()
    interval = bootstrap_auc_interval(labels, scores, settings.bootstrap_resamples, settings.seed)
    rated = heldout.filter(pl.col("rating").is_not_null())
    baseline = host_baseline_scores(train_hosts, train_labels, heldout["host"].to_list())
    return {
        "heldout_docs": heldout.height,
        "heldout_positive": int(labels.sum()),
        "auc": roc_auc(labels, scores),
        "auc_ci95": list(interval) if interval else None,
        "auc_raw": roc_auc(labels, heldout["raw_score"].to_numpy()),
        "ece": expected_calibration_error(labels, scores),
        "spearman": spearman(rated["quality_score"].to_numpy(), rated["rating"].to_numpy()) if rated.height else None,
        "auc_by_lang": auc_by_group(heldout["lang"].to_list(), labels, scores),
        "heldout_docs_by_lang": dict(sorted(heldout.group_by("lang").len().iter_rows())),
        "host_baseline_auc": roc_auc(labels, baseline),
    }


def train_quality_model(label_set: LabelSet, settings: TrainSettings = TrainSettings()) -> TrainedQualityModel:
    started = time.perf_counter()
    frame = label_set.frame.with_columns(
        pl.Series("model_text", model_texts(label_set.frame["text"].to_list(), label_set.frame["lang"].to_list(),
                                            settings.max_chars)),
        pl.col("lang").fill_null("").str.to_lowercase(), pl.col("host").fill_null(""))
    is_heldout = heldout_mask(frame["doc_id"].to_list(), settings.heldout_fraction)
    train, heldout = frame.filter(~is_heldout), frame.filter(is_heldout)
    train_labels, train_langs = train["label"].to_numpy().astype(np.int64), train["lang"].to_numpy().astype(object)
    if len(set(train_labels.tolist())) < 2:
        raise ValueError(f"the training labels ({train.height}) hold one class only: need positives and negatives")

    # every fit first, in one fresh process: per model its calibration folds and its final fit, then the
    # host-grouped folds over all labels
    texts, labels = frame["model_text"].to_list(), frame["label"].to_numpy().astype(np.int64)
    train_rows, doc_ids = np.flatnonzero(~is_heldout), np.asarray(frame["doc_id"].to_list(), dtype=object)
    keys = [MULTILINGUAL, *language_model_keys(train_langs, train_labels, settings)]
    model_rows = {key: train_rows if key == MULTILINGUAL else train_rows[train_langs == key] for key in keys}
    fold_of = {key: folds(doc_ids[rows].tolist(), settings.calibration_folds, FOLD_SALT) for key, rows in model_rows.items()}
    fold_jobs: dict[tuple[str, int], FitJob] = {}
    for key, rows in model_rows.items():
        fold_jobs.update({(key, fold): job for fold, job in cross_fit_jobs(rows, fold_of[key], labels).items()})
    hosts = frame["host"].to_list()
    if settings.host_grouped_folds >= 2:
        fold_of["host-grouped"] = folds(hosts, settings.host_grouped_folds, HOST_FOLD_SALT)
        fold_jobs.update({("host-grouped", fold): job for fold, job in
                          cross_fit_jobs(np.arange(frame.height), fold_of["host-grouped"], labels).items()})
    final_jobs = [FitJob(rows, keep=True) for rows in model_rows.values()]
    fitted = train_classifiers(texts, labels, [*fold_jobs.values(), *final_jobs], settings.fasttext)
    fold_fits, final_fits = dict(zip(fold_jobs, fitted)), dict(zip(model_rows, fitted[len(fold_jobs):]))

    def out_of_fold_of(key: str) -> np.ndarray:
        return out_of_fold(fold_of[key], {fold: fit for (k, fold), fit in fold_fits.items() if k == key})

    classifiers: dict[str, FastTextClassifier] = {}
    calibrators: dict[str, Calibrator] = {}
    model_info: dict[str, dict] = {}
    for key, rows in model_rows.items():
        classifiers[key], calibrators[key], model_info[key] = _calibrated_model(
            labels[rows], out_of_fold_of(key), final_fits[key], settings)

    scorer = QualityScorer({k: c.model for k, c in classifiers.items()}, calibrators, settings.max_chars)
    langs = heldout["lang"].to_list()
    raw = scorer.raw_scores(heldout["model_text"].to_list(), langs)
    heldout = heldout.with_columns(pl.Series("model_key", scorer.route(langs).tolist(), dtype=pl.String),
                                   pl.Series("raw_score", raw),
                                   pl.Series("quality_score", scorer.calibrate(raw, langs))).drop("model_text")
    metrics = {}
    if heldout.height and len(set(heldout["label"].to_list())) == 2:
        metrics.update(heldout_metrics(heldout, train["host"].to_list(), train_labels, settings))
    else:
        metrics.update({"heldout_docs": heldout.height, "auc": None,
                        "note": "the held-out labels hold fewer than two classes: no AUC"})
    metrics["host_grouped"] = (host_grouped_check(labels, hosts, frame["lang"].to_numpy().astype(object),
                                                  out_of_fold_of("host-grouped"), settings)
                               if "host-grouped" in fold_of else None)
    metrics["models"] = model_info

    good, held = pl.col("label").cast(pl.Boolean), pl.col("heldout")
    counts = (frame.with_columns(pl.Series("heldout", is_heldout)).group_by("lang").agg(
        (good & ~held).sum().alias("train_positive"), (~good & ~held).sum().alias("train_negative"),
        (good & held).sum().alias("heldout_positive"), (~good & held).sum().alias("heldout_negative")))
    label_counts = {row.pop("lang"): {k: int(v) for k, v in row.items()} for row in counts.sort("lang").iter_rows(named=True)}
    return TrainedQualityModel(label_source=label_set.source, settings=settings, classifiers=classifiers,
                               calibrators=calibrators, metrics=metrics, label_counts=label_counts, heldout=heldout,
                               seconds=time.perf_counter() - started)
