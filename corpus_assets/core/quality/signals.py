"""Per-document quality signals (numbers, never pass/fail).

The columns are the quantities behind the well-known heuristic rule sets, so the keep/drop
decision (``decisions.py`` + ``configs/filters.yaml``) can be re-run with other thresholds
without recomputing anything.  ``compute_signals(df)`` maps a frame with ``doc_id``, ``text``,
``lang`` to ``doc_id`` + the ``SIGNAL_SCHEMA`` columns; ``document_signals(text, lang)`` is the
same for one document.

Tokens and words (``words.py``): *tokens* are words plus symbol runs (``.``, ``...``, ``#``), in
text order - what datatrove gets from nltk; *words* are the tokens that contain a word
character.  zh is segmented with jieba, ja by script runs, other languages by regex; the signals
read tokens as arrays (``token_arrays.py``: lengths, word/alphabetic flags, 64-bit hashes), the
spaced languages' tokenised a chunk of texts at once without a string per token.

Lines: line fractions are taken over NON-EMPTY lines.  resiliparse separates blocks with an
empty line while trafilatura - whose output FineWeb's thresholds were tuned on - does not;
counting the blank lines would make every resiliparse page look "short-lined" and
"unpunctuated".  The repetition signals keep datatrove's exact line/paragraph splitting.
``\r\n`` / ``\r`` are normalised to ``\n`` first.

Gopher quality (Rae et al. 2021, App. A; datatrove ``GopherQualityFilter``)
    gopher_word_count           words
    gopher_mean_word_length     mean word length in characters
    gopher_hash_word_ratio      ``text.count("#")`` / words
    gopher_ellipsis_word_ratio  (``"..."`` + ``"…"`` occurrences) / words
    gopher_bullet_line_frac     lines starting (after spaces) with a bullet: • - * ● ▪ ◦ ‣
    gopher_ellipsis_line_frac   lines ending (after strip) in ``...`` or ``…``
    gopher_alpha_word_frac      words containing an alphabetic character / words
    gopher_stop_word_count      words in the language's stop-word list (any of lower/Title/UPPER)
  The ratios are per *word*, as the Gopher paper states them.  datatrove divides by nltk tokens
  (punctuation included); with that denominator clean, punctuation-rich text such as Wikipedia
  scores ~0.72 and fails the 0.8 alpha rule.

Gopher repetition (datatrove ``GopherRepetitionFilter``, same definitions, checked against a
literal re-implementation in tests/test_signals.py)
    gopher_dup_para_frac, gopher_dup_para_char_frac   paragraphs = ``re.split(r"\n{2,}",
        text.strip())``; repeated occurrences / paragraphs and their chars / ``len(text)``
    gopher_dup_line_frac, gopher_dup_line_char_frac   the same with ``re.split(r"\n+", text)``
    gopher_top_{2,3,4}gram_char_frac   chars of the most frequent token n-gram (first seen wins
        ties; tokens joined by a space - by nothing for zh/ja) x its count / ``len(text)``
    gopher_dup_{5..10}gram_char_frac   chars (tokens concatenated) of n-grams equal to an earlier
        one, scanning left to right and jumping n tokens past each duplicate / ``len(text)``

C4 (Raffel et al. 2020; datatrove ``C4QualityFilter`` as FineWeb configures it)
    c4_terminal_punct_line_frac   lines ending, after citation marks ([1], [edit], ...) and
        spaces are removed, in terminal punctuation (``. ! ? " '`` + CJK/Arabic/Indic enders
        and closing quotes, see ``TERMINAL_PUNCT``) but not in ``...``
    c4_lorem_ipsum_count          occurrences of "lorem ipsum" (case-insensitive)
    c4_javascript_line_count      candidate lines mentioning "javascript"
    c4_curly_bracket_line_count   other candidate lines containing ``{``
    c4_policy_line_count          other candidate lines with a cookie/terms-of-use/privacy phrase
    c4_sentence_count             sentences in the remaining candidate lines
  Candidate lines are the ones C4 looks at further: >= 3 words (``line.split()``; segmenter
  words for zh/ja) and no word over 1000 characters.  As in FineWeb's use of C4 the
  terminal-punctuation line filter is not applied before counting sentences (its share is the
  first signal).  Sentences per line = 1 + internal boundaries, counted with ``str.count``:
  ``". "``, ``"? "``, ``"! "``, ``'." '``, ``".” "`` and CJK 。！？ not at the end of the line
  (no abbreviation handling, unlike nltk's punkt).

FineWeb (Penedo et al. 2024; datatrove ``FineWebQualityFilter``)
    fineweb_line_punct_frac      lines ending (after strip) in terminal punctuation
    fineweb_short_line_frac      lines of <= 30 characters (after strip)
    fineweb_dup_line_char_frac   chars in repeated occurrences of non-empty lines / chars of the
                                 text without newlines (datatrove's definition)
    fineweb_newline_word_ratio   line breaks between non-empty lines / tokens

CJK: for zh/ja the words come from the segmenter, so a clean Chinese article has hundreds of
words rather than the handful of whitespace "words" a naive split finds; terminal punctuation
includes 。！？」』”; n-gram repetition runs on segmenter tokens.

Empty, whitespace-only or null text gives zeros everywhere (never NaN, never an exception).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from operator import methodcaller
from typing import Any

import numpy as np
import polars as pl

from corpus_assets.core.text.languages import is_unspaced
from corpus_assets.core.text.token_arrays import TokenArrays, spaced_tokens, string_hashes, token_arrays
from corpus_assets.core.text.words import WORD_CHAR_MATCH, stopwords, tokenize

__all__ = ["SIGNAL_SCHEMA", "SIGNAL_COLUMNS", "document_signals", "compute_signals"]

TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)

SIGNAL_SCHEMA: dict[str, pl.DataType] = {
    # Gopher quality
    "gopher_word_count": pl.Int64(),
    "gopher_mean_word_length": pl.Float64(),
    "gopher_hash_word_ratio": pl.Float64(),
    "gopher_ellipsis_word_ratio": pl.Float64(),
    "gopher_bullet_line_frac": pl.Float64(),
    "gopher_ellipsis_line_frac": pl.Float64(),
    "gopher_alpha_word_frac": pl.Float64(),
    "gopher_stop_word_count": pl.Int64(),
    # Gopher repetition
    "gopher_dup_para_frac": pl.Float64(),
    "gopher_dup_para_char_frac": pl.Float64(),
    "gopher_dup_line_frac": pl.Float64(),
    "gopher_dup_line_char_frac": pl.Float64(),
    **{f"gopher_top_{n}gram_char_frac": pl.Float64() for n in TOP_NGRAMS},
    **{f"gopher_dup_{n}gram_char_frac": pl.Float64() for n in DUP_NGRAMS},
    # C4
    "c4_terminal_punct_line_frac": pl.Float64(),
    "c4_lorem_ipsum_count": pl.Int64(),
    "c4_javascript_line_count": pl.Int64(),
    "c4_curly_bracket_line_count": pl.Int64(),
    "c4_policy_line_count": pl.Int64(),
    "c4_sentence_count": pl.Int64(),
    # FineWeb
    "fineweb_line_punct_frac": pl.Float64(),
    "fineweb_short_line_frac": pl.Float64(),
    "fineweb_dup_line_char_frac": pl.Float64(),
    "fineweb_newline_word_ratio": pl.Float64(),
}
SIGNAL_COLUMNS: tuple[str, ...] = tuple(SIGNAL_SCHEMA)

# ---------------------------------------------------------------------------
# constants / precompiled regexes

# C4 END_PUNCTUATION == FineWeb stop_chars, plus CJK / Arabic / Indic sentence enders and
# typographic closing quotes.
TERMINAL_PUNCT = (".", "?", "!", '"', "'", "。", "！", "？", "．", "｡", "」", "』", "”", "’", "؟", "।", "॥", "۔")
SHORT_LINE_LENGTH = 30
MAX_C4_WORD_LENGTH = 1000
MIN_C4_WORDS_PER_LINE = 3
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)

# a text without any of these has none of POLICY_SUBSTRINGS: 3 scans of the text instead of 6
_POLICY_HINTS = ("cookie", "privacy policy", "terms of use")

BULLETS = ("•", "-", "*", "●", "▪", "◦", "‣")
_BULLET_START = re.compile(r"\s*[" + re.escape("".join(BULLETS)) + "]").match
_ENDS_WITH_ELLIPSIS = methodcaller("endswith", ("...", "\u2026"))
_ENDS_WITH_TERMINAL = methodcaller("endswith", TERMINAL_PUNCT)
_ENDS_WITH_DOTS = methodcaller("endswith", "...")
_ENDS_WITH_CJK_ENDER = methodcaller("endswith", ("\u3002", "\uff01", "\uff1f"))
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_CJK_SENTENCE_ENDERS = ("。", "！", "？")


_ZERO: dict[str, Any] = {k: (0 if v == pl.Int64() else 0.0) for k, v in SIGNAL_SCHEMA.items()}


def _c4_terminal(line: str) -> int:
    return int(line.endswith(TERMINAL_PUNCT) and not line.endswith("..."))


@lru_cache(maxsize=None)
def _stopword_variants(lang: str) -> frozenset[str]:
    """Stop words as lower/Capitalised/UPPER forms, so tokens need no per-token .lower(); only entries that
    can be a word token (they start with a word character), so symbol tokens never match either."""
    sw = stopwords(lang)
    return frozenset(filter(WORD_CHAR_MATCH, sw | {w.capitalize() for w in sw} | {w.upper() for w in sw}))


@dataclass(frozen=True)
class _HashSet:
    """Sorted 64-bit hashes with a directory by their top ``bits``: a membership test reads the few hashes
    of one bucket (~4x faster than a binary search over all of them)."""

    hashes: np.ndarray  # sorted, followed by `width` padding entries
    starts: np.ndarray  # bucket b: hashes[starts[b]:starts[b + 1]]
    shift: np.uint64
    width: int  # entries in the largest bucket

    @classmethod
    def of(cls, hashes: np.ndarray) -> _HashSet:
        hashes = np.sort(hashes)
        bits = max(4, int(hashes.size).bit_length() + 1)
        shift = np.uint64(64 - bits)
        starts = np.searchsorted((hashes >> shift).astype(np.int64), np.arange((1 << bits) + 1))
        width = int(np.diff(starts).max())
        return cls(np.concatenate([hashes, np.zeros(width, dtype=np.uint64)]), starts, shift, width)

    def contains(self, h: np.ndarray) -> np.ndarray:
        bucket = (h >> self.shift).astype(np.intp)
        lo, hi = self.starts[bucket], self.starts[bucket + 1]
        hit = np.zeros(h.shape[0], dtype=bool)
        for j in range(self.width):
            hit |= (self.hashes[lo + j] == h) & (lo + j < hi)
        return hit


@lru_cache(maxsize=None)
def _stopword_hashes(lang: str) -> _HashSet | None:
    """The token hashes (``token_arrays``) of ``_stopword_variants(lang)``; None without a list."""
    sw = _stopword_variants(lang)
    return _HashSet.of(string_hashes(sorted(sw))) if sw else None


@dataclass(frozen=True)
class _Tokens:
    """What the signals need of one document's tokens (words and symbol runs, in text order)."""

    keys: list[np.ndarray]  # keys[n - 2][p]: the key of the n-gram at token p, n = 2..5 (while n <= tokens)
    lengths: np.ndarray  # int64 per token
    ends: np.ndarray  # int64, tokens + 1: characters of tokens p..q-1 = ends[q] - ends[p]
    words: int
    word_chars: int
    alpha_words: int  # words with an alphabetic character
    stop_words: int


