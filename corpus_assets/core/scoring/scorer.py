"""Score documents: texts and languages in, calibrated `quality_score`, `quality_bucket` and the
model version out.

A document goes to its language's model when the version has one, else to the multilingual model.
`quality_bucket` is the calibrated score's tenth, 0 (score < 0.1) .. 9 (score >= 0.9): absolute, not
corpus deciles, so bucket 7 means "70-80 % of raters would give >= 3" in every crawl and under every
model version, and a count of documents per bucket shows how the score is distributed. Cuts relative to
the corpus ("top 30 % of tokens") are what `thresholds` is for.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from corpus_assets.core.scoring.calibration import Calibrator
from corpus_assets.core.scoring.fasttext_model import predict_positive
from corpus_assets.core.scoring.text import model_texts

MULTILINGUAL = "multilingual"
N_BUCKETS = 10


def quality_buckets(scores: np.ndarray) -> np.ndarray:
    """0..9: the tenth of [0, 1] a calibrated score falls in."""
    return np.minimum((np.asarray(scores, dtype=np.float64) * N_BUCKETS).astype(np.int8), N_BUCKETS - 1)


@dataclass
class ScoreResult:
    quality_score: np.ndarray  # float64 in [0, 1]
    quality_bucket: np.ndarray  # int8 in 0..9
    model_version: int | None


class QualityScorer:
    """fastText models by key (a language code, or `MULTILINGUAL`) with their calibrators."""

    def __init__(self, models: Mapping[str, object], calibrators: Mapping[str, Calibrator], max_chars: int,
                 version: int | None = None):
        if MULTILINGUAL not in models:
            raise ValueError("a quality model needs its multilingual model (the fallback for every language)")
        missing = set(models) - set(calibrators)
        if missing:
            raise ValueError(f"no calibration for model(s) {sorted(missing)}")
        self.models = dict(models)
        self.calibrators = dict(calibrators)
        self.max_chars = max_chars
        self.version = version

    def route(self, langs: Sequence[str | None]) -> np.ndarray:
        """The model key each document is scored with."""
        return np.array([lang if lang in self.models else MULTILINGUAL for lang in ((x or "").lower() for x in langs)],
                        dtype=object)

    def raw_scores(self, texts_for_model: Sequence[str], langs: Sequence[str | None]) -> np.ndarray:
        """Uncalibrated P(good) of already prepared model texts (`text.model_text`)."""
        keys = self.route(langs)
        out = np.zeros(len(texts_for_model), dtype=np.float64)
        for key in set(keys.tolist()):
            idx = np.flatnonzero(keys == key)
            out[idx] = predict_positive(self.models[key], [texts_for_model[i] for i in idx])  # type: ignore[call-overload]
        return out

    def calibrate(self, raw: np.ndarray, langs: Sequence[str | None]) -> np.ndarray:
        keys = self.route(langs)
        out = np.zeros(len(raw), dtype=np.float64)
        for key in set(keys.tolist()):
            idx = np.flatnonzero(keys == key)
            out[idx] = self.calibrators[key].apply(raw[idx])
        return out

    def score_model_texts(self, texts_for_model: Sequence[str], langs: Sequence[str | None]) -> np.ndarray:
        return self.calibrate(self.raw_scores(texts_for_model, langs), langs)

    def score(self, texts: Sequence[str | None], langs: Sequence[str | None]) -> ScoreResult:
        """Calibrated scores, buckets and this scorer's model version for raw document texts."""
        langs = list(langs)
        scores = self.score_model_texts(model_texts(texts, langs, self.max_chars), langs)
        return ScoreResult(quality_score=scores, quality_bucket=quality_buckets(scores), model_version=self.version)
