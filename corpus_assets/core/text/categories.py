"""The Unicode general category of every code point, as one NumPy array.

Text normalisation for hashing (`dedup/text.py`) and MinHash tokenisation (`dedup/minhash.py`) each map
every code point through a table derived from its category. Asking `unicodedata` for 1.1M categories
takes ~0.15 CPU-s per process, so the package ships them as runs (`data/unicode/categories-<Unicode
version>.npz`: ~4,000 runs of code points that share a category, written by `write_category_runs`,
`scripts/make_unicode_categories.py`) and expands them in ~1 ms. A Python whose `unicodedata` has another
Unicode version, for which no file ships, asks `unicodedata` instead: the array is the same either way.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

from corpus_assets.core.package_data import package_path

__all__ = ["CODE_POINTS", "category_runs_path", "general_categories", "write_category_runs"]

CODE_POINTS = 0x110000


def category_runs_path(unicode_version: str = unicodedata.unidata_version) -> Path:
    return package_path("data", "unicode", f"categories-{unicode_version}.npz")


def _from_unicodedata() -> np.ndarray:
    # one joined string converts to an array faster than a list of 1.1M strings
    joined = "".join(map(unicodedata.category, map(chr, range(CODE_POINTS))))
    return np.frombuffer(joined.encode("ascii"), dtype="S2")


def _from_runs(path: Path) -> np.ndarray:
    with np.load(path) as runs:
        starts, categories = runs["starts"], runs["categories"]
    lengths = np.diff(np.append(starts, CODE_POINTS))
    expanded = np.repeat(categories, lengths)
    expanded.flags.writeable = False
    return expanded


@lru_cache(maxsize=1)
def general_categories() -> np.ndarray:
    """`unicodedata.category` of U+0000..U+10FFFF as two ASCII bytes each (`S2`, e.g. b"Lu"; 2.2 MB,
    read-only)."""
    path = category_runs_path()
    return _from_runs(path) if path.is_file() else _from_unicodedata()


def write_category_runs(path: Path) -> int:
    """Write this Python's categories as runs (first code point, category) to `path`; returns the runs."""
    categories = _from_unicodedata()
    starts = np.flatnonzero(np.concatenate([[True], categories[1:] != categories[:-1]])).astype(np.uint32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, starts=starts, categories=categories[starts])
    return len(starts)
