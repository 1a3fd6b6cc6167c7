"""LDNOOBW bad-word lists per language: the ``adult_words`` signal's hit counts and ratios.

``badword_ratio(text, lang)`` = hits / words, where

* spaced languages (en, de, fr, es, ru, ...): words = number of ``\\w+`` tokens; entries match
  whole words / whole phrases, case-insensitively;
* zh / ja (language codes normalised by :func:`corpus_assets.core.text.languages.normalize_lang`,
  so ``yue``, ``zh-Hant`` ... count as zh): words = (number of CJK/kana characters) / 2 + number
  of other ``\\w+`` tokens (the average Chinese word is ~1.5-2 characters; no segmenter
  needed); CJK entries of >= 2 characters match as substrings, leftmost-longest, after NFKC;
* languages without a list: ratio 0.0.

A vectorised Rust pre-check (:meth:`BadWords.maybe_hits`) lets the frame path skip word
counting on pages that cannot hit (~0.35 ms per page for the whole safety step on the sample crawl):
a regex over the raw text for spaced languages, over the NFKC-normalised text for zh/ja.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import polars as pl

from corpus_assets.core.package_data import package_path
from corpus_assets.core.text.nfkc import nfkc
from corpus_assets.core.text.languages import is_unspaced, normalize_lang

__all__ = ["EXCLUDED_ENTRIES", "BadWords", "badword_ratio", "default_badwords"]

_WORD = re.compile(r"\w+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_HAS_CJK = _CJK_CHAR.search

#: LDNOOBW entries that are ignored because their everyday reading is innocent (the
#: files are shipped verbatim; these exclusions are applied when matching).
EXCLUDED_ENTRIES: dict[str, frozenset[str]] = {
    # "coon(s)": Maine Coon cats (FineWeb disables it in its URL list too)
    "en": frozenset({"xx", "girl on", "big black", "domination", "how to kill", "how to murder", "coon", "coons"}),
    "de": frozenset({"mufti"}),
    "fr": frozenset({"baiser", "jouir", "bander", "folle", "gerbe", "tanche", "ramoner", "tapette"}),
    "es": frozenset(
        {
            "asesinato", "asno", "drogas", "heroína", "infierno", "maldito", "martillo", "idiota", "imbécil",
            "nazi", "racista", "orina", "trio", "concha",
        }
    ),
    "ru": frozenset({"gol", "byk", "uboy", "бугор", "мент", "какая разница", "другой дразнится", "хрен", "хапать", "фига"}),
    "zh": frozenset(
        {
            "13.", "13点", "十三点", "刚度", "成人", "祖宗", "激情", "私服", "九游", "处女", "老母", "老二", "老味",
            "月经", "包皮", "卵子", "精子", "鬼公", "你老味", "你老母", "你老闆", "笨實", "粉腸", "硬膠",
        }
    ),
    "ja": frozenset(
        {
            "3p", "sm", "xx", "いたずら", "嫌い", "女の子", "人種", "支配", "殺人事件", "殺し方", "殺人方法", "拷問",
            "ファンタジー", "デブ", "フック", "ラバー", "なめ", "グロ", "カント", "ホモ", "奴隷", "女装", "誘惑", "噴出",
            "挿入", "変態", "エスコート", "スリット", "宦官", "平手打ち", "女子高生", "人妻", "覗き", "自己愛性", "両性",
            "両刀", "ディック", "おしり", "お尻", "オシリ", "コカイン", "ぽっちゃり", "毛深い", "脱衣", "直腸", "生殖器",
            "革抑制", "足を広げる", "女王様",
        }
    ),
}


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation of literal ``words``, longest first (the engines are leftmost-first)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# between two tokens: a run of non-word characters, none of them an ASCII word character
_SEPARATOR = "[^0-9A-Za-z_]+"
# raw-text characters the ASCII token boundaries below cannot see through: İ lower-cases to two characters
# and the Kelvin sign to "k"; a text holding one always gets counted
PREFILTER_BLIND = "[\u0130\u212a]"


def _prefilter(singles: set[str], phrases: Mapping[str, list[tuple[str, ...]]], symbols: set[str],
               ignore_case: bool = True) -> str | None:
    """A Rust regex that every hit of a list must match: whole-token singles, and phrases of ASCII
    tokens token by token, with ASCII word boundaries (a Unicode-``\\w`` token boundary is also an ASCII
    one, and so is the edge of a CJK character); of other phrases the first token; non-ASCII tokens and
    symbol (zh/ja: also CJK) entries as plain substrings. Case-insensitive for the raw text of spaced
    languages (see PREFILTER_BLIND); zh/ja match the normalised text."""
    ascii_phrases = [p for ps in phrases.values() for p in ps if all(t.isascii() for t in p)]
    firsts = singles | {p[0] for ps in phrases.values() for p in ps if not all(t.isascii() for t in p)}
    ascii_alts = {re.escape(t) for t in firsts if t.isascii()} | {_SEPARATOR.join(map(re.escape, p)) for p in ascii_phrases}
    other = {t for t in firsts if not t.isascii()} | symbols
    alts = [r"(?-u:\b)(?:" + "|".join(sorted(ascii_alts)) + r")(?-u:\b)"] if ascii_alts else []
    if other:
        alts.append(_alternation(other))
    return ("(?i)" if ignore_case else "") + "|".join(alts) if alts else None


class _LangList:
    """Matcher for one language.

    Spaced languages: text and entries are lower-cased and split into ``\\w+`` tokens;
    an entry hits when its token sequence occurs (whole words / whole phrases).
    CJK (zh, ja): entries containing CJK/kana characters are matched as substrings
    (leftmost-longest, non-overlapping); single-character entries are ignored (too
    ambiguous: 性, 奶, 乳 ...); other entries are matched as tokens.
    """

    __slots__ = ("singles", "phrases", "cjk_rx", "symbol_entries", "n_entries", "prefilter", "norm_prefilter")

    def __init__(self, entries: Iterable[str], lang: str):
        excluded = EXCLUDED_ENTRIES.get(lang, frozenset())
        unspaced = is_unspaced(lang)
        singles: set[str] = set()
        phrases: dict[str, list[tuple[str, ...]]] = {}
        cjk: set[str] = set()
        symbols: set[str] = set()
        n = 0
        for raw in entries:
            e = unicodedata.normalize("NFKC", raw.strip()).lower()
            if not e or e.startswith("#") or e in excluded:
                continue
            n += 1
            toks = tuple(_WORD.findall(e))
            if unspaced and _HAS_CJK(e):
                if len(e.replace(" ", "")) >= 2:
                    cjk.add(e)
            elif not toks:
                symbols.add(e)  # e.g. an emoji
            elif len(toks) == 1:
                singles.add(toks[0])
            else:
                phrases.setdefault(toks[0], []).append(toks)
        self.singles = frozenset(singles)
        self.phrases = phrases
        self.cjk_rx = re.compile(_alternation(cjk)) if cjk else None
        self.symbol_entries = tuple(symbols)
        self.n_entries = n
        # used by BadWords.maybe_hits: over the raw text for spaced languages, the normalised one for zh/ja
        self.prefilter = None if unspaced else _prefilter(singles, phrases, symbols)
        self.norm_prefilter = _prefilter(singles, phrases, symbols | cjk, ignore_case=False) if unspaced else None

    def _token_hits(self, text: str, tokens: list[str]) -> int:
        """Occurrences of single-word and phrase entries in ``tokens``, plus symbol entries in ``text``."""
        hits = sum(text.count(s) for s in self.symbol_entries)
        if not tokens:
            return hits
        tokset = set(tokens)
        present = self.singles & tokset
        firsts = self.phrases.keys() & tokset if self.phrases else ()
        if present or firsts:
            # tokens joined by two spaces: " w " then counts every occurrence of w
            joined = "  " + "  ".join(tokens) + "  "
            hits += sum(joined.count(" " + w + " ") for w in present)
            hits += sum(joined.count(" " + "  ".join(p) + " ") for f in firsts for p in self.phrases[f])
        return hits

    def count(self, text: str, cjk: bool) -> tuple[int, float]:
        """(hits, words) for ``text`` (already NFKC-normalised for zh/ja, and lower-cased)."""
        if not cjk:
            tokens = _WORD.findall(text)
            return self._token_hits(text, tokens), float(len(tokens))
        n_cjk = len(_CJK_CHAR.findall(text))
        tokens = _WORD.findall(_CJK_CHAR.sub(" ", text))
        hits = len(self.cjk_rx.findall(text)) if self.cjk_rx is not None else 0
        return hits + self._token_hits(text, tokens), n_cjk / 2.0 + len(tokens)


def _read_lists(files: Iterable[Path], name: str) -> dict[str, list[str]]:
    """``{lang: lines}`` of the files whose name matches ``name`` (group 1: the language code)."""
    lists: dict[str, list[str]] = {}
    for f in files:
        m = re.fullmatch(name, f.name)
        if m and f.is_file():
            lists[m.group(1)] = f.read_text(encoding="utf-8").splitlines()
    return lists


class BadWords:
    """LDNOOBW word lists per language (see the module docstring for how words are counted)."""

    def __init__(self, lists: Mapping[str, Iterable[str]]):
        self._lists = {normalize_lang(lang): _LangList(words, normalize_lang(lang)) for lang, words in lists.items()}

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "BadWords":
        """Load ``ldnoobw-<lang>.txt`` (or ``<lang>.txt``) files from a directory;
        ``None`` loads the lists shipped in ``corpus_assets/data/wordlists``."""
        if path is None:
            return cls(_read_lists(sorted(package_path("data", "wordlists").iterdir()), r"ldnoobw-([a-z]{2,3})\.txt"))
        p = Path(path)
        lists = _read_lists([p] if p.is_file() else sorted(p.iterdir()), r"(?:ldnoobw-)?([a-z]{2,3})\.txt")
        if not lists:
            raise FileNotFoundError(f"no ldnoobw-<lang>.txt files in {path}")
        return cls(lists)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._lists))

    def supports(self, lang: str | None) -> bool:
        return normalize_lang(lang) in self._lists

    def count(self, text: str | None, lang: str | None) -> tuple[int, float]:
        """``(hits, words)``; ``(0, words)`` for languages without a list."""
        if not text:
            return 0, 0.0
        code = normalize_lang(lang)
        ll = self._lists.get(code)
        cjk = is_unspaced(code)
        # NFKC only for zh/ja (full-width / half-width forms are common there); other languages
        # are only lower-cased
        norm = (nfkc(text) if cjk else text).lower()
        if ll is None:
            return 0, float(len(_WORD.findall(norm)))
        return ll.count(norm, cjk)

    def maybe_hits(self, texts: pl.Series, langs: Sequence[str | None]) -> list[bool]:
        """Vectorised pre-check: False means "certainly no hit" (ratio 0.0).  One Rust
        regex pass per listed language (zh/ja: over the NFKC-normalised, lower-cased texts, as
        ``count`` sees them); unknown-but-listed rows are True."""
        codes = [normalize_lang(x) for x in langs]
        out = [c in self._lists for c in codes]
        by_lang: dict[str, list[int]] = {}
        for i, c in enumerate(codes):
            ll = self._lists.get(c)
            if ll is not None and (ll.prefilter or ll.norm_prefilter):
                by_lang.setdefault(c, []).append(i)
        for c, rows in by_lang.items():
            ll = self._lists[c]
            sub = texts.gather(rows).cast(pl.String).fill_null("")
            if ll.prefilter:
                flags = (sub.str.contains(ll.prefilter) | sub.str.contains(PREFILTER_BLIND)).to_list()
            else:
                norm = pl.Series([nfkc(t).lower() for t in sub.to_list()], dtype=pl.String)
                flags = norm.str.contains(ll.norm_prefilter).to_list()  # type: ignore[arg-type]
            for i, f in zip(rows, flags):
                out[i] = bool(f)
        return out

    def badword_ratio(self, text: str | None, lang: str | None) -> float:
        hits, words = self.count(text, lang)
        return hits / words if words > 0 else 0.0


@lru_cache(maxsize=1)
def default_badwords() -> BadWords:
    """The LDNOOBW lists shipped in ``corpus_assets/data/wordlists`` (loaded once)."""
    return BadWords.load(None)


def badword_ratio(text: str | None, lang: str | None, badwords: BadWords | None = None) -> float:
    """Bad-word ratio of ``text`` for ``lang`` (packaged LDNOOBW lists by default)."""
    return (badwords or default_badwords()).badword_ratio(text, lang)
