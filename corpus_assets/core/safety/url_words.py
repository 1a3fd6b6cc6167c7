"""FineWeb / datatrove ``URLFilter`` word rules on a URL (lower-cased).

A *banned word* is one of the URL's ``[a-z0-9]+`` tokens; *soft-banned words* count when at
least ``soft_threshold`` of them are tokens; a *banned subword* occurs anywhere in the URL with
every non-alphanumeric character removed (``"2 girls 1 cup"`` -> ``"2girls1cup"``). Lines
starting with ``#`` in those lists are disabled entries (as in datatrove).
"""

from __future__ import annotations

import re
from typing import Iterable

from corpus_assets.core.safety.thresholds import SOFT_URL_WORDS

__all__ = ["UrlWordRules", "url_words_hit"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _enabled(words: Iterable[str]) -> list[str]:
    return [w.lower() for w in words if w and not w.startswith("#")]


class UrlWordRules:
    """The three FineWeb URL word lists, ready for matching."""

    def __init__(
        self, banned_words: Iterable[str] = (), soft_banned_words: Iterable[str] = (), banned_subwords: Iterable[str] = ()
    ):
        self.banned_words = frozenset(_enabled(banned_words))
        self.soft_banned_words = frozenset(_enabled(soft_banned_words))
        subs = {_NON_ALNUM.sub("", w) for w in _enabled(banned_subwords)}
        self.banned_subwords = tuple(sorted(s for s in subs if s))
        # longest first: the alternation is leftmost-first, so a longer subword is preferred
        longest_first = sorted(self.banned_subwords, key=len, reverse=True)
        self._subword_rx = re.compile("|".join(map(re.escape, longest_first))) if longest_first else None

    def matches(self, url: str | None) -> dict[str, list[str]]:
        """``{"banned": [...], "soft": [...], "subwords": [...]}`` found in ``url``, each sorted."""
        low = (url or "").lower()
        tokens = set(_NON_ALNUM.split(low))
        tokens.discard("")
        subs: list[str] = []
        if self._subword_rx is not None:
            subs = sorted(set(self._subword_rx.findall(_NON_ALNUM.sub("", low))))
        return {"banned": sorted(tokens & self.banned_words), "soft": sorted(tokens & self.soft_banned_words),
                "subwords": subs}


def url_words_hit(matches: dict[str, list[str]], soft_threshold: int = SOFT_URL_WORDS) -> bool:
    """The ``url_banned_word`` rule on :meth:`UrlWordRules.matches`: a banned word or subword, or
    at least ``soft_threshold`` soft-banned words."""
    return bool(matches["banned"] or matches["subwords"] or len(matches["soft"]) >= soft_threshold)
