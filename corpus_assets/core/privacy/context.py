"""What surrounds a PII candidate: word boundaries, the words before it, digit groups around it.

The candidate patterns cannot use look-arounds (they also run in Rust), so these checks stand
in for them, in Python, on the few candidates a text has.
"""

from __future__ import annotations

import re

__all__ = [
    "ALNUM", "ASCII_LETTERS", "DIGITS", "BEFORE_DIGITS", "BEFORE_EMAIL", "AFTER_EMAIL", "BEFORE_IPV4", "BEFORE_IPV6",
    "bad_before", "bad_after", "after_digit_group", "arithmetic_sequence", "negative_context", "version_context",
    "ip_context", "dateish", "n_digits", "trim_groups", "digits_only", "long_separator", "continuation",
]

# characters before a candidate that show it is the tail of a longer token (what a look-behind would forbid)
ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
DIGITS = frozenset("0123456789")
BEFORE_DIGITS = ALNUM | frozenset("+-/.,")
BEFORE_EMAIL = ALNUM | frozenset(".%+-")
AFTER_EMAIL = ALNUM | {"-", "@"}
BEFORE_IPV4 = ALNUM | {".", "-", "+", "~"}  # not "/" or ":": IPs in URLs are masked
BEFORE_IPV6 = ALNUM | {":", ".", "-"}

_VERSION_BEFORE = re.compile(
    r"(?i)(?:\bv|\bver\.?|version|versión|versao|release|build|rev\.?|revision|firmware|kernel|update"
    r"|patch|android|ios|windows|chrome|firefox|safari|§|section|sect\.?|abschnitt|kapitel|chapter|sección"
    r"|版本|バージョン|节|節|第)\s*[:：]?\s*$"
)
_IP_CONTEXT = re.compile(
    r"(?i)\bip(?:v4|v6|-?adress[e]?|\s*address)?\b|address|adresse|\bserver|nameserver|\bdns\b|\bhost\b|\bping\b"
    r"|gateway|resolver|地址|ＩＰ"
)
_DATEISH = re.compile(
    r"(?<![0-9])(?:0?[1-9]|1[0-2])[./\-](?:19|20)[0-9]{2}(?![0-9])|(?:19|20)[0-9]{2}[./\-](?:0?[1-9]|1[0-2])(?![0-9])"
)
_NEG_CONTEXT = re.compile(
    r"(?i)(?:isbn(?:-1[03])?|issn|doi|pmid|arxiv|order|bestell\w*|auftrag\w*|rechnung\w*|invoice|sku|ean|gtin|upc"
    r"|art(?:ikel)?\.?\s*-?nr|tracking|sendungs\w*|ticket|case|ref(?:erence)?|az\.?|aktenzeichen|订单号?|单号|编号|"
    r"#)\W{0,4}(?:no\.?|nr\.?|number|nummer)?\W{0,3}$"
)
_CONTINUATION = re.compile(r"(?:[ \xa0]{1,3}|[ \xa0]?[,/;][ \xa0]?)([0-9]{6,8})(?![0-9A-Za-z_]|[.,\-/][0-9])")
_NON_DIGIT = re.compile(r"[^0-9]")
_LONG_SEP = re.compile(r"[^0-9]{5,}")


def bad_before(text: str, s: int, bad: frozenset[str]) -> bool:
    """The character before position ``s`` is in ``bad``."""
    return s > 0 and text[s - 1] in bad


def bad_after(text: str, e: int, *, seps: str = "") -> bool:
    """True if the candidate ending at ``e`` continues as a word, or (for each char in
    ``seps``) continues as ``<sep><digit>``."""
    if e >= len(text):
        return False
    c = text[e]
    if c in ALNUM:
        return True
    return bool(seps) and c in seps and e + 1 < len(text) and text[e + 1] in DIGITS


def after_digit_group(text: str, s: int) -> bool:
    """Candidate directly follows another digit group ("1234 0301 234567"); the UK
    text-relay prefixes "18001 " / "18002 " do not count."""
    if not (s >= 2 and text[s - 1] in " \xa0" and text[s - 2] in DIGITS):
        return False
    j = s - 2
    while j > 0 and text[j - 1] in DIGITS:
        j -= 1
    return text[j : s - 1] not in ("18001", "18002")


def arithmetic_sequence(m: str) -> bool:
    """The groups after the first of a French-style number are evenly spaced ("05 10 15 20 25")."""
    pairs = [int(x) for x in re.split(r"[ .]", m)[1:]]
    return len({b - a for a, b in zip(pairs, pairs[1:])}) == 1


def negative_context(text: str, s: int) -> bool:
    """The 30 characters before ``s`` end in an order / ISBN / DOI / reference / ``#`` word."""
    return bool(_NEG_CONTEXT.search(text, max(0, s - 30), s))


def version_context(before: str) -> bool:
    """``before`` ends in a version or section word ("version", "v", "§", "Kapitel", "版本")."""
    return bool(_VERSION_BEFORE.search(before))


def ip_context(before: str) -> bool:
    """``before`` mentions IPs, addresses, servers, DNS, hosts, ping or gateways."""
    return bool(_IP_CONTEXT.search(before))


def dateish(s: str) -> bool:
    """``s`` contains a month/year or year/month ("01/2020", "2015-12")."""
    return bool(_DATEISH.search(s))


def n_digits(s: str) -> int:
    return sum(c in DIGITS for c in s)


def digits_only(s: str) -> str:
    return _NON_DIGIT.sub("", s)


def long_separator(s: str) -> bool:
    """``s`` has a run of five or more non-digits (text between two numbers, not a separator)."""
    return bool(_LONG_SEP.search(s))


def trim_groups(cand: str, max_digits: int) -> str:
    """Drop trailing whitespace-separated groups until at most ``max_digits`` digits."""
    while n_digits(cand) > max_digits:
        cut = max(cand.rfind(" "), cand.rfind("\xa0"))
        if cut <= 0:
            return ""
        cand = cand[:cut].rstrip(" \xa0-–/.(")
    return cand


def continuation(text: str, e: int) -> tuple[int, int] | None:
    """Span of a 6-8 digit local number right after position ``e`` (after a space, ``,``, ``/`` or ``;``)."""
    m = _CONTINUATION.match(text, e)
    return m.span(1) if m else None
