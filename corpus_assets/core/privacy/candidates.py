"""Finding PII candidates with Polars: every pattern of :mod:`.patterns` runs vectorised in Rust.

Rows without any candidate never reach Python; for the others, each match string is located in
the Python string (both regex engines are leftmost-first, so a sequential ``str.find`` finds
the very match) and handed to :func:`.detectors.detect`.
"""

from __future__ import annotations

import polars as pl

from corpus_assets.core.privacy.detectors import Candidates
from corpus_assets.core.privacy.patterns import PATTERNS, RARE_PRECHECK

__all__ = ["find_candidates"]


def _locate(text: str, matches: list[str]) -> list[tuple[int, str]]:
    """Offsets of leftmost-first, non-overlapping matches, in order."""
    out = []
    pos = 0
    for m in matches:
        s = text.find(m, pos)
        if s < 0:  # cannot happen for identical engines; be defensive
            s = text.find(m)
            if s < 0:
                continue
        out.append((s, m))
        pos = s + len(m)
    return out


def _rare_matches(texts: list[str | None], flags: list[bool], pattern: str) -> list[list[str] | None]:
    """``extract_all(pattern)`` only on the rows whose pre-check flag is set; None elsewhere."""
    rows = [i for i, f in enumerate(flags) if f]
    full: list[list[str] | None] = [None] * len(texts)
    if rows:
        sub = pl.Series([texts[i] for i in rows], dtype=pl.String).str.extract_all(pattern).to_list()
        for i, v in zip(rows, sub):
            full[i] = v
    return full


def find_candidates(texts: pl.Series) -> tuple[list[str | None], list[Candidates | None]]:
    """(the texts as Python strings, their candidates). A text's candidates are ``None`` when it
    is null or has nothing but URLs (nothing there can be PII)."""
    names = [n for n in PATTERNS if n not in RARE_PRECHECK]
    col = pl.col("__t")
    cand_df = pl.DataFrame({"__t": texts.cast(pl.String)}).select(
        col,
        *[col.str.extract_all(PATTERNS[n]).alias(n) for n in names],
        *[col.str.contains(RARE_PRECHECK[n]).fill_null(False).alias("__pre_" + n) for n in RARE_PRECHECK],
    )
    py_texts = cand_df.get_column("__t").to_list()
    cols = {n: cand_df.get_column(n).to_list() for n in names}
    for n in RARE_PRECHECK:
        cols[n] = _rare_matches(py_texts, cand_df.get_column("__pre_" + n).to_list(), PATTERNS[n])
    out: list[Candidates | None] = []
    for i, t in enumerate(py_texts):
        cands = {n: _locate(t, cols[n][i]) for n in cols if cols[n][i]} if t is not None else {}
        out.append(cands if cands and not (len(cands) == 1 and "url" in cands) else None)
    return py_texts, out
