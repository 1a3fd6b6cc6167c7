"""The spaced-language tokens of many texts at once, as NumPy arrays instead of Python strings.

``words.tokenize`` gives a page's tokens as a list of ``str``: one regex match and one string object per
token, ~0.3 ms for a 6,000-character page. The quality signals of a spaced language only need, per token,
its length, whether it is a word, whether it has an alphabetic character and an identity to compare it with
other tokens (n-gram repetition, stop words). This module computes those for a whole batch of texts with
array operations over their code points, for the same tokens as ``words.tokenize`` gives:

* every code point has a class, read from the regexes of ``words.py`` themselves (word character, space,
  joiner ``' ’ -``) and from ``HAS_ALPHA`` (filled lazily, per code point first seen, so the table is exact
  for the running Python's Unicode database and costs nothing up front);
* a token is a maximal run of word characters, a joiner with a word character on either side counting as
  one (``_WORD``: ``W+(J W+)*``), or a maximal run of other non-space characters (``_SYMBOL``); no token
  spans a space, so texts joined by ``"\\n"`` tokenise as each text on its own;
* a token's identity is a 64-bit hash of its code points (a polynomial over prefix sums, mod 2**64, mixed
  with its length and finalised with murmur3's ``fmix64``), so two tokens compare equal when their
  strings do, up to a ~2**-64 chance per pair; ``string_hashes`` hashes any string the same way (stop
  words).

``token_arrays`` gives the same arrays for tokens that come as strings (the zh/ja segmenters').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from corpus_assets.core.text.words import HAS_ALPHA, JOINER_MATCH, WORD_CHAR_MATCH

__all__ = ["TokenArrays", "spaced_tokens", "token_arrays", "string_hashes"]

_U64 = np.uint64
_BASE = 0x100000001B3  # odd, so invertible mod 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_LEN_K = _U64(0x9E3779B97F4A7C15)
_FM1 = _U64(0xFF51AFD7ED558CCD)
_FM2 = _U64(0xC4CEB9FE1A85EC53)
_S33 = _U64(33)

# code-point classes (bits); _UNKNOWN marks a code point not classified yet
_SPACE, _WORD, _JOINER, _ALPHA = 1, 2, 4, 8
_UNKNOWN = 255
_CLASSES = np.full(0x110000, _UNKNOWN, dtype=np.uint8)
_SPACE_MATCH = re.compile(r"\s").match  # the regexes' \s (str.isspace), which separates tokens


def _classify(code: int) -> int:
    ch = chr(code)
    return ((_SPACE if _SPACE_MATCH(ch) else 0) | (_WORD if WORD_CHAR_MATCH(ch) else 0)
            | (_JOINER if JOINER_MATCH(ch) else 0) | (_ALPHA if HAS_ALPHA(ch) else 0))


def _classes_of(codes: np.ndarray) -> np.ndarray:
    cls = _CLASSES[codes]
    unknown = cls == _UNKNOWN
    if unknown.any():
        for code in set(codes[unknown].tolist()):
            _CLASSES[code] = _classify(code)
        cls = _CLASSES[codes]
    return cls


_POWERS: list[np.ndarray] = []
_POWERS_KEPT = 1 << 20  # entries kept between calls (16 MB); a longer text gets its own, dropped after


def _power_tables(size: int) -> list[np.ndarray]:
    p = np.full(size, _BASE, dtype=_U64)
    q = np.full(size, _BASE_INV, dtype=_U64)
    p[0] = q[0] = 1
    np.cumprod(p, out=p)
    np.cumprod(q, out=q)
    return [p, q]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(B**i, B**-i) mod 2**64 for i < n (up to ``_POWERS_KEPT`` cached, grown geometrically)."""
    if n > _POWERS_KEPT:
        p, q = _power_tables(n)
        return p, q
    if not _POWERS or _POWERS[0].size < n:
        _POWERS[:] = _power_tables(min(max(n, 2 * _POWERS[0].size if _POWERS else 0, 1 << 16), _POWERS_KEPT))
    return _POWERS[0], _POWERS[1]


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _span_hashes(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The hash of ``codes[s:e]`` for every span (position-independent: the same string, the same hash)."""
    pw, inv = _powers(codes.size + 1)
    prefix = np.zeros(codes.size + 1, dtype=_U64)
    np.cumsum(codes * pw[: codes.size], out=prefix[1:])  # wraps mod 2**64
    x = (prefix[ends] - prefix[starts]) * inv[starts]
    x ^= (ends - starts).astype(_U64) * _LEN_K  # a NUL code point adds nothing to the sum; the length tells
    x ^= x >> _S33
    x *= _FM1
    x ^= x >> _S33
    x *= _FM2
    x ^= x >> _S33
    return x


def _spans(strings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code points of the strings concatenated, start and end of each string in them)"""
    ends = np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)))
    starts = np.zeros_like(ends)
    starts[1:] = ends[:-1]
    return _codes("".join(strings)), starts, ends


