"""The Unicode general category of every code point, as one NumPy array.

Text normalisation for hashing (`dedup/text.py`) and MinHash tokenisation (`dedup/minhash.py`) each map
every code point through a table derived from its category. Asking `unicodedata` for 1.1M categories
takes ~0.1 CPU-s, so the categories are read once per process and both tables are derived from them with
array operations.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

__all__ = ["CODE_POINTS", "general_categories"]

CODE_POINTS = 0x110000


@lru_cache(maxsize=1)
def general_categories() -> np.ndarray:
    """`unicodedata.category` of U+0000..U+10FFFF as two ASCII bytes each (`S2`, e.g. b"Lu"; 2.2 MB,
    read-only). One joined string converts to an array faster than a list of 1.1M strings."""
    joined = "".join(map(unicodedata.category, map(chr, range(CODE_POINTS))))
    return np.frombuffer(joined.encode("ascii"), dtype="S2")  # a view of immutable bytes: read-only
