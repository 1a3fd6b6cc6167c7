"""NFKC of a page, line by line.

``unicodedata.normalize`` returns at once for text that is already normalised, which a whole page often
is not: one no-break space or full-width character sends every line through NFKC. No character composes
or reorders with a newline, so normalising each line on its own gives the same string, and only the
lines that need it pay.
"""
from __future__ import annotations

import unicodedata

__all__ = ["nfkc"]


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, computed line by line."""
    if text.isascii():
        return text
    normalize = unicodedata.normalize
    return "\n".join([line if line.isascii() else normalize("NFKC", line) for line in text.split("\n")])
