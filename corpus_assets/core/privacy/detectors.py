"""Which PII candidates are personal data: one rule per kind, applied in a fixed priority order.

:func:`detect` takes the candidates of one text (``{pattern name: [(start, match), ...]}``, see
:mod:`.patterns`) and returns the accepted spans. Rules run in this order and an earlier span
wins an overlap: e-mails, keyword-anchored numbers, IBANs, Chinese resident IDs, payment cards,
IPv4 / IPv6 addresses, then the phone shapes (international, parenthesised area code, NANP /
French, national trunk-0, Chinese mobiles). Only e-mails and IPs are masked inside URLs: numbers
in URLs are mostly post / product ids, and masking them would break the URL.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable

from corpus_assets.core.privacy.context import (
    AFTER_EMAIL,
    ALNUM,
    ASCII_LETTERS,
    BEFORE_DIGITS,
    BEFORE_EMAIL,
    BEFORE_IPV4,
    BEFORE_IPV6,
    DIGITS,
    after_digit_group,
    arithmetic_sequence,
    bad_after,
    bad_before,
    continuation,
    dateish,
    digits_only,
    ip_context,
    long_separator,
    n_digits,
    negative_context,
    trim_groups,
    version_context,
)
from corpus_assets.core.privacy.patterns import KEYWORD_PARTS
from corpus_assets.core.privacy.validators import card_prefix_ok, cn_id_valid, iban_valid, low_entropy, luhn_valid

__all__ = ["Candidates", "Span", "detect"]

Candidates = dict[str, list[tuple[int, str]]]
Span = tuple[int, int, str]
Found = Iterable[tuple[int, str]]
DigitRun = tuple[int, int, str]

_NOT_TLDS = frozenset(
    "png jpg jpeg gif svg webp bmp ico tif tiff js mjs css scss map html htm php asp aspx "
    "json xml txt md pdf gz tgz bz2 xz zip rar mp3 mp4 m4a wav ogg webm woff woff2 ttf eot "
    "py rb java go rs ts tsx jsx vue so dll exe lock yaml yml toml ini cfg conf".split()
)
_EMAIL_SERVICE_LOCALS = frozenset({"git"})  # git@github.com:org/repo is not a person
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_INTL_00 = re.compile(r"00[1-9][0-9]{0,3}[ \xa0\-–/.(]")  # 00 + country code + a separator
_BEFORE_PAREN_PHONE = BEFORE_DIGITS | {"("}
_BEFORE_TRUNK_PHONE = BEFORE_DIGITS | {":"}
_FIXED_FORMAT_PHONES = (("phone_nanp", "-.,/"), ("phone_nanp_dot", "-.,/"), ("phone_fr", " .,:"))


class _Spans:
    """Accepted spans of one text; small per document, so linear overlap checks are fine."""

    __slots__ = ("text", "spans", "urls")

    def __init__(self, text: str, urls: list[tuple[int, int]]):
        self.text = text
        self.spans: list[Span] = []
        self.urls = urls

    def add(self, s: int, e: int, typ: str, *, inside_urls: bool = False) -> bool:
        """Accept ``[s, e)`` unless it overlaps an accepted span or (unless ``inside_urls``) a URL."""
        for a, b, _ in self.spans:
            if s < b and a < e:
                return False
        if not inside_urls:
            for a, b in self.urls:
                if s < b and a < e:
                    return False
        self.spans.append((s, e, typ))
        return True

    def add_phone(self, s: int, e: int) -> None:
        """Accept a phone span and a directly following local number as long as its last digit
        group ("电话：021-54098575 54098577", "Tel. 0221 123456 / 123457")."""
        if not self.add(s, e, "phone"):
            return
        last = 0
        i = e - 1
        while i >= s and self.text[i] in DIGITS:
            last += 1
            i -= 1
        nxt = continuation(self.text, e)
        if nxt and nxt[1] - nxt[0] == last:
            self.add(nxt[0], nxt[1], "phone")


# --------------------------------------------------------------------------- e-mail


def _email(text: str, s: int, m: str) -> tuple[int, int] | None:
    """A plain address ``local@domain.tld`` (also in URLs, ``mailto:``). Rejects a match cut out
    of a longer token (followed by a word character, ``-`` or ``@``), asset names whose "TLD" is
    a file extension (``logo@2x.png``) and service accounts (``git@github.com:org/repo``). The
    start moves back over local-part characters the pattern did not take (it may start after a
    ``-``), so no part of the address stays visible."""
    e = s + len(m)
    if e < len(text) and text[e] in AFTER_EMAIL:
        return None
    while s > 0 and text[s - 1] in BEFORE_EMAIL:
        s -= 1
    local, _, domain = text[s:e].partition("@")
    if domain.rsplit(".", 1)[-1].lower() in _NOT_TLDS or local.lower() in _EMAIL_SERVICE_LOCALS:
        return None
    return s, e


def _obfuscated_email(text: str, s: int, m: str) -> bool:
    """``name [at] domain [dot] com``, ``name(at)domain.de``, ``name at domain dot org``. Rejects a
    match glued to a longer word or hyphenated token on either side."""
    e = s + len(m)
    return not (bad_before(text, s, BEFORE_EMAIL) or bad_after(text, e) or (e < len(text) and text[e] == "-"))


def _add_emails(text: str, cands: Candidates, spans: _Spans) -> None:
    for s, m in cands.get("email", ()):
        span = _email(text, s, m)
        if span:
            spans.add(span[0], span[1], "email", inside_urls=True)
    for name in ("email_obf", "email_words"):
        for s, m in cands.get(name, ()):
            if _obfuscated_email(text, s, m):
                spans.add(s, s + len(m), "email", inside_urls=True)


# --------------------------------------------------------------------------- keyword-anchored numbers


def _keyword_type(km: re.Match[str]) -> tuple[str, int, int]:
    """(type, fewest digits, most digits) that the anchoring keyword allows."""
    if km.group("phone") or km.group("phone_cjk"):
        return "phone", 6, 15
    if km.group("id") or km.group("id_cjk"):
        return "id_number", 6, 20
    return "card", 12, 19


def _keyword_number(text: str, s: int, m: str) -> Span | None:
    """A number after a PII keyword ("Tel.:", "Fax", "电话", "身份证号", "passport no.", "SSN",
    "卡号") is of the keyword's type without any checksum, if it has 6-15 digits for phones (groups
    beyond 15 digits dropped), 6-20 for ID numbers, 12-19 for cards. Rejects an ASCII keyword that
    ends a longer word ("Hotel 123456789") and a phone-keyword number containing a month/year
    ("Tel 01/2020") unless it starts like a phone number (``+``, ``0``, ``(``)."""
    if m[0] in ASCII_LETTERS and bad_before(text, s, ASCII_LETTERS):
        return None
    km = KEYWORD_PARTS.match(m)
    if km is None:
        return None
    typ, fewest, most = _keyword_type(km)
    num = km.group("num").rstrip(" \xa0-–./(")
    if typ == "phone":
        num = trim_groups(num, 15)
    if not num or not fewest <= n_digits(num) <= most:
        return None
    if typ == "phone" and dateish(num) and not num.lstrip().startswith(("+", "0", "(")):
        return None
    start = s + km.start("num")
    return start, start + len(num), typ


def _add_keyword_numbers(text: str, found: Found, spans: _Spans) -> None:
    for s, m in found:
        span = _keyword_number(text, s, m)
        if span is None:
            continue
        if span[2] == "phone":
            spans.add_phone(span[0], span[1])
        else:
            spans.add(*span)


# --------------------------------------------------------------------------- IBAN, Chinese ID, cards


def _iban(text: str, s: int, m: str) -> bool:
    """An IBAN (ISO 13616 MOD 97-10 verified) that is not glued to a word on either side; it is
    masked as ``card`` (an account number is as sensitive as a card number)."""
    return not (bad_before(text, s, ALNUM) or bad_after(text, s + len(m))) and iban_valid(m)


def _add_chinese_ids(text: str, found: Found, spans: _Spans) -> list[DigitRun]:
    """Chinese resident IDs among the digit runs: 18 characters, a real birth date and the
    MOD 11-2 check character (GB 11643-1999). Runs that are part of a longer token or of a
    decimal / dashed / slashed number are skipped. Returns the other runs without a final
    ``X``: the candidates for cards and Chinese mobiles."""
    rest: list[DigitRun] = []
    for s, m in found:
        e = s + len(m)
        if bad_before(text, s, BEFORE_DIGITS) or bad_after(text, e, seps=".,-/"):
            continue
        if len(m) == 18 and cn_id_valid(m):
            spans.add(s, e, "id_number")
        elif m[-1] not in "Xx":
            rest.append((s, e, m))
    return rest


def _card(text: str, s: int, m: str) -> bool:
    """A payment card number: 13-19 digits, not filler ("0000 0000 0000 0000"), a known issuer
    prefix with a matching length, a valid Luhn checksum, and no order / ISBN / reference word
    before it (order numbers are Luhn-valid by chance one time in ten)."""
    d = digits_only(m)
    if not 13 <= len(d) <= 19 or low_entropy(d):
        return False
    return card_prefix_ok(d) and luhn_valid(d) and not negative_context(text, s)


def _add_cards(text: str, grouped: Found, runs: list[DigitRun], spans: _Spans) -> None:
    """Grouped numbers ("4111 1111 1111 1111", "3782 822463 10005") that do not continue a longer
    number, then the plain digit runs."""
    cands = [
        (s, s + len(m), m)
        for s, m in grouped
        if not bad_before(text, s, BEFORE_DIGITS) and not bad_after(text, s + len(m), seps=" -.,")
    ]
    for s, e, m in cands + runs:
        if _card(text, s, m):
            spans.add(s, e, "card")


# --------------------------------------------------------------------------- IP addresses


def _public_ipv4(m: str) -> bool:
    try:
        ip = ipaddress.IPv4Address(m)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def _ipv4(text: str, s: int, m: str) -> bool:
    """A public IPv4 address (also in URLs). Rejects: part of a longer dotted or word token;
    Debian-style versions ("1.2.3.4-1", "1.2.3.4+dfsg"); private, reserved, documentation and
    multicast addresses; a version or section word before it ("version 1.2.3.4", "§ 1.2.3.4"); a
    heading number at a line start ("12.4.1.1. Title"); four octets all below 32 without an
    IP-ish word before it ("3.2.1.1", "1.1.1.1")."""
    e = s + len(m)
    if bad_before(text, s, BEFORE_IPV4) or bad_after(text, e, seps="."):
        return False
    if e + 1 < len(text) and text[e] in "-+~" and text[e + 1] in ALNUM:
        return False
    if not _public_ipv4(m):
        return False
    before = text[max(0, s - 40) : s]
    if version_context(before):
        return False
    if (s == 0 or text[s - 1] == "\n") and text[e : e + 1] == ".":
        return False
    return max(int(o) for o in m.split(".")) >= 32 or ip_context(before)


def _ipv6(text: str, s: int, m: str) -> bool:
    """A global unicast IPv6 address (in 2000::/3, not multicast) written with ``::`` or all eight
    groups. Rejects part of a longer hex / colon / dotted token; times ("12:30:45"), MAC addresses
    and ``std::vector`` fail the shape or the address parse."""
    e = s + len(m)
    if "::" not in m and m.count(":") != 7:
        return False
    if bad_before(text, s, BEFORE_IPV6) or bad_after(text, e) or (e < len(text) and text[e] in ":-"):
        return False
    try:
        ip = ipaddress.IPv6Address(m)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast and ip in _GLOBAL_UNICAST


def _add_ips(text: str, cands: Candidates, spans: _Spans) -> None:
    for name, accept in (("ipv4", _ipv4), ("ipv6", _ipv6)):
        for s, m in cands.get(name, ()):
            if accept(text, s, m):
                spans.add(s, s + len(m), "ip", inside_urls=True)


# --------------------------------------------------------------------------- phone numbers


def _international_phone(text: str, s: int, m: str) -> tuple[int, int] | None:
    """``+CC ...`` or ``00CC ...`` with 8-15 digits (a "(0)" trunk mark not counted; groups beyond
    15 digits dropped). Rejects: part of a longer token; ``00`` numbers without a separator after
    the country code ("0049301234567", "000123...") or following another digit group (inside an
    IBAN); text between the groups; unbalanced parentheses; filler digits. The start moves back
    over a "(" that encloses the prefix ("(+56 2) 2707 7777")."""
    if bad_before(text, s, BEFORE_DIGITS) or bad_after(text, s + len(m), seps=".,"):
        return None
    if m.startswith("00") and (not _INTL_00.match(m) or after_digit_group(text, s)):
        return None
    cand = trim_groups(m.rstrip(" \xa0-–./("), 15)
    digits = digits_only(cand.replace("(0)", ""))
    if not 8 <= len(digits) <= 15 or long_separator(cand):
        return None
    if cand.count(")") == cand.count("(") + 1 and s > 0 and text[s - 1] == "(":
        s, cand = s - 1, "(" + cand
    if cand.count("(") != cand.count(")") or low_entropy(digits[2:]):
        return None
    return s, s + len(cand)


def _parenthesised_phone(text: str, s: int, m: str) -> tuple[int, int] | None:
    """An area code in parentheses ("(030) 123 4567", "1 (555) 123-4567") with 7-13 digits in all
    (groups beyond 13 digits dropped). Rejects part of a longer token or parenthesis."""
    if bad_before(text, s, _BEFORE_PAREN_PHONE) or bad_after(text, s + len(m), seps=".,"):
        return None
    cand = trim_groups(m, 13)
    return (s, s + len(cand)) if 7 <= n_digits(cand) <= 13 else None


def _fixed_format_phone(text: str, s: int, m: str, name: str, seps: str) -> bool:
    """NANP ``555-123-4567`` / ``555.123.4567`` and French ``01 23 45 67 89``. Rejects part of a
    longer number, an order / reference word before it, and for the French shape an evenly
    spaced sequence ("05 10 15 20 25") or the tail of a longer digit sequence."""
    if bad_before(text, s, BEFORE_DIGITS) or bad_after(text, s + len(m), seps=seps):
        return False
    if name == "phone_fr" and (arithmetic_sequence(m) or after_digit_group(text, s)):
        return False
    return not negative_context(text, s)


def _trunk_phone(text: str, s: int, m: str) -> tuple[int, int] | None:
    """A national number with a trunk 0 and a separator after the area code ("030 1234567",
    "021-54098575", "0800 138 1018") and 9-14 digits (groups beyond 14 digits dropped). Rejects
    part of a longer token (also after ``:``), the tail of a longer digit sequence ("DE89 3704
    0044 ..."), a month/year inside ("01/2020 - 12/2021") and an order / reference word before it."""
    if bad_before(text, s, _BEFORE_TRUNK_PHONE) or bad_after(text, s + len(m), seps=".,:"):
        return None
    if after_digit_group(text, s):
        return None
    cand = trim_groups(m, 14)
    if n_digits(cand) < 9 or dateish(cand) or negative_context(text, s):
        return None
    return s, s + len(cand)


def _add_chinese_mobiles(text: str, runs: list[DigitRun], grouped: Found, spans: _Spans) -> None:
    """11-digit Chinese mobiles ``1[3-9]x xxxx xxxx``, plain (from the digit runs) or grouped 3-4-4,
    masked without a keyword. Rejects part of a longer number, filler (at most two distinct
    digits after the prefix) and numbers after an order / ISBN / ``#`` word ("Bestellnummer:
    13812345678")."""
    mobiles = [(s, e, m) for s, e, m in runs if len(m) == 11 and m[0] == "1" and m[1] in "3456789"]
    mobiles += [
        (s, s + len(m), m)
        for s, m in grouped
        if not bad_before(text, s, BEFORE_DIGITS) and not bad_after(text, s + len(m), seps=" .,-/")
    ]
    for s, e, m in mobiles:
        if len(set(digits_only(m)[3:])) > 2 and not negative_context(text, s):
            spans.add(s, e, "phone")


def _add_phones(text: str, cands: Candidates, runs: list[DigitRun], spans: _Spans) -> None:
    for name, accept in (("phone_intl", _international_phone), ("phone_paren", _parenthesised_phone)):
        for s, m in cands.get(name, ()):
            span = accept(text, s, m)
            if span:
                spans.add_phone(span[0], span[1])
    for name, seps in _FIXED_FORMAT_PHONES:
        for s, m in cands.get(name, ()):
            if _fixed_format_phone(text, s, m, name, seps):
                spans.add(s, s + len(m), "phone")
    for s, m in cands.get("phone_national", ()):
        span = _trunk_phone(text, s, m)
        if span:
            spans.add_phone(span[0], span[1])
    _add_chinese_mobiles(text, runs, cands.get("cn_mobile_grouped", ()), spans)


# --------------------------------------------------------------------------- all rules


def detect(text: str, cands: Candidates) -> list[Span]:
    """Accepted, non-overlapping ``(start, end, type)`` spans of ``text``, sorted by start (see the
    module docstring for the rule order)."""
    spans = _Spans(text, [(s, s + len(u)) for s, u in cands.get("url", ())])
    _add_emails(text, cands, spans)
    _add_keyword_numbers(text, cands.get("keyword", ()), spans)
    for s, m in cands.get("iban", ()):
        if _iban(text, s, m):
            spans.add(s, s + len(m), "card")
    runs = _add_chinese_ids(text, cands.get("digit_run", ()), spans)
    _add_cards(text, cands.get("card_grouped", ()), runs, spans)
    _add_ips(text, cands, spans)
    _add_phones(text, cands, runs, spans)
    return sorted(spans.spans)