def _per_text(offsets: np.ndarray, values: np.ndarray) -> list[int]:
    """The sum of ``values`` over each text's tokens (text i: tokens ``offsets[i]:offsets[i + 1]``)."""
    prefix = np.zeros(values.size + 1, dtype=np.int64)
    np.cumsum(values, out=prefix[1:])
    return (prefix[offsets[1:]] - prefix[offsets[:-1]]).tolist()


def _ngram_keys(h: np.ndarray) -> list[np.ndarray]:
    """The 64-bit keys of the 2..5-grams of tokens with hashes ``h``: key(n) = key(n-1) * P + hash(token)
    mod 2**64, a polynomial hash of the tokens' hashes (collision probability ~1e-19 per pair). Longer
    n-grams, up to 10, are told apart by the ids of their first and last 5-grams (``_dup_ngrams``)."""
    keys = []
    k = h
    with np.errstate(over="ignore"):
        for n in range(2, min(DUP_NGRAMS[0], h.shape[0]) + 1):
            k = k[:-1] * _P + h[n - 1 :]
            keys.append(k)
    return keys


def _tokens(ta: TokenArrays, langs: list[str]) -> list[_Tokens]:
    """``_Tokens`` of each text of ``ta`` (``langs[i]`` the language of text i); n-gram keys and character
    offsets are computed for all texts at once (a key across two texts is never read)."""
    stop = np.zeros(ta.hashes.size, dtype=bool)
    for lang in set(langs):
        sw = _stopword_hashes(lang)
        if sw is None:
            continue
        if len(langs) == 1 or all(lg == lang for lg in langs):
            sel: slice | np.ndarray = slice(None)
        else:
            sel = np.repeat(np.array([lg == lang for lg in langs]), np.diff(ta.offsets))
        stop[sel] = sw.contains(ta.hashes[sel])
    words = _per_text(ta.offsets, ta.is_word)
    word_chars = _per_text(ta.offsets, np.where(ta.is_word, ta.lengths, 0))
    alpha_words = _per_text(ta.offsets, ta.has_alpha)  # only words have an alphabetic character
    stop_words = _per_text(ta.offsets, stop)
    keys = _ngram_keys(ta.hashes)
    ends = np.zeros(ta.lengths.size + 1, dtype=np.int64)
    np.cumsum(ta.lengths, out=ends[1:])
    bounds = ta.offsets.tolist()
    return [_Tokens([k[a : b - m] for m, k in enumerate(keys[: b - a - 1], 1)], ta.lengths[a:b], ends[a : b + 1], *stats)
            for a, b, *stats in zip(bounds, bounds[1:], words, word_chars, alpha_words, stop_words)]


