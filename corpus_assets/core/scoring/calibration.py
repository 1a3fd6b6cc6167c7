"""Calibration: map fastText's raw P(good) to "probability that a rater gives >= 3".

Fitted on out-of-fold predictions (every training label scored by a model that did not see it).
The method depends on how many labels there are:

* **Isotonic regression** (pool-adjacent-violators, NumPy) from `ISOTONIC_MIN_LABELS` (1,000) labels
  up: it assumes only that the score is monotone in the raw probability, but each of its steps is a
  mean over few labels, so with fewer labels it overfits (the usual guidance, e.g. scikit-learn's).
  Between steps it interpolates linearly, so equal raw scores stay equal and order is kept.
* **Platt scaling** below that: a logistic curve on the raw score's logit, two parameters, with Platt's
  smoothed targets so that a small set cannot push scores to exactly 0 or 1. Its slope is kept >= 0,
  so calibration never reverses the model's ranking.

Both give non-decreasing maps into [0, 1]. With a single class among the labels nothing can be fitted;
the identity is used and says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ISOTONIC_MIN_LABELS = 1000
_EPS = 1e-9  # below float32's resolution near 1, so distinct raw scores keep distinct logits


@dataclass(frozen=True)
class Calibrator:
    method: str  # "isotonic", "platt" or "identity"
    params: dict[str, list[float] | float] = field(default_factory=dict)
    n_labels: int = 0

    def apply(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "isotonic":
            out = np.interp(raw, self.params["x"], self.params["y"])
        elif self.method == "platt":
            out = _sigmoid(self.params["a"] * _logit(raw) + self.params["b"])  # type: ignore[operator,arg-type]
        elif self.method == "identity":
            out = raw
        else:
            raise ValueError(f"unknown calibration method {self.method!r}")
        return np.clip(out, 0.0, 1.0)

    def to_json(self) -> dict:
        return {"method": self.method, "params": self.params, "n_labels": self.n_labels}

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        return cls(method=data["method"], params=data["params"], n_labels=int(data["n_labels"]))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def pool_adjacent_violators(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence closest to `values` in weighted least squares."""
    means: list[float] = []
    sizes: list[float] = []
    counts: list[int] = []
    for value, weight in zip(values.tolist(), weights.tolist()):
        means.append(value)
        sizes.append(weight)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:  # merge violating neighbours
            size = sizes[-2] + sizes[-1]
            means[-2] = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / size
            sizes[-2] = size
            counts[-2] += counts[-1]
            del means[-1], sizes[-1], counts[-1]
    return np.repeat(np.asarray(means), counts)


def fit_isotonic(raw: np.ndarray, labels: np.ndarray) -> Calibrator:
    raw = np.asarray(raw, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    xs, inverse, counts = np.unique(raw, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=labels) / counts  # equal raw scores share one mean
    fitted = pool_adjacent_violators(means, counts.astype(np.float64))
    # keep the first and last x of each constant run: np.interp is then flat inside a step, linear between
    keep = np.ones(len(xs), dtype=bool)
    keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
    return Calibrator("isotonic", {"x": xs[keep].tolist(), "y": fitted[keep].tolist()}, int(len(raw)))


def _softplus(u: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, u)


def fit_platt(raw: np.ndarray, labels: np.ndarray, iterations: int = 100) -> Calibrator:
    """Platt (1999) with his smoothed targets, on the logit of the raw score, fitted by Newton's method
    with a backtracking line search (Lin, Lin and Weng 2007), which converges where plain Newton steps
    can overshoot on confident, nearly separable scores."""
    z = _logit(np.asarray(raw, dtype=np.float64))
    labels = np.asarray(labels, dtype=np.float64)
    n_pos, n_neg = labels.sum(), len(labels) - labels.sum()
    target = np.where(labels > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(a: float, b: float) -> float:
        u = a * z + b
        return float(np.sum(target * _softplus(-u) + (1.0 - target) * _softplus(u)))

    a, b = 0.0, float(np.log((n_pos + 1.0) / (n_neg + 1.0)))
    current = loss(a, b)
    for _ in range(iterations):
        p = _sigmoid(a * z + b)
        grad = np.array([np.dot(p - target, z), np.sum(p - target)])
        if np.abs(grad).max() < 1e-9:
            break
        w = p * (1.0 - p) + 1e-12
        hess = np.array([[np.dot(w, z * z), np.dot(w, z)], [np.dot(w, z), w.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        size = 1.0
        while size > 1e-10 and loss(a - size * step[0], b - size * step[1]) > current - 1e-4 * size * float(grad @ step):
            size /= 2.0
        if size <= 1e-10:
            break
        a, b = a - size * step[0], b - size * step[1]
        current = loss(a, b)
    if a < 0.0:  # an anti-correlated model: keep its order, give the base rate
        a, b = 0.0, float(_logit(np.array([target.mean()]))[0])
    return Calibrator("platt", {"a": float(a), "b": float(b)}, int(len(labels)))


def fit_calibrator(raw: np.ndarray, labels: np.ndarray, isotonic_min_labels: int = ISOTONIC_MIN_LABELS) -> Calibrator:
    """Isotonic from `isotonic_min_labels` labels up, Platt below; identity if only one class occurs."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return Calibrator("identity", {}, int(len(labels)))
    if len(labels) >= isotonic_min_labels:
        return fit_isotonic(raw, labels)
    return fit_platt(raw, labels)
