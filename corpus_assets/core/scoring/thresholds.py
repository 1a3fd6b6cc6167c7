"""Thresholds are data: per-language percentiles of the quality score, weighted by tokens, stored with
the model version, so a filter config can say "keep the top 30 % of tokens per language" or "keep
score >= 0.6", and `decisions` can record which threshold applied to each document.

`token_weighted_percentiles` gives, per language, 101 scores: entry p is the score below which p % of
the language's tokens lie (a document's tokens are estimated by its `n_chars`; any positive weight
works). "Top 30 % of tokens" is then `score >= percentiles[lang][70]`. Languages with fewer than
`min_docs` scored documents use the percentiles of all languages together (key `ALL_LANGUAGES`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ALL_LANGUAGES = "*"
PERCENT_POINTS = 101
MIN_DOCS_PER_LANGUAGE = 20


def weighted_percentiles(scores: np.ndarray, weights: np.ndarray) -> list[float]:
    """Score at each whole percent 0..100 of the cumulative weight (scores sorted ascending)."""
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if not len(scores) or weights.sum() <= 0:
        raise ValueError("percentiles need at least one document with a positive weight")
    order = np.argsort(scores, kind="mergesort")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    idx = np.searchsorted(cumulative, np.linspace(0.0, 1.0, PERCENT_POINTS), side="left")
    return scores[order][np.minimum(idx, len(scores) - 1)].tolist()


def token_weighted_percentiles(scores: np.ndarray, weights: np.ndarray, langs: Sequence[str | None],
                               min_docs: int = MIN_DOCS_PER_LANGUAGE) -> dict[str, list[float]]:
    """{lang: 101 percentiles} for every language with >= `min_docs` documents, plus `ALL_LANGUAGES`."""
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.maximum(np.asarray(weights, dtype=np.float64), 0.0)
    langs_arr = np.array([(lang or "").lower() for lang in langs], dtype=object)
    table = {ALL_LANGUAGES: weighted_percentiles(scores, weights)}
    for lang in sorted(set(langs_arr.tolist())):
        mine = langs_arr == lang
        if lang and mine.sum() >= min_docs and weights[mine].sum() > 0:
            table[lang] = weighted_percentiles(scores[mine], weights[mine])
    return table


@dataclass(frozen=True)
class QualityRule:
    """Keep the best-scored documents holding `top_token_fraction` of a language's tokens, and/or those
    scoring >= `min_score`; with both, the stricter (higher) threshold applies."""

    top_token_fraction: float | None = None
    min_score: float | None = None

    def __post_init__(self) -> None:
        if self.top_token_fraction is None and self.min_score is None:
            raise ValueError("a quality rule needs top_token_fraction or min_score")
        if self.top_token_fraction is not None and not 0.0 < self.top_token_fraction <= 1.0:
            raise ValueError(f"top_token_fraction must be in (0, 1], got {self.top_token_fraction}")
        if self.min_score is not None and not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")


def threshold_for(rule: QualityRule, lang: str, percentiles: Mapping[str, Sequence[float]]) -> tuple[float, str]:
    """(score threshold, description of the threshold that applies) for one language."""
    candidates = []
    if rule.top_token_fraction is not None:
        table_lang = lang if lang in percentiles else ALL_LANGUAGES
        at_percent = 100.0 * (1.0 - rule.top_token_fraction)
        value = float(np.interp(at_percent, np.arange(PERCENT_POINTS), percentiles[table_lang]))
        candidates.append((value, f"top_token_fraction={rule.top_token_fraction:g}@{table_lang}"))
    if rule.min_score is not None:
        candidates.append((float(rule.min_score), f"min_score={rule.min_score:g}"))
    return max(candidates, key=lambda c: c[0])


@dataclass
class AppliedThresholds:
    threshold: np.ndarray  # float64 score threshold per document
    rule: list[str]  # which threshold applied, e.g. "top_token_fraction=0.3@zh" or "min_score=0.5"
    passes: np.ndarray  # bool: score >= threshold


def apply_thresholds(scores: np.ndarray, langs: Sequence[str | None], percentiles: Mapping[str, Sequence[float]],
                     default_rule: QualityRule, rules_by_lang: Mapping[str, QualityRule] | None = None) -> AppliedThresholds:
    """The threshold each document faces (its language's rule, else the default) and whether it passes."""
    rules_by_lang = rules_by_lang or {}
    scores = np.asarray(scores, dtype=np.float64)
    keys = [(lang or "").lower() for lang in langs]
    per_lang = {lang: threshold_for(rules_by_lang.get(lang, default_rule), lang, percentiles) for lang in set(keys)}
    threshold = np.array([per_lang[k][0] for k in keys], dtype=np.float64)
    return AppliedThresholds(threshold=threshold, rule=[per_lang[k][1] for k in keys], passes=scores >= threshold)