def _unspaced_tokens(line_toks: list[list[str]], lang: str) -> tuple[_Tokens, list[int]]:
    """``_Tokens`` of a zh/ja text from the segmenter's tokens of each of its lines, and the words of each line."""
    ta = token_arrays([t for lt in line_toks for t in lt])  # one text
    line_ends = np.cumsum(np.fromiter(map(len, line_toks), dtype=np.int64, count=len(line_toks)))
    return _tokens(ta, [lang])[0], _per_text(np.concatenate(([0], line_ends)), ta.is_word)


def _dup_elements(items: list[str]) -> tuple[int, int]:
    """(repeated occurrences, chars of repeated occurrences) - datatrove ``find_duplicates``."""
    if len(items) < 2:
        return 0, 0
    counts = Counter(items)
    if len(counts) == len(items):
        return 0, 0
    dup_n = 0
    dup_chars = 0
    for item, c in counts.items():
        if c > 1:
            dup_n += c - 1
            dup_chars += len(item) * (c - 1)
    return dup_n, dup_chars


_P = np.uint64(0x100000001B3)  # FNV-64 prime: n-gram key = key(n-1) * P + hash(token), mod 2**64


def _top_ngram(kn: np.ndarray) -> tuple[int, int]:
    """(position of the first occurrence of the most frequent n-gram key, its count)."""
    sk = np.sort(kn)
    new = np.empty(sk.shape[0], dtype=bool)  # a key's first place in sorted order
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.empty_like(starts)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = sk.shape[0] - starts[-1]
    cnt = int(counts.max())
    if cnt == 1:
        return 0, cnt
    top_keys = sk[starts[counts == cnt]]  # sorted
    if top_keys.shape[0] == 1:
        return int((kn == top_keys[0]).argmax()), cnt
    is_top = top_keys[np.minimum(np.searchsorted(top_keys, kn), top_keys.shape[0] - 1)] == kn
    return int(is_top.argmax()), cnt


