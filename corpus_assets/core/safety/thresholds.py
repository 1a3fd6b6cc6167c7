"""Thresholds of the safety tags (defaults, and the config override of them).

On the sample crawl (1 860 pages, lid.176 languages) the 99th-percentile bad-word ratio is
0.15 % (de), 0.06 % (fr), 0 (es, ru, ja); only three pages reach the defaults: a real
erotic-story page (zh, 1.5 %, twice) and a news article about a brothel (en, 1.7 %, mostly
"sex"); a profanity-heavy music review stays below (0.46 %).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping

__all__ = ["BADWORD_RATIO", "MIN_BADWORD_HITS", "SOFT_URL_WORDS", "SafetyThresholds", "DEFAULT_THRESHOLDS"]

BADWORD_RATIO: float = 0.01
"""Tag ``adult_words`` when bad-word hits / words reaches this ratio (one bad word per 100 words) ..."""
MIN_BADWORD_HITS: int = 3
"""... and there are at least this many hits, so that one or two hits in a short text never tag it."""
SOFT_URL_WORDS: int = 2
"""Tag ``url_banned_word`` when this many soft-banned words are URL tokens (datatrove's ``soft_word_threshold``)."""


@dataclass(frozen=True)
class SafetyThresholds:
    badword_ratio: float = BADWORD_RATIO
    min_badword_hits: int = MIN_BADWORD_HITS
    soft_url_words: int = SOFT_URL_WORDS

    @classmethod
    def coerce(cls, value: "SafetyThresholds | Mapping[str, object] | None") -> "SafetyThresholds":
        """Accept an instance, ``None`` (defaults) or a mapping (e.g. from YAML config)."""
        if value is None:
            return DEFAULT_THRESHOLDS
        if isinstance(value, SafetyThresholds):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown safety thresholds: {sorted(unknown)}")
        return cls(**{k: v for k, v in value.items()})  # type: ignore[arg-type]


DEFAULT_THRESHOLDS = SafetyThresholds()