def string_hashes(strings: list[str]) -> np.ndarray:
    """The token hash of each string (uint64), as ``spaced_tokens`` hashes a token with that text."""
    return _span_hashes(*_spans(strings))


@dataclass(frozen=True)
class TokenArrays:
    """Tokens of a batch of texts, in text order; text ``i``'s tokens are ``offsets[i]:offsets[i + 1]``."""

    offsets: np.ndarray  # int64, len(texts) + 1
    hashes: np.ndarray  # uint64 per token
    lengths: np.ndarray  # int64 per token, in characters
    is_word: np.ndarray  # bool per token: starts with a word character (words.WORD_CHAR_MATCH; else a symbol run)
    has_alpha: np.ndarray  # bool per token: contains a HAS_ALPHA character


def _token_arrays(codes: np.ndarray, cls: np.ndarray, starts: np.ndarray, ends: np.ndarray, offsets: np.ndarray
                  ) -> TokenArrays:
    alpha_prefix = np.zeros(codes.size + 1, dtype=np.int64)
    np.cumsum((cls & _ALPHA) != 0, out=alpha_prefix[1:])
    return TokenArrays(offsets, _span_hashes(codes, starts, ends), ends - starts,
                       (cls[starts] & _WORD) != 0, alpha_prefix[ends] != alpha_prefix[starts])


def token_arrays(tokens: list[str]) -> TokenArrays:
    """The arrays of given tokens (a segmenter's, say) as one text."""
    codes, starts, ends = _spans(tokens)
    return _token_arrays(codes, _classes_of(codes), starts, ends, np.array([0, len(tokens)], dtype=np.int64))


def spaced_tokens(texts: list[str]) -> TokenArrays:
    """The tokens ``words.tokenize(text, lang)`` gives for a spaced ``lang``, of every text, as arrays."""
    joined = "\n".join(texts)
    codes = _codes(joined)
    cls = _classes_of(codes)
    word = (cls & _WORD).astype(bool)
    joiner = (cls & _JOINER).astype(bool)
    if joiner.any():  # a joiner between two word characters is part of the word
        word[1:-1] |= joiner[1:-1] & word[:-2] & word[2:]
    kind = ((cls & _SPACE) == 0).view(np.int8) + word  # 0 space, 1 symbol, 2 word
    edge = np.empty(codes.size + 1, dtype=bool)  # edge[i]: a token boundary before code point i
    edge[0] = edge[-1] = True
    np.not_equal(kind[1:], kind[:-1], out=edge[1:-1])
    bounds = np.flatnonzero(edge)  # runs of one kind: [bounds[j], bounds[j + 1])
    run_kind = kind[bounds[:-1]]
    in_token = run_kind != 0
    starts = bounds[:-1][in_token]
    ends = bounds[1:][in_token]
    text_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1) - 1
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    offsets[1:] = np.searchsorted(starts, text_ends)
    return _token_arrays(codes, cls, starts, ends, offsets)  # a word token starts with a word character