def _top_ngrams(tokens: _Tokens, sep_len: int, out: dict[str, Any], text_len: int) -> None:
    """Top 2/3/4-gram char fractions: datatrove's Counter.most_common(1) picks, among the n-grams with the
    highest count, the one seen first; chars = len(" ".join(gram)) * count."""
    pos, cnt = 0, 2
    ends = tokens.ends
    for n, kn in zip(TOP_NGRAMS, tokens.keys):
        if cnt > 1:  # else no (n-1)-gram repeats, so no n-gram does: (0, 1) again
            pos, cnt = _top_ngram(kn)
        gram_len = int(ends[pos + n] - ends[pos]) + sep_len * (n - 1)
        out[f"gopher_top_{n}gram_char_frac"] = gram_len * cnt / text_len


def _repetition_ngrams(tokens: _Tokens, sep_len: int, out: dict[str, Any], text_len: int) -> None:
    """Top 2/3/4-gram and duplicated 5..10-gram char fractions (datatrove definitions).

    N-grams are compared by a 64-bit polynomial hash of the tokens' 64-bit hashes (collision
    probability ~1e-19 per pair), built with numpy instead of materialising tuples.
    """
    n_toks = tokens.lengths.shape[0]
    if n_toks < 2 or text_len == 0:
        return
    _top_ngrams(tokens, sep_len, out, text_len)
    if n_toks >= DUP_NGRAMS[0]:
        _dup_ngrams(tokens, out, text_len)


