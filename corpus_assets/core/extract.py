"""Main-content extraction: resiliparse (fast, default) or trafilatura (precise, slower)."""
from __future__ import annotations

import re

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

EXTRACTORS = ("resiliparse", "trafilatura")
_BLANK_LINES = re.compile(r"\n{3,}")


def extract_main_text(html: str, extractor: str = "resiliparse") -> tuple[str | None, str]:
    """Return (title, main text) of an HTML page; text lines are separated by newlines."""
    if extractor == "resiliparse":
        tree = HTMLTree.parse(html)
        title = tree.title or None
        text = extract_plain_text(tree, main_content=True, alt_texts=False, links=False, form_fields=False,
                                  noscript=False, list_bullets=True, preserve_formatting=True)
    elif extractor == "trafilatura":
        import trafilatura

        doc = trafilatura.bare_extraction(html, favor_precision=True, include_comments=False, with_metadata=True)
        title = (doc.title or None) if doc is not None else None
        text = (doc.text or "") if doc is not None else ""
    else:
        raise ValueError(f"unknown extractor {extractor!r} (use one of {EXTRACTORS})")
    return (title.strip() if title else None), _BLANK_LINES.sub("\n\n", text).strip()
