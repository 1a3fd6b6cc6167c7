"""Held-out measures of a quality model, in NumPy.

* `roc_auc`: probability that a random positive scores above a random negative (ties count half),
  from ranks (Mann-Whitney U).
* `bootstrap_auc_interval`: percentile 95 % interval over resamples of the held-out set (seeded).
* `spearman`: rank correlation of scores with mean ratings (average ranks for ties).
* `expected_calibration_error`: |mean score - positive rate| per equal-width score bin, weighted by
  the bin's share of documents (10 bins).
* `host_baseline_scores`: a model that knows only the host: each host's smoothed positive rate on the
  training rows, the overall rate for hosts it has not seen. If the quality model's AUC is not above
  this baseline's, it learned "which website is this", not what a page says.

Every function returns None where the measure is undefined (one class, fewer than 2 values).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    tie_ranks = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(tie_ranks, ends - starts)
    return ranks


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = average_ranks(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def bootstrap_auc_interval(labels: np.ndarray, scores: np.ndarray, resamples: int = 1000, seed: int = 0,
                           level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of the AUC over `resamples` resamples with replacement (those with one class skipped)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    if roc_auc(labels, scores) is None:
        return None
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(resamples):
        pick = rng.integers(0, len(labels), len(labels))
        auc = roc_auc(labels[pick], scores[pick])
        if auc is not None:
            aucs.append(auc)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(aucs, [tail, 1.0 - tail])
    return float(low), float(high)


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return None
    rx, ry = average_ranks(x), average_ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> float | None:
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if not len(labels):
        return None
    which = np.minimum((scores * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sum_scores = np.bincount(which, weights=scores, minlength=bins)
    sum_labels = np.bincount(which, weights=labels, minlength=bins)
    used = counts > 0
    gaps = np.abs(sum_scores[used] - sum_labels[used]) / counts[used]
    return float(np.sum(gaps * counts[used]) / len(labels))


def host_baseline_scores(train_hosts: Sequence[str], train_labels: np.ndarray, hosts: Sequence[str],
                         prior_weight: float = 1.0) -> np.ndarray:
    """Each host's positive rate on the training rows, shrunk toward the overall rate by `prior_weight`
    pseudo-documents; unseen hosts get the overall rate."""
    train_labels = np.asarray(train_labels, dtype=np.float64)
    prior = float(train_labels.mean()) if len(train_labels) else 0.5
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for host, label in zip(train_hosts, train_labels.tolist()):
        sums[host] = sums.get(host, 0.0) + label
        counts[host] = counts.get(host, 0) + 1
    return np.array([(sums[h] + prior * prior_weight) / (counts[h] + prior_weight) if h in counts else prior
                     for h in hosts], dtype=np.float64)


def auc_by_group(groups: Sequence[str], labels: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """AUC within each group (e.g. language); None where a group has one class."""
    groups = np.asarray(groups, dtype=object)  # type: ignore[assignment]
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    return {str(g): roc_auc(labels[groups == g], scores[groups == g]) for g in sorted(set(groups.tolist()))}  # type: ignore[attr-defined]