def _dup_ngrams(tokens: _Tokens, out: dict[str, Any], text_len: int) -> None:
    """Duplicated 5..10-gram char fractions (datatrove's find_all_duplicate) of a text of >= 5 tokens."""
    n_toks = tokens.lengths.shape[0]
    k5 = tokens.keys[DUP_NGRAMS[0] - 2]
    order = np.argsort(k5)
    sk = k5[order]
    same_as_prev = sk[1:] == sk[:-1]
    if not same_as_prev.any():
        return  # no repeated 5-gram => no repeated n-gram for any n >= 5
    # An n-gram (n >= 5) can only be a duplicate where each of its 5-grams repeats; positions whose
    # n-gram is unique can never match later, so datatrove's left-to-right scan (find_all_duplicate:
    # count a repeat, jump n tokens) only has to visit the others.
    rep_sorted = np.zeros(sk.shape[0], dtype=bool)
    rep_sorted[1:] |= same_as_prev
    rep_sorted[:-1] |= same_as_prev
    mask = np.empty_like(rep_sorted)  # the 5-gram at p repeats
    mask[order] = rep_sorted
    # a small id per distinct 5-gram; the n-gram at p (5 <= n <= 10) is told by the ids of the 5-grams at
    # p and p + n - 5, which cover it: exact small-int keys instead of more 64-bit hashes
    ids = np.empty(sk.shape[0], dtype=np.int64)
    ids[order] = np.cumsum(np.concatenate(([0], ~same_as_prev)))
    n_ids = int(ids.max()) + 1
    dups: list[int] = []  # positions of the duplicates, n = 5, 6, ... in turn
    per_n: list[int] = []  # how many for each n
    for n in DUP_NGRAMS:
        if n > n_toks:
            break
        if n > DUP_NGRAMS[0]:
            mask = mask[:-1] & mask[1:]  # the 5-grams at p and p + 1 .. p + n - 5 repeat
        cand = np.flatnonzero(mask)
        seen: set = set()
        nxt = 0
        found = len(dups)
        for p, g in zip(cand.tolist(), (ids[cand] * n_ids + ids[cand + (n - DUP_NGRAMS[0])]).tolist()):
            if p < nxt:
                continue
            if g in seen:
                dups.append(p)
                nxt = p + n
            else:
                seen.add(g)
                nxt = p + 1
        per_n.append(len(dups) - found)
    if dups:  # characters of each duplicate n-gram: ends[p + n] - ends[p], summed per n
        at = np.array(dups)
        chars = np.zeros(at.shape[0] + 1, dtype=np.int64)
        ns = np.repeat(np.array(DUP_NGRAMS[: len(per_n)]), per_n)
        np.cumsum(tokens.ends[at + ns] - tokens.ends[at], out=chars[1:])
        bounds = np.cumsum([0, *per_n]).tolist()
        for n, a, b in zip(DUP_NGRAMS, bounds, bounds[1:]):
            if b > a:
                out[f"gopher_dup_{n}gram_char_frac"] = int(chars[b] - chars[a]) / text_len


