"""Exact-duplicate hashing and CCNet-style boilerplate-line removal.

Normalisation (``normalize_for_hash``), modelled on datatrove's ``simplify_text``
(used by FineWeb's exact / line dedup) and CCNet's ``normalize_for_dedup``:

1. Unicode NFKD (compatibility decomposition: full-width -> ASCII, ligatures
   split, accents separated from their base letter), then ``str.lower()``.
2. Latin/Greek/Cyrillic *combining diacritics* are dropped (U+0300-036F and the
   combining-mark supplements), so ``Café`` == ``cafe``.  Other non-spacing
   marks are kept on purpose: dropping every ``Mn`` (as CCNet does) would also
   erase Japanese voicing marks (が -> か) and Indic / Thai vowel signs.
3. Every Unicode punctuation (``P*``) and symbol (``S*``) character, and every
   control / separator, becomes a space; format characters (``Cf``: zero-width
   space, soft hyphen, BOM, ...) are deleted.
4. Every run of decimal digits (any script, ``Nd``) becomes a single ``0``
   (datatrove ``norm_numbers``): "Page 3 of 12" == "Page 7 of 9".
5. Whitespace is collapsed to single spaces and stripped; the result is
   recomposed to NFC (readable, and Hangul / kana voicing marks stay composed).

``keep_digits=True`` (every function here) skips step 4.

``text_hash`` is the first 8 bytes of BLAKE2b over the UTF-8 normalised text,
read as a little-endian **signed** 64-bit int (stable across processes, machines
and Python versions).  Signed because Delta Lake has no unsigned types: the
value fits Polars ``Int64`` / Delta ``long`` / DuckDB ``BIGINT`` as is.  Documents whose
normalised text is empty all share ``EMPTY_TEXT_HASH``; filter them out before
grouping on the hash.

Boilerplate lines (CCNet-style, see ``boilerplate_line_hashes``)
------------------------------------------------------------------
A line is *boilerplate* when its normalised form occurs in at least
``min_docs`` distinct documents of the same group (``url_host`` by default, or
the whole partition with ``group_col=None``).  Decision on line length: **any
line, of any length, is eligible** - as in CCNet.  Template lines are usually
*short* ("Home", "Menu", "Log in", "Share this:"), so a "long lines only" rule
would miss most of them; and *long* lines repeated across many pages of one host
are cookie banners, legal notices and newsletter blurbs, i.e. boilerplate too.
A document counts once per line however often it repeats the line itself
(within-document repetition is the quality filters' job), so a line that only
repeats inside a single page is never removed.  Lines that normalise to the
empty string (blank lines, pure punctuation such as ``----``) are never counted
nor removed.  Pick ``min_docs`` >= 3 for per-host scope: with 2, two copies of
the same article on one host would strip each other entirely (exact/near
dedup handles those).
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import polars as pl

from corpus_assets.core.text.categories import CODE_POINTS, general_categories

__all__ = [
    "EMPTY_TEXT_HASH",
    "normalize_for_hash",
    "text_hash",
    "text_hashes",
    "add_text_hash",
    "line_hashes",
    "text_and_line_hashes",
    "remove_boilerplate_lines",
    "boilerplate_line_hashes",
    "remove_boilerplate_df",
]

_DIACRITIC_RANGES = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))


_DELETE = np.uint32(0xFFFFFFFF)
_SPACE = np.uint32(ord(" "))
_ZERO = np.uint32(ord("0"))
_NEWLINE = np.uint32(ord("\n"))


@lru_cache(maxsize=2)
def _char_map(keep_digits: bool = False) -> np.ndarray:
    """uint32 code point -> code point map over all of Unicode (built once, 4.4 MB).

    P*/S*/Z*/Cc -> space, Cf and combining diacritics -> _DELETE, Nd -> '0';
    '\n' is kept so that a whole document can be normalised line by line at once.
    """
    categories = general_categories()
    major = categories.astype("S1")
    table = np.arange(CODE_POINTS, dtype=np.uint32)
    table[(major == b"P") | (major == b"S") | (major == b"Z") | (categories == b"Cc")] = _SPACE
    table[categories == b"Cf"] = _DELETE
    if not keep_digits:
        table[categories == b"Nd"] = _ZERO
    for lo, hi in _DIACRITIC_RANGES:
        table[lo : hi + 1] = _DELETE
    table[ord("\n")] = _NEWLINE
    return table


def _normalize_keep_newlines(text: str, keep_digits: bool = False) -> str:
    """Steps 1-5 of the module docstring, applied per line ('\n' preserved)."""
    s = unicodedata.normalize("NFKD", text).lower()
    cps = np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    m = _char_map(keep_digits)[cps]
    m = m[m != _DELETE]
    if m.size == 0:
        return ""
    # collapse runs of '0' and of spaces; drop spaces touching a line boundary
    prev = np.empty_like(m)
    prev[0] = _NEWLINE
    prev[1:] = m[:-1]
    nxt = np.empty_like(m)
    nxt[-1] = _NEWLINE
    nxt[:-1] = m[1:]
    is_space = m == _SPACE
    drop = is_space & ((prev == _SPACE) | (prev == _NEWLINE) | (nxt == _NEWLINE))
    if not keep_digits:
        drop |= (m == _ZERO) & (prev == _ZERO)
    m = m[~drop]
    # a space followed by the line end may remain after run collapsing ("a  \n" -> "a \n")
    if m.size and m[-1] == _SPACE:
        m = m[:-1]
    keep = np.ones(m.size, dtype=bool)
    keep[:-1] = ~((m[:-1] == _SPACE) & (m[1:] == _NEWLINE))
    out = m[keep].tobytes().decode("utf-32-le", "surrogatepass")
    return out if out.isascii() else unicodedata.normalize("NFC", out)  # recompose (が, Hangul)


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little", signed=True)


def normalize_for_hash(text: str, *, keep_digits: bool = False) -> str:
    """Normalised text used for exact-duplicate hashing (see module docstring).

    ``keep_digits=True`` skips step 4 (digit runs -> ``0``).
    """
    if not text:
        return ""
    return " ".join(line for line in _normalize_keep_newlines(text, keep_digits).split("\n") if line)


EMPTY_TEXT_HASH: int = _h64("")


def text_hash(text: str) -> int:
    """Stable signed 64-bit hash of ``normalize_for_hash(text)``."""
    return _h64(normalize_for_hash(text))


def text_hashes(texts: Iterable[str | None]) -> np.ndarray:
    """``text_hash`` of each text as an ``int64`` array (None -> ``EMPTY_TEXT_HASH``)."""
    return np.fromiter((text_hash(t or "") for t in texts), dtype=np.int64)


def add_text_hash(df: pl.DataFrame, text_col: str = "text", out_col: str = "text_hash") -> pl.DataFrame:
    """``df`` with an ``Int64`` column ``out_col`` = ``text_hash(text_col)``.

    Exact dedup is then ``df.filter(pl.col(out_col) != EMPTY_TEXT_HASH)`` grouped by
    ``out_col`` (keep one representative per group, e.g. with
    ``clustering.pick_representatives`` using ``text_hash`` as ``cluster_id``).
    """
    return df.with_columns(pl.Series(out_col, text_hashes(df[text_col].to_list()), dtype=pl.Int64))


# --------------------------------------------------------------------------- lines


def _normalized_lines(text: str, keep_digits: bool = False) -> list[str]:
    """Normalised form of each line of ``text.split('\\n')`` (same length)."""
    lines = _normalize_keep_newlines(text, keep_digits).split("\n")
    if len(lines) != text.count("\n") + 1:  # cannot happen with current Unicode data; be safe
        lines = [normalize_for_hash(line, keep_digits=keep_digits) for line in text.split("\n")]
    return lines


def _hash_lines(lines: list[str]) -> list[int]:
    """``_h64`` of each line, 0 for an empty one (inlined: a document has dozens of lines)."""
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    return [from_bytes(blake2b(n.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little", signed=True)
            if n else 0 for n in lines]


def line_hashes(text: str, *, keep_digits: bool = False) -> list[int]:
    """One stable signed 64-bit hash per line of ``text.split('\\n')``.

    A line is hashed after ``normalize_for_hash`` (so "Page 3 of 12" and "Page 4
    of 12" are the same line, as in CCNet; ``keep_digits=True`` tells them
    apart); lines that normalise to the empty string get hash ``0`` (never
    boilerplate).
    """
    if not text:
        return [0] if text == "" else []
    return _hash_lines(_normalized_lines(text, keep_digits))


def text_and_line_hashes(text: str | None) -> tuple[int, list[int]]:
    """``(text_hash(text), line_hashes(text))`` from one normalisation of the text (None: no lines)."""
    if not text:
        return EMPTY_TEXT_HASH, ([] if text is None else [0])
    lines = _normalize_keep_newlines(text).split("\n")
    whole = _h64(" ".join([line for line in lines if line]))  # == normalize_for_hash(text)
    if len(lines) != text.count("\n") + 1:  # as in _normalized_lines
        lines = [normalize_for_hash(line) for line in text.split("\n")]
    return whole, _hash_lines(lines)


def _doc_line_set(text: str | None, keep_digits: bool) -> list[int]:
    if not text:
        return []
    hs = set(line_hashes(text, keep_digits=keep_digits))
    hs.discard(0)
    return sorted(hs)


def remove_boilerplate_lines(
    text: str, common: set[int] | frozenset[int], *, keep_digits: bool = False, hashes: list[int] | None = None
) -> tuple[str, int]:
    """Drop every line whose ``line_hashes`` value is in ``common``.

    ``hashes``: ``line_hashes(text, keep_digits=keep_digits)`` when the caller has them already.
    Returns ``(new_text, n_removed)``.  When something was removed, runs of blank
    lines left behind are collapsed to one and leading/trailing blank lines are
    stripped (a final newline is kept); an untouched text is returned unchanged.
    """
    if not text or not common:
        return text, 0
    if hashes is None:
        hashes = line_hashes(text, keep_digits=keep_digits)
    if common.isdisjoint(hashes):
        return text, 0
    lines = text.split("\n")
    kept: list[str] = []
    removed = 0
    for line, h in zip(lines, hashes):
        if h and h in common:
            removed += 1
        else:
            kept.append(line)
    if not removed:
        return text, 0
    out: list[str] = []
    prev_blank = True  # drops leading blank lines
    for line in kept:
        blank = not line.strip()
        if blank and prev_blank:
            continue
        out.append(line)
        prev_blank = blank
    while out and not out[-1].strip():
        out.pop()
    new = "\n".join(out)
    if new and text.endswith("\n"):
        new += "\n"
    return new, removed


def boilerplate_line_hashes(
    df: pl.DataFrame | pl.LazyFrame,
    min_docs: int,
    *,
    group_col: str | None = "url_host",
    doc_col: str = "doc_id",
    text_col: str = "text",
    keep_digits: bool = False,
) -> pl.DataFrame:
    """Boilerplate line hashes: lines present in >= ``min_docs`` distinct docs of a group.

    ``df`` has ``doc_id``, ``url_host`` (the ``group_col``) and ``text``.  Returns
    ``pl.DataFrame[url_host, line_hash: Int64]`` (just ``[line_hash]`` when
    ``group_col`` is None, i.e. partition-wide scope as in CCNet), sorted.
    Duplicate ``doc_id`` rows are counted once.
    """
    if min_docs < 1:
        raise ValueError("min_docs must be >= 1")
    keys = [group_col] if group_col else []
    cols = [*keys, doc_col, text_col]
    frame = df.select(cols)
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    frame = frame.unique(subset=[*keys, doc_col], keep="first", maintain_order=True)
    sets = [_doc_line_set(t, keep_digits) for t in frame[text_col].to_list()]
    exploded = (
        frame.select([*keys, doc_col])
        .with_columns(pl.Series("line_hash", sets, dtype=pl.List(pl.Int64)))
        .explode("line_hash")
        .drop_nulls("line_hash")
    )
    out = (
        exploded.group_by([*keys, "line_hash"])
        .agg(pl.len().alias("_n"))
        .filter(pl.col("_n") >= min_docs)
        .select([*keys, "line_hash"])
        .sort([*keys, "line_hash"])
    )
    return out


def remove_boilerplate_df(
    df: pl.DataFrame,
    common: pl.DataFrame,
    *,
    group_col: str | None = "url_host",
    text_col: str = "text",
    removed_col: str = "n_boilerplate_lines",
    keep_digits: bool = False,
) -> pl.DataFrame:
    """Apply ``remove_boilerplate_lines`` to every row of ``df``.

    ``common`` is the output of ``boilerplate_line_hashes`` (same ``group_col``
    and ``keep_digits``).
    Returns ``df`` with ``text_col`` rewritten and an ``Int32`` ``removed_col``.
    """
    if group_col:
        by_group: dict = {}
        for g, hs in common.group_by(group_col).agg(pl.col("line_hash")).iter_rows():
            by_group[g] = frozenset(hs)
        groups = df[group_col].to_list()
    else:
        every = frozenset(common["line_hash"].to_list())
        groups = None
    texts = df[text_col].to_list()
    new_texts: list[str | None] = []
    removed: list[int] = []
    empty: frozenset[int] = frozenset()
    for i, t in enumerate(texts):
        c = by_group.get(groups[i], empty) if groups is not None else every
        if t is None:
            new_texts.append(None)
            removed.append(0)
            continue
        nt, n = remove_boilerplate_lines(t, c, keep_digits=keep_digits)
        new_texts.append(nt)
        removed.append(n)
    return df.with_columns(
        pl.Series(text_col, new_texts, dtype=pl.String),
        pl.Series(removed_col, removed, dtype=pl.Int32),
    )

