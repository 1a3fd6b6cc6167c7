"""The quality model's input text: a document's beginning, segmented into words as the signals stage
segments it (`corpus_assets.core.words.tokenize`: jieba words for Chinese, script runs for Japanese,
regex tokens elsewhere), lower-cased, on one line, tokens separated by single spaces.

Only the first `MAX_CHARS` characters are used. Tokenising and fastText's bigram lookups both cost
per token, so this bound is what keeps scoring above 5,000 documents per CPU-second; a page's
beginning is also what a rater reads first (rating sheets show ~1,500 characters). Symbol runs (`.`,
`...`, `»`, `|`) are kept as tokens: punctuation habits separate prose from menus and link lists.
fastText reads any token that starts with its label prefix as a label, so `__label__` in a page is
defused.
"""
from __future__ import annotations

from collections.abc import Iterable

from corpus_assets.core.text.words import tokenize

MAX_CHARS = 1000
LABEL_PREFIX = "__label__"


def model_text(text: str | None, lang: str | None, max_chars: int = MAX_CHARS) -> str:
    """One line of lower-cased tokens from the first `max_chars` characters of `text`."""
    if not text:
        return ""
    return " ".join(tokenize(text[:max_chars], lang)).lower().replace(LABEL_PREFIX, "_label_")


def model_texts(texts: Iterable[str | None], langs: Iterable[str | None], max_chars: int = MAX_CHARS) -> list[str]:
    """`model_text` for parallel sequences of texts and languages."""
    return [model_text(text, lang, max_chars) for text, lang in zip(texts, langs, strict=True)]