def _prepare(text: str | None, lang: str | None) -> tuple[str, str] | None:
    """(text with ``\\n`` line ends, lower-case lang), or None for a text without signals (all zero)."""
    if not text or text.isspace():
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, (lang or "").lower()


def document_signals(text: str | None, lang: str | None) -> dict[str, Any]:
    """All SIGNAL_SCHEMA values for one document (a plain dict, name -> int/float)."""
    prepared = _prepare(text, lang)
    if prepared is None:
        return dict(_ZERO)
    text, lang = prepared
    return _signals(text, lang, None if is_unspaced(lang) else _tokens(spaced_tokens([text]), [lang])[0])


def _signals(text: str, lang: str, tokens: _Tokens | None) -> dict[str, Any]:  # noqa: C901 - one hot pass whose sections share a dozen intermediates
    """``document_signals`` of a prepared text; ``tokens`` given for a spaced language, None for zh/ja."""
    out = dict(_ZERO)
    unspaced = tokens is None
    text_len = len(text)

    # ---- lines -------------------------------------------------------------------------
    # Line-level fractions are taken over NON-EMPTY lines: resiliparse separates blocks with
    # a blank line, trafilatura (whose output FineWeb's thresholds were tuned on) does not, and
    # blank lines would otherwise count as "short" / "no punctuation" lines.
    lines = text.splitlines()
    stripped_all = list(map(str.strip, lines))
    ne_lines = list(compress(lines, stripped_all))  # raw non-empty lines
    stripped = list(filter(None, stripped_all))  # the same lines, stripped
    n_ne = len(stripped)

    # ---- tokens ------------------------------------------------------------------------
    line_words: list[int] = []
    if tokens is None:  # zh/ja: segmented line by line (the C4 candidate lines need words per line)
        tokens, line_words = _unspaced_tokens([tokenize(line, lang) for line in stripped], lang)
    n_toks = tokens.lengths.shape[0]
    n_words = tokens.words

    # ---- Gopher quality ----------------------------------------------------------------
    out["gopher_word_count"] = n_words
    if n_words:
        out["gopher_mean_word_length"] = tokens.word_chars / n_words
        out["gopher_hash_word_ratio"] = text.count("#") / n_words
        out["gopher_ellipsis_word_ratio"] = (text.count("...") + text.count("\u2026")) / n_words
        out["gopher_alpha_word_frac"] = tokens.alpha_words / n_words
        out["gopher_stop_word_count"] = tokens.stop_words
    if n_ne:
        out["gopher_bullet_line_frac"] = len(list(filter(_BULLET_START, ne_lines))) / n_ne
        out["gopher_ellipsis_line_frac"] = sum(map(_ENDS_WITH_ELLIPSIS, stripped)) / n_ne

    # ---- Gopher repetition (datatrove definitions, on the raw text) ---------------------
    # paragraphs = re.split(r"\n{2,}", text.strip()): split at "\n\n", a run of k newlines leaves k // 2 - 1
    # empty pieces and, k odd, one "\n" before the next paragraph
    paragraphs = [p.removeprefix("\n") for p in text.strip().split("\n\n") if p]
    dn, dc = _dup_elements(paragraphs)
    out["gopher_dup_para_frac"] = dn / len(paragraphs)
    out["gopher_dup_para_char_frac"] = dc / text_len
    # lines = re.split(r"\n+", text): the non-empty pieces, plus "" at either end
    f_lines = text.split("\n")
    lead, trail = not f_lines[0], len(f_lines) > 1 and not f_lines[-1]
    ne_dups = _dup_elements(ne_lines)  # FineWeb's, below
    if (len(lines) == len(f_lines) - text.endswith("\n")  # splitlines() split at "\n" only
            and n_ne == len(f_lines) - f_lines.count("")):  # and no line is blank but not empty
        # the non-empty pieces are ne_lines: "" at both ends is one more repeat, of no characters
        n_r, (dn, dc) = n_ne + lead + trail, (ne_dups[0] + (lead and trail), ne_dups[1])
    else:
        r_lines = [""] * lead + list(filter(None, f_lines)) + [""] * trail
        n_r, (dn, dc) = len(r_lines), _dup_elements(r_lines)
    out["gopher_dup_line_frac"] = dn / n_r
    out["gopher_dup_line_char_frac"] = dc / text_len
    _repetition_ngrams(tokens, 0 if unspaced else 1, out, text_len)

    # ---- FineWeb -----------------------------------------------------------------------
    n_terminal = sum(map(_ENDS_WITH_TERMINAL, stripped))  # lines ending in terminal punctuation (C4 too)
    if n_ne:
        out["fineweb_line_punct_frac"] = n_terminal / n_ne
        out["fineweb_short_line_frac"] = sum(map(SHORT_LINE_LENGTH.__ge__, map(len, stripped))) / n_ne
        dn, dc = ne_dups
        denom = text_len - text.count("\n")
        if dc and denom:
            out["fineweb_dup_line_char_frac"] = dc / denom
    if n_toks:
        # newlines between non-empty lines (blank-line runs collapsed), per token
        out["fineweb_newline_word_ratio"] = max(n_ne - 1, 0) / n_toks

    # ---- C4 ----------------------------------------------------------------------------
    text_lower = text.lower()
    out["c4_lorem_ipsum_count"] = text_lower.count("lorem ipsum")
    if n_ne:
        # terminal punctuation, not "...", after removing citation marks ([1], [edit], ...)
        n_term = n_terminal - sum(map(_ENDS_WITH_DOTS, stripped))
        if "[" in text:
            for line in stripped:
                if line.endswith("]"):
                    lc = _CITATION.sub("", line)
                    n_term += _c4_terminal(lc) - _c4_terminal(line)
        out["c4_terminal_punct_line_frac"] = n_term / n_ne

    # candidate lines: >= 3 words and no word > 1000 chars
    if unspaced:
        word_counts = line_words
    else:
        # only ">= 3 words?" matters: split at most twice (the rest of the line stays one piece)
        word_counts = list(map(len, map(str.split, stripped, repeat(None), repeat(MIN_C4_WORDS_PER_LINE - 1))))
    cand = [ln for ln, wc in zip(stripped, word_counts) if wc >= MIN_C4_WORDS_PER_LINE]
    if any(len(ln) > MAX_C4_WORD_LENGTH for ln in cand):
        cand = [ln for ln in cand if len(ln) <= MAX_C4_WORD_LENGTH or max(map(len, ln.split())) <= MAX_C4_WORD_LENGTH]
    js = curly = policy = 0
    check_js = "javascript" in text_lower
    check_curly = "{" in text
    check_policy = any(map(text_lower.__contains__, _POLICY_HINTS))
    if check_js or check_curly or check_policy:  # datatrove order: javascript, {, policy
        kept = []
        for line in cand:
            low = line.lower() if (check_js or check_policy) else line
            if check_js and "javascript" in low:
                js += 1
            elif check_curly and "{" in line:
                curly += 1
            elif check_policy and any(p in low for p in POLICY_SUBSTRINGS):
                policy += 1
            else:
                kept.append(line)
        cand = kept
    if cand:
        kept_text = "\n".join(cand)
        if "[" in kept_text:
            kept_text = _CITATION.sub("", kept_text)
        # sentences = lines + internal boundaries ("X. Y", "X? Y", 'X." Y', CJK 。！？ not at line end)
        boundaries = (
            kept_text.count(". ")
            + kept_text.count("? ")
            + kept_text.count("! ")
            + kept_text.count('." ')
            + kept_text.count(".\u201d ")
        )
        if any(c in kept_text for c in _CJK_SENTENCE_ENDERS):
            boundaries += kept_text.count("\u3002") + kept_text.count("\uff01") + kept_text.count("\uff1f")
            boundaries -= sum(map(_ENDS_WITH_CJK_ENDER, cand))
        out["c4_sentence_count"] = len(cand) + boundaries
    out["c4_javascript_line_count"] = js
    out["c4_curly_bracket_line_count"] = curly
    out["c4_policy_line_count"] = policy
    return out


