"""Test oracle: a second, pure-Python way of finding PII candidates, and detection with it.

It was the `mask_pii` path before the PII code was regrouped; the package now finds candidates
with Polars only (``corpus_assets.core.privacy.candidates``). Tests check that both finders give
the same candidates and, on real pages, the same masked text.

The same patterns, but each only run where it can match:

* digit patterns (ipv4, digit_run, card_grouped, phone_*, cn_mobile_grouped) only use
  characters of _CLUSTER's class and start with one of [0-9+(], so every match lies in
  a maximal "digit cluster" -> run them on clusters only (pos/endpos);
* ipv6 matches lie in maximal [0-9A-Fa-f:] runs -> run on runs around ':' only;
* keyword / url / e-mail matches start at a known literal ("tel", "://", "@", ...)
  -> anchor the regex there.

Each list is then non-overlapping (leftmost first), like a full ``finditer``.
"""
from __future__ import annotations

import re
from typing import Iterable

from corpus_assets.core.privacy.detectors import Candidates, Span, detect
from corpus_assets.core.privacy.patterns import PATTERNS, RARE_PRECHECK

_RX = {k: re.compile(v) for k, v in PATTERNS.items()}

_CLUSTER = re.compile(r"[0-9+(][0-9 \xa0\-–./()+Xx]{6,}")
DIGIT_PATTERNS = (
    "ipv4", "digit_run", "card_grouped", "phone_intl", "phone_paren", "phone_nanp", "phone_nanp_dot", "phone_fr",
    "phone_national", "cn_mobile_grouped",
)
_KW_STEMS = (
    "tel", "tél", "tlf", "tfn", "fon", "phone", "mob", "handy", "cell", "fax", "whats", "hotline", "rufnummer",
    "pas", "reisepass", "personalausweis", "ausweis", "ssn", "social", "national", "id", "credit", "debit",
    "car", "kreditkarten", "kartennummer", "tarjeta", "тел", "факс",
    *"联电手传座热電携聯公身证护護银信卡銀",
)
_HEXCOLON = frozenset("0123456789abcdefABCDEF:")
OBF_BRACKET = re.compile(RARE_PRECHECK["email_obf"])  # the pre-check the Polars path uses


def _anchored(rx: re.Pattern, text: str, starts: Iterable[int]) -> list[tuple[int, str]]:
    found = []
    end = -1
    for p in sorted(set(starts)):
        if p < end or p < 0:
            continue
        m = rx.match(text, p)
        if m:
            found.append((p, m.group()))
            end = m.end()
    return found


def _find_all(hay: str, needle: str) -> list[int]:
    out = []
    p = hay.find(needle)
    while p >= 0:
        out.append(p)
        p = hay.find(needle, p + 1)
    return out


Found = list[tuple[int, str]]


def _finditer(name: str, text: str, pos: int = 0, endpos: int | None = None) -> Found:
    rx = _RX[name]
    matches = rx.finditer(text, pos) if endpos is None else rx.finditer(text, pos, endpos)
    return [(m.start(), m.group()) for m in matches]


def _urls(text: str) -> Found:
    if "://" not in text and "www." not in text:
        return []
    starts = [p - k for p in _find_all(text, "://") for k in (5, 4, 3)] + _find_all(text, "www.")
    return _anchored(_RX["url"], text, starts + _find_all(text, "WWW."))


def _emails(text: str) -> Found:
    """Around each "@": at most 64 characters before it, 260 after."""
    found: Found = []
    pos = 0
    p = text.find("@")
    while p >= 0:
        m = _RX["email"].search(text, max(pos, p - 64), p + 260)
        if m and m.start() <= p:
            found.append((m.start(), m.group()))
            pos = m.end()
        else:
            pos = p + 1
        p = text.find("@", pos)
    return found


def _keywords(text: str) -> Found:
    low = text.lower()
    if len(low) != len(text):  # rare: lower() changed the length; fall back to a plain scan
        return _finditer("keyword", text)
    return _anchored(_RX["keyword"], text, [p for st in _KW_STEMS for p in _find_all(low, st)])


def _digit_patterns(text: str) -> dict[str, Found]:
    """Each digit pattern on the digit clusters (disjoint and in order: already non-overlapping)."""
    per: dict[str, Found] = {}
    for cm in _CLUSTER.finditer(text):
        for name in DIGIT_PATTERNS:
            found = _finditer(name, text, *cm.span())
            if found:
                per.setdefault(name, []).extend(found)
    return per


def _hex_colon_run(text: str, p: int) -> tuple[int, int]:
    """The maximal run of hex digits and colons around the colon at ``p``."""
    a = p
    while a > 0 and text[a - 1] in _HEXCOLON:
        a -= 1
    b = p
    while b < len(text) and text[b] in _HEXCOLON:
        b += 1
    return a, b


def _ipv6s(text: str) -> Found:
    """ipv6 on the hex/colon runs that contain "::" or >= 7 colons."""
    if "::" not in text and text.count(":") < 7:
        return []
    found: Found = []
    p = text.find(":")
    while p >= 0:
        a, b = _hex_colon_run(text, p)
        run = text[a:b]
        if "::" in run or run.count(":") >= 7:
            found += _finditer("ipv6", text, a, b)
        p = text.find(":", b)
    return found


def python_candidates(text: str) -> Candidates:
    """Candidate (start, match) lists per pattern, found with Python ``re``; equal to
    ``{name: finditer(PATTERNS[name])}`` over the whole text, only cheaper."""
    found: dict[str, Found] = {"url": _urls(text), "email": _emails(text) if "@" in text else []}
    found["email_obf"] = _finditer("email_obf", text) if OBF_BRACKET.search(text) else []
    found["email_words"] = _finditer("email_words", text) if " dot " in text.lower() else []
    if any(c in text for c in "0123456789"):
        found["keyword"] = _keywords(text)
        found.update(_digit_patterns(text))
        found["iban"] = _finditer("iban", text)
        found["ipv6"] = _ipv6s(text)
    return {name: f for name, f in found.items() if f}


def find_pii_oracle(text: str) -> list[Span]:
    """``find_pii`` with the pure-Python candidates."""
    if not text:
        return []
    cands = python_candidates(text)
    if not cands or (len(cands) == 1 and "url" in cands):
        return []
    return detect(text, cands)