_CHUNK_CHARS = 1 << 18  # texts tokenised at once: enough to amortise the array calls, small enough for the caches


def compute_signals(df: pl.DataFrame) -> pl.DataFrame:
    """``doc_id`` (str) + every SIGNAL_SCHEMA column, exact dtypes, one row per input row in input
    order, for a frame with ``doc_id``, ``text`` and ``lang`` (null text/lang allowed)."""
    missing = {"doc_id", "text", "lang"} - set(df.columns)
    if missing:
        raise ValueError(f"compute_signals: input frame lacks column(s) {sorted(missing)}")
    cols = SIGNAL_COLUMNS
    zero = tuple(map(_ZERO.__getitem__, cols))
    prepared = list(map(_prepare, df.get_column("text").to_list(), df.get_column("lang").to_list()))
    rows = []
    start = 0
    while start < len(prepared):  # chunks of ~_CHUNK_CHARS: spaced texts are tokenised a chunk at once
        stop, size = start, 0
        while stop < len(prepared) and size < _CHUNK_CHARS:
            p = prepared[stop]
            size += len(p[0]) if p else 0
            stop += 1
        chunk = prepared[start:stop]
        spaced = [p for p in chunk if p and not is_unspaced(p[1])]
        tokens = iter(_tokens(spaced_tokens([p[0] for p in spaced]), [p[1] for p in spaced]) if spaced else ())
        for p in chunk:
            if p is None:
                rows.append(zero)
            else:
                text, lang = p
                toks = None if is_unspaced(lang) else next(tokens)
                rows.append(tuple(map(_signals(text, lang, toks).__getitem__, cols)))
        start = stop
    columns = list(zip(*rows)) if rows else [() for _ in cols]
    return pl.DataFrame(
        [df.get_column("doc_id").cast(pl.String).alias("doc_id")]
        + [pl.Series(c, list(v), dtype=SIGNAL_SCHEMA[c]) for c, v in zip(cols, columns)]
    )
