"""PII masking for web text (pure Python + Polars, no Dagster).

``mask_pii(text)`` replaces personal data with typed placeholders and returns
per-type counts; ``mask_pii_column(df)`` does the same for a Polars column.

Types and placeholders (``PII_TYPES`` order):

============  ===============  ==========================================================
type          placeholder      what is detected
============  ===============  ==========================================================
email         ``<EMAIL>``      RFC-ish addresses; obfuscated ``name [at] domain [dot] com``,
                               ``name(at)domain.de``, ``name AT domain DOT com``
phone         ``<PHONE>``      ``+CC ...`` (E.164, 8-15 digits), ``00CC ...``, ``(030) 123 4567``,
                               NANP ``555-123-4567``, national trunk-0 numbers with a separator
                               after the area code (``030 1234567``, ``021-54098575``,
                               ``0800 138 1018``), French ``01 23 45 67 89``, Chinese mobiles
                               ``1[3-9]\\d{9}`` (optionally 3-4-4 grouped), and any number
                               after a phone keyword (Tel., Telefon, Fax, phone, 电话, 手机 ...)
ip            ``<IP>``         public (``ipaddress`` ``is_global``) IPv4 / IPv6 addresses
id_number     ``<ID_NUMBER>``  Chinese resident ID (18 digits, valid birth date, ISO 7064
                               MOD 11-2 check digit); any number after an ID keyword
                               (身份证号, 护照, passport, SSN, social security number ...)
card          ``<CARD>``       payment card numbers (13-19 digits, grouped by single spaces
                               or dashes or ungrouped, known IIN prefix, Luhn verified),
                               IBANs (ISO 13616 MOD 97-10 verified), any number after a
                               card keyword (卡号, 银行卡, credit card number ...)
============  ===============  ==========================================================

Precision rules (things that must survive):

* dates, times, prices, years, postal codes, plain numbers: no detector accepts them
  (phone detectors need a ``+``/``00`` prefix, a parenthesised area code, a trunk ``0``
  area code followed by a separator and >= 9 digits in total, or a keyword; date-shaped
  candidates such as ``01/2020 - 12/2021`` are rejected);
* version numbers (``1.2.3``, ``10.0.19041.1``, ``v10.0.0.1``, ``version 1.2.3.4``, Debian
  ``2.36-9+deb12u4``) and section numbers (``12.4.1.1.`` headings) are not IPs: dotted quads
  that continue with ``.digit``/``-``/``+``/``~``, that follow a version word, that start a
  heading line, or whose four octets are all < 32 without an IP-ish keyword nearby
  ("IP", "address", "server", "nameserver", "DNS", "host", "ping", ...) are skipped;
* ISBNs (``978-3-16-148410-0``, ``ISBN 0-306-40615-2``, ``ISBN: 9783161590412``), DOIs, SKUs,
  order / invoice numbers: candidates that follow "ISBN", "ISSN", "DOI", "order",
  "Bestell", "Rechnung", "订单", "#", ... are skipped, and payment cards must pass Luhn
  *and* carry a known IIN prefix;
* **numbers inside URLs are not masked** as phone / card / ID (decision): URLs are full of
  numeric post / product / tweet ids that are Luhn- or mobile-shaped by chance and a
  personal phone number inside a URL is rare; masking would also break the URL.  E-mails
  and IPs inside URLs *are* masked (``mailto:joe@x.org``, ``http://93.184.216.34/``).
* Cloudflare's ``[email protected]`` stubs are left as they are; so are ``git@host:repo``
  remotes and ``name@2x.png``-style asset names (file-extension "TLDs").
* IBANs are masked as ``<CARD>`` (a bank account number is as sensitive as a card
  number; ``PII_TYPES`` stays at the five required types).
* A local number directly following a detected phone number with the same length as
  its last group ("电话：021-54098575 54098577") is masked too.
* 11-digit Chinese-mobile-shaped numbers are masked even without a keyword unless an
  order/ISBN/#-style word precedes them (``Bestellnummer: 13812345678`` survives).

Performance (sample crawl, 1 860 real pages, 6.7 kB mean, 2-core VM):
``mask_pii_column`` ~0.12-0.15 ms/doc (candidate patterns run vectorised in Rust via
Polars, Python only validates candidates), ``mask_pii`` ~0.6 ms/doc (pure Python ``re``
on digit clusters / literal anchors).  Both give identical output (tested).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Iterable

import polars as pl

__all__ = [
    "PII_TYPES",
    "PLACEHOLDERS",
    "find_pii",
    "mask_pii",
    "mask_pii_column",
    "luhn_valid",
    "cn_id_valid",
    "iban_valid",
    "PATTERNS",
]

PII_TYPES: tuple[str, ...] = ("email", "phone", "ip", "id_number", "card")
PLACEHOLDERS: dict[str, str] = {t: f"<{t.upper()}>" for t in PII_TYPES}

# --------------------------------------------------------------------------- validators


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"


def cn_id_valid(s: str, *, today: date | None = None) -> bool:
    """Chinese resident identity number (GB 11643-1999): 18 chars, province code,
    valid birth date YYYYMMDD (1900..today), ISO 7064 MOD 11-2 check character."""
    if len(s) != 18 or not s[:17].isdigit():
        return False
    if s[0] not in "12345678":
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > (today or date.today()):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == s[17].upper()


def iban_valid(s: str) -> bool:
    """ISO 13616 IBAN check (spaces ignored): 15-34 chars, MOD 97-10 == 1."""
    s = s.replace(" ", "").upper()
    if not (15 <= len(s) <= 34) or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in rearranged)
    return int(num) % 97 == 1


def _card_prefix_ok(d: str) -> bool:
    """Known issuer prefixes (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay,
    Maestro, Mir) with plausible lengths."""
    n = len(d)
    if d[0] == "4":
        return n in (13, 16, 19)
    p2 = int(d[:2])
    if 51 <= p2 <= 55 or 2221 <= int(d[:4]) <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p2 in (36, 38, 39) or 300 <= int(d[:3]) <= 305:
        return 14 <= n <= 19
    if p2 == 35:
        return 16 <= n <= 19
    if p2 in (60, 62, 64, 65, 50, 56, 57, 58, 63, 67, 68, 69):
        return 16 <= n <= 19 if p2 in (60, 62, 64, 65) else 12 <= n <= 19
    if d.startswith("220"):  # Mir
        return 16 <= n <= 19
    return False


def _low_entropy(d: str) -> bool:
    """All one digit, or a run of consecutive digits ("0000000000000", "123456789012")."""
    return len(set(d)) <= 1 or d in "01234567890123456789012345678901" or d in "98765432109876543210987654321098"


# --------------------------------------------------------------------------- patterns
# Every candidate pattern is written in the syntax subset shared by Python ``re`` and
# the Rust ``regex`` crate used by Polars (no look-arounds, no back-references, ASCII
# ``[0-9]`` rather than ``\d``), so the pure-Python path (``mask_pii``) and the
# vectorised path (``mask_pii_column``: Polars ``str.extract_all``) produce the very
# same candidates.  Both engines are leftmost-first, so a match string found by Polars
# is located in the Python string with a sequential ``str.find``.  Boundary and
# context checks that would need look-arounds are done in Python on the candidates.

_HEX = "[0-9A-Fa-f]"
_COMMON_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|co|us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|"
    "pl|cz|ru|cn|jp|kr|in|au|ca|br|mx|ar|eu"
)
_PHONE_KW = (
    r"t[eé]l(?:ephone|efon|éfono|efono|éphone|efax|f)?|tlf|tfn|fon|phone|mobile?|mob|handy|cell(?:phone)?"
    r"|fax|whats[ -]?app|hotline|telefonnummer|rufnummer|phone\s+number|mobile\s+number"
    r"|тел(?:ефон)?|факс"
)
_PHONE_KW_CJK = r"联系电话|电话号码|电话|手机号码|手机号|手机|传真|座机|热线|電話|携帯|聯絡電話|手機"
_ID_KW = (
    r"passport(?:\s+(?:no|number|nr|num))?|reisepass(?:nummer)?|personalausweis(?:nummer)?"
    r"|ausweisnummer|ssn|social\s+security(?:\s+(?:no|number|num|nr))?|national\s+insurance(?:\s+number)?"
    r"|id\s+card(?:\s+(?:no|number))?|passeport|pasaporte"
)
_ID_KW_CJK = r"公民身份号码|身份证号码|身份证号|身份证|身分證字號|身分證|证件号码|证件号|护照号码|护照号|护照|護照"
_CARD_KW = (
    r"credit\s+card(?:\s+(?:no|number|num|nr))?|debit\s+card(?:\s+(?:no|number))?|card\s+(?:no|number|num)"
    r"|kreditkarten(?:nummer|nr)|kartennummer|carte\s+bancaire|tarjeta"
)
_CARD_KW_CJK = r"银行卡号|银行卡|信用卡号|信用卡|卡号|銀行卡|信用卡號"
_KW_GAP = (
    r"[^\S\n]*\.?[^\S\n]*[:：#=]?[^\S\n]*"
    r"(?:(?:no|nr|number|nummer|num|unter|under|at|is|ist|:|号码|号|為|为|是)\.?[^\S\n]*[:：#]?[^\S\n]*){0,2}"
    r"(?:\n[^\S\n]*)?"
)
_KW_NUMBER = r"(?:\+|00)?[^\S\n]?\(?[A-Za-z]{0,2}[^\S\n]?[0-9][0-9 \xa0\-–./()]{3,26}[0-9Xx]"
_IBAN_COUNTRIES = "|".join(
    "AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL GR GT HR "
    "HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO OM PK PL PS PT QA RO "
    "RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE".split()
)
_KW_ALL = "|".join((_PHONE_KW, _PHONE_KW_CJK, _ID_KW, _ID_KW_CJK, _CARD_KW, _CARD_KW_CJK))

#: candidate patterns (name -> engine-neutral regex), in detection-priority order
PATTERNS: dict[str, str] = {
    "url": r"(?i)(?:https?|ftp)://[^\s<>\"'\u3000-\u303f\uff08\uff09\uff0c]+|www\.[^\s<>\"'\u3000-\u303f\uff08\uff09\uff0c]+",
    "email": (
        r"[A-Za-z0-9_][A-Za-z0-9._%+\-_]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    ),
    "email_obf": (
        r"(?i)[a-z0-9][a-z0-9._%+\-]{0,63}\s*[\[\(\{<]\s*(?:at|ät|@)\s*[\]\)\}>]\s*"
        r"(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\s*[\[\(\{<]\s*(?:dot|punkt|point|\.)\s*[\]\)\}>]\s*|\.))+"
        r"[a-z]{2,24}"
    ),
    "email_words": (
        r"(?i)[a-z0-9][a-z0-9._%+\-]{0,63} +at +(?:[a-z0-9\-]+ +dot +)+(?:" + _COMMON_TLDS + r")"
    ),
    "keyword": r"(?i)(?:" + _KW_ALL + r")" + _KW_GAP + _KW_NUMBER,
    "iban": r"(?:" + _IBAN_COUNTRIES + r")[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?",
    "digit_run": r"[0-9]{11,19}[Xx]?",
    "card_grouped": (
        r"[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{1,4}(?: [0-9]{1,3})?|[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{1,4}(?:-[0-9]{1,3})?"
        r"|[0-9]{4} [0-9]{6} [0-9]{4,5}|[0-9]{4}-[0-9]{6}-[0-9]{4,5}"
    ),
    "ipv4": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    "ipv6": _HEX + r"{0,4}(?::" + _HEX + r"{0,4}){2,7}",
    "phone_intl": r"(?:\+[ \xa0]?|00)[1-9][0-9 \xa0\-–./()]{5,30}[0-9]",
    "phone_paren": r"(?:1[ \-.]?)?\([0-9]{2,5}\)[ \xa0]?[0-9][0-9 \xa0\-–/]{3,16}[0-9]",
    "phone_nanp": r"(?:1-)?[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4}",
    "phone_nanp_dot": r"(?:1\.)?[2-9][0-9]{2}\.[2-9][0-9]{2}\.[0-9]{4}",
    "phone_fr": r"0[1-9] [0-9]{2} [0-9]{2} [0-9]{2} [0-9]{2}|0[1-9]\.[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{2}",
    "phone_national": (
        r"0[1-9](?:[0-9]{1,3}(?:[ \xa0]?[/\-–][ \xa0]?|[ \xa0])|[\-/])[0-9]{2,}"
        r"(?:(?:[ \xa0]?[\-–/][ \xa0]?|[ \xa0])[0-9]+)*"
    ),
    "cn_mobile_grouped": r"1[3-9][0-9] [0-9]{4} [0-9]{4}|1[3-9][0-9]-[0-9]{4}-[0-9]{4}",
}

_RX = {k: re.compile(v) for k, v in PATTERNS.items()}

# Python-only helpers, applied to candidates (small strings / short windows) ----------
_KEYWORD_PY = re.compile(
    r"(?i)(?:(?P<phone>" + _PHONE_KW + r")(?![A-Za-z])|(?P<phone_cjk>" + _PHONE_KW_CJK + r")"
    r"|(?P<id>" + _ID_KW + r")(?![A-Za-z])|(?P<id_cjk>" + _ID_KW_CJK + r")"
    r"|(?P<card>" + _CARD_KW + r")(?![A-Za-z])|(?P<card_cjk>" + _CARD_KW_CJK + r"))"
    + _KW_GAP + r"(?P<num>" + _KW_NUMBER + r")"
)
_NOT_TLDS = frozenset(
    "png jpg jpeg gif svg webp bmp ico tif tiff js mjs css scss map html htm php asp aspx "
    "json xml txt md pdf gz tgz bz2 xz zip rar mp3 mp4 m4a wav ogg webm woff woff2 ttf eot "
    "py rb java go rs ts tsx jsx vue so dll exe lock yaml yml toml ini cfg conf".split()
)
_EMAIL_SERVICE_LOCALS = frozenset({"git"})  # git@github.com:org/repo is not a person
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\bv|\bver\.?|version|versión|versao|release|build|rev\.?|revision|firmware|kernel|update"
    r"|patch|android|ios|windows|chrome|firefox|safari|§|section|sect\.?|abschnitt|kapitel|chapter|sección"
    r"|版本|バージョン|节|節|第)\s*[:：]?\s*$"
)
_IP_CONTEXT = re.compile(
    r"(?i)\bip(?:v4|v6|-?adress[e]?|\s*address)?\b|address|adresse|\bserver|nameserver|\bdns\b|\bhost\b|\bping\b"
    r"|gateway|resolver|地址|ＩＰ"
)
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
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

# "before" characters that disqualify a candidate (what a look-behind would forbid)
_BEFORE_DIGITS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/.,")
_BEFORE_EMAIL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-_")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DIGITSET = frozenset("0123456789")
_AFTER_EMAIL = _ALNUM | {"-", "@"}
_BEFORE_IPV4 = _ALNUM | {".", "-", "+", "~"}  # not "/" or ":": IPs in URLs are masked


def _bad_before(text: str, s: int, bad: frozenset[str]) -> bool:
    return s > 0 and text[s - 1] in bad


def _bad_after(text: str, e: int, *, seps: str = "") -> bool:
    """True if the candidate ending at ``e`` continues as a word, or (for each char in
    ``seps``) continues as ``<sep><digit>``."""
    if e >= len(text):
        return False
    c = text[e]
    if c in _ALNUM:
        return True
    return bool(seps) and c in seps and e + 1 < len(text) and text[e + 1] in _DIGITSET


# --------------------------------------------------------------------------- detection

Candidates = dict[str, list[tuple[int, str]]]


# Python path: the same patterns, but only run where they can match ------------------
# * digit patterns (ipv4, digit_run, card_grouped, phone_*, cn_mobile_grouped) only use
#   characters of _CLUSTER's class and start with one of [0-9+(], so every match lies in
#   a maximal "digit cluster" -> run them on clusters only (pos/endpos);
# * ipv6 matches lie in maximal [0-9A-Fa-f:] runs -> run on runs around ':' only;
# * keyword / url / e-mail matches start at a known literal ("tel", "://", "@", ...)
#   -> anchor the regex there.
# Each list is then made non-overlapping (leftmost first), like a full ``finditer``.
_CLUSTER = re.compile(r"[0-9+(][0-9 \xa0\-–./()+Xx]{6,}")
_DIGIT_PATTERNS = (
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
_OBF_BRACKET_RX = r"[\[\(\{<]\s*(?:[aA][tT]|[äÄ][tT]|@)\s*[\]\)\}>]"
_OBF_BRACKET = re.compile(_OBF_BRACKET_RX)
#: patterns without a cheap literal: only run on rows passing a (Rust) pre-check that every
#: match must satisfy; the Python path uses the same pre-checks
_RARE_PRECHECK = {"email_obf": _OBF_BRACKET_RX, "email_words": "(?i) dot "}


def _non_overlapping(found: list[tuple[int, str]]) -> list[tuple[int, str]]:
    found.sort(key=lambda x: x[0])
    out: list[tuple[int, str]] = []
    end = -1
    for s, m in found:
        if s >= end:
            out.append((s, m))
            end = s + len(m)
    return out


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


def _python_candidates(text: str) -> Candidates:
    """Candidate (start, match) lists per pattern, found with Python ``re``; equal to
    ``{name: finditer(PATTERNS[name])}`` over the whole text, only cheaper."""
    out: Candidates = {}
    n = len(text)
    # URLs
    if "://" in text or "www." in text:
        starts = [p - k for p in _find_all(text, "://") for k in (5, 4, 3)] + _find_all(text, "www.")
        starts += [p for p in _find_all(text, "WWW.")]
        found = _anchored(_RX["url"], text, starts)
        if found:
            out["url"] = found
    # e-mails
    if "@" in text:
        rx = _RX["email"]
        found = []
        pos = 0
        while True:
            p = text.find("@", pos)
            if p < 0:
                break
            m = rx.search(text, max(pos, p - 64), p + 260)
            if m and m.start() <= p:
                found.append((m.start(), m.group()))
                pos = m.end()
            else:
                pos = p + 1
        if found:
            out["email"] = found
    low = text.lower()
    if len(low) != n:  # rare: lower() changed the length; fall back to plain scans
        low = None
    if _OBF_BRACKET.search(text):
        found = [(m.start(), m.group()) for m in _RX["email_obf"].finditer(text)]
        if found:
            out["email_obf"] = found
    if " dot " in (low if low is not None else text.lower()):
        found = [(m.start(), m.group()) for m in _RX["email_words"].finditer(text)]
        if found:
            out["email_words"] = found
    if not any(c in text for c in "0123456789"):
        return out
    # keyword-anchored numbers
    if low is None:
        found = [(m.start(), m.group()) for m in _RX["keyword"].finditer(text)]
    else:
        found = _anchored(_RX["keyword"], text, [p for st in _KW_STEMS for p in _find_all(low, st)])
    if found:
        out["keyword"] = found
    # digit clusters -> digit patterns, IBAN
    per: dict[str, list[tuple[int, str]]] = {}
    for cm in _CLUSTER.finditer(text):
        s, e = cm.span()
        for name in _DIGIT_PATTERNS:
            for m in _RX[name].finditer(text, s, e):
                per.setdefault(name, []).append((m.start(), m.group()))
    for name, found in per.items():
        out[name] = found  # clusters are disjoint and in order: already non-overlapping
    found = [(m.start(), m.group()) for m in _RX["iban"].finditer(text)]
    if found:
        out["iban"] = found
    # IPv6: maximal hex/colon runs that contain "::" or >= 7 colons
    if "::" in text or text.count(":") >= 7:
        found = []
        pos = 0
        while True:
            p = text.find(":", pos)
            if p < 0:
                break
            a = p
            while a > 0 and text[a - 1] in _HEXCOLON:
                a -= 1
            b = p
            while b < n and text[b] in _HEXCOLON:
                b += 1
            run = text[a:b]
            if "::" in run or run.count(":") >= 7:
                found += [(m.start(), m.group()) for m in _RX["ipv6"].finditer(text, a, b)]
            pos = b
        if found:
            out["ipv6"] = found
    return out


class _Spans:
    """Accepted spans; small per document, so linear overlap checks are fine."""

    __slots__ = ("spans", "blocked")

    def __init__(self, blocked: list[tuple[int, int]]):
        self.spans: list[tuple[int, int, str]] = []
        self.blocked = blocked

    def add(self, s: int, e: int, typ: str, *, ignore_blocked: bool = False) -> bool:
        for a, b, _ in self.spans:
            if s < b and a < e:
                return False
        if not ignore_blocked:
            for a, b in self.blocked:
                if s < b and a < e:
                    return False
        self.spans.append((s, e, typ))
        return True


def _after_digit_group(text: str, s: int) -> bool:
    """Candidate directly follows another digit group ("1234 0301 234567"); the UK
    text-relay prefixes "18001 " / "18002 " do not count."""
    if not (s >= 2 and text[s - 1] in " \xa0" and text[s - 2] in _DIGITSET):
        return False
    j = s - 2
    while j > 0 and text[j - 1] in _DIGITSET:
        j -= 1
    return text[j : s - 1] not in ("18001", "18002")


def _arithmetic(m: str) -> bool:
    pairs = [int(x) for x in re.split(r"[ .]", m)[1:]]
    return len({b - a for a, b in zip(pairs, pairs[1:])}) == 1


def _neg_context(text: str, s: int) -> bool:
    return bool(_NEG_CONTEXT.search(text, max(0, s - 30), s))


def _ndigits(s: str) -> int:
    return sum(c in _DIGITSET for c in s)


def _trim_groups(cand: str, max_digits: int) -> str:
    """Drop trailing whitespace-separated groups until at most ``max_digits`` digits."""
    while _ndigits(cand) > max_digits:
        cut = max(cand.rfind(" "), cand.rfind("\xa0"))
        if cut <= 0:
            return ""
        cand = cand[:cut].rstrip(" \xa0-–/.(")
    return cand


def _add_phone(text: str, sp: _Spans, s: int, e: int) -> None:
    """Accept a phone span and a directly following same-length local number
    ("电话：021-54098575 54098577", "Tel. 0221 123456 / 123457")."""
    if not sp.add(s, e, "phone"):
        return
    last = 0
    i = e - 1
    while i >= s and text[i] in _DIGITSET:
        last += 1
        i -= 1
    m = _CONTINUATION.match(text, e)
    if m and len(m.group(1)) == last:
        sp.add(m.start(1), m.end(1), "phone")


def _detect(text: str, cands: Candidates) -> list[tuple[int, int, str]]:
    get = cands.get
    sp = _Spans([(s, s + len(u)) for s, u in get("url", ())])

    # e-mail (also inside URLs) ------------------------------------------------------
    for s, m in get("email", ()):
        e = s + len(m)
        if e < len(text) and text[e] in _AFTER_EMAIL:
            continue
        while s > 0 and text[s - 1] in _BEFORE_EMAIL:  # the regex starts late (e.g. after a '-'): mask it all
            s -= 1
        local, _, domain = text[s:e].partition("@")
        if domain.rsplit(".", 1)[-1].lower() in _NOT_TLDS or local.lower() in _EMAIL_SERVICE_LOCALS:
            continue
        sp.add(s, e, "email", ignore_blocked=True)
    for name in ("email_obf", "email_words"):
        for s, m in get(name, ()):
            e = s + len(m)
            if _bad_before(text, s, _BEFORE_EMAIL) or _bad_after(text, e) or (e < len(text) and text[e] == "-"):
                continue
            sp.add(s, e, "email", ignore_blocked=True)

    # keyword-anchored numbers ---------------------------------------------------------
    for s, m in get("keyword", ()):
        if m[0] in _ASCII_LETTERS and _bad_before(text, s, _ASCII_LETTERS):
            continue
        km = _KEYWORD_PY.match(m)
        if km is None:
            continue
        if km.group("phone") or km.group("phone_cjk"):
            typ, lo, hi = "phone", 6, 15
        elif km.group("id") or km.group("id_cjk"):
            typ, lo, hi = "id_number", 6, 20
        else:
            typ, lo, hi = "card", 12, 19
        num = km.group("num").rstrip(" \xa0-–./(")
        if typ == "phone":
            num = _trim_groups(num, 15)
        nd = _ndigits(num)
        if not num or not (lo <= nd <= hi):
            continue
        if typ == "phone" and _DATEISH.search(num) and not num.lstrip().startswith(("+", "0", "(")):
            continue
        ns = s + km.start("num")
        if typ == "phone":
            _add_phone(text, sp, ns, ns + len(num))
        else:
            sp.add(ns, ns + len(num), typ)

    # IBAN, Chinese ID, payment cards ------------------------------------------------
    for s, m in get("iban", ()):
        e = s + len(m)
        if _bad_before(text, s, _ALNUM) or _bad_after(text, e):
            continue
        if iban_valid(m):
            sp.add(s, e, "card")
    runs = []
    for s, m in get("digit_run", ()):
        e = s + len(m)
        if _bad_before(text, s, _BEFORE_DIGITS) or _bad_after(text, e, seps=".,-/"):
            continue
        if len(m) == 18 and cn_id_valid(m):
            sp.add(s, e, "id_number")
            continue
        if m[-1] in "Xx":
            continue
        runs.append((s, e, m))
    card_cands = [(s, s + len(m), m) for s, m in get("card_grouped", ())
                  if not _bad_before(text, s, _BEFORE_DIGITS) and not _bad_after(text, s + len(m), seps=" -.,")]
    for s, e, m in card_cands + runs:
        d = _NON_DIGIT.sub("", m)
        if not (13 <= len(d) <= 19) or _low_entropy(d):
            continue
        if _card_prefix_ok(d) and luhn_valid(d) and not _neg_context(text, s):
            sp.add(s, e, "card")

    # IP addresses (also inside URLs) ---------------------------------------------------
    for s, m in get("ipv4", ()):
        e = s + len(m)
        if _bad_before(text, s, _BEFORE_IPV4) or _bad_after(text, e, seps="."):
            continue
        if e < len(text) and text[e] in "-+~" and e + 1 < len(text) and (text[e + 1] in _ALNUM):
            continue  # Debian-style version "1.2.3.4-1", "1.2.3.4+dfsg"
        try:
            ip = ipaddress.IPv4Address(m)
        except ValueError:
            continue
        if not ip.is_global or ip.is_multicast:
            continue
        before = text[max(0, s - 40) : s]
        if _VERSION_BEFORE.search(before):
            continue
        if (s == 0 or text[s - 1] == "\n") and text[e : e + 1] == ".":
            continue  # section heading "12.4.1.1. Title"
        if max(int(o) for o in m.split(".")) < 32 and not _IP_CONTEXT.search(before):
            continue  # "3.2.1.1", "1.1.1.1" without an IP-ish word nearby
        sp.add(s, e, "ip", ignore_blocked=True)
    for s, m in get("ipv6", ()):
        e = s + len(m)
        if "::" not in m and m.count(":") != 7:
            continue
        if _bad_before(text, s, _ALNUM | {":", ".", "-"}) or _bad_after(text, e) or (e < len(text) and text[e] in ":-"):
            continue
        try:
            ip6 = ipaddress.IPv6Address(m)
        except ValueError:
            continue
        if ip6.is_global and not ip6.is_multicast and ip6 in _GLOBAL_UNICAST:
            sp.add(s, e, "ip", ignore_blocked=True)

    # phone numbers ----------------------------------------------------------------------
    for s, m in get("phone_intl", ()):
        if _bad_before(text, s, _BEFORE_DIGITS) or _bad_after(text, s + len(m), seps=".,"):
            continue
        if m.startswith("00") and (
            not re.match(r"00[1-9][0-9]{0,3}[ \xa0\-–/.(]", m) or _after_digit_group(text, s)
        ):
            continue  # "00852-27100021" yes, "0049301234567" / "000123..." / "DE89 3704 0044 ..." no
        cand = _trim_groups(m.rstrip(" \xa0-–./("), 15)
        digits = _NON_DIGIT.sub("", cand.replace("(0)", ""))
        if not (8 <= len(digits) <= 15) or _LONG_SEP.search(cand):
            continue
        if cand.count(")") == cand.count("(") + 1 and s > 0 and text[s - 1] == "(":
            s, cand = s - 1, "(" + cand  # "(+56 2) 2707 7777": the prefix sits inside parentheses
        if cand.count("(") != cand.count(")") or _low_entropy(digits[2:]):
            continue
        _add_phone(text, sp, s, s + len(cand))
    for s, m in get("phone_paren", ()):
        if _bad_before(text, s, _BEFORE_DIGITS | {"("}) or _bad_after(text, s + len(m), seps=".,"):
            continue
        cand = _trim_groups(m, 13)
        if 7 <= _ndigits(cand) <= 13:
            _add_phone(text, sp, s, s + len(cand))
    for name, seps in (("phone_nanp", "-.,/"), ("phone_nanp_dot", "-.,/"), ("phone_fr", " .,:")):
        for s, m in get(name, ()):
            e = s + len(m)
            if _bad_before(text, s, _BEFORE_DIGITS) or _bad_after(text, e, seps=seps):
                continue
            if name == "phone_fr" and (_arithmetic(m) or _after_digit_group(text, s)):
                continue  # "05 10 15 20 25" is a sequence, not a number
            if not _neg_context(text, s):
                sp.add(s, e, "phone")
    for s, m in get("phone_national", ()):
        if _bad_before(text, s, _BEFORE_DIGITS | {":"}) or _bad_after(text, s + len(m), seps=".,:"):
            continue
        if _after_digit_group(text, s):
            continue  # tail of a longer digit sequence ("DE89 3704 0044 0532 ...")
        cand = _trim_groups(m, 14)
        if _ndigits(cand) < 9 or _DATEISH.search(cand) or _neg_context(text, s):
            continue
        _add_phone(text, sp, s, s + len(cand))
    mobiles = [(s, s + len(m), m) for s, e, m in runs if len(m) == 11 and m[0] == "1" and m[1] in "3456789"]
    for s, m in get("cn_mobile_grouped", ()):
        if not _bad_before(text, s, _BEFORE_DIGITS) and not _bad_after(text, s + len(m), seps=" .,-/"):
            mobiles.append((s, s + len(m), m))
    for s, e, m in mobiles:
        d = _NON_DIGIT.sub("", m)
        if len(set(d[3:])) <= 2 or _neg_context(text, s):
            continue
        sp.add(s, e, "phone")
    return sorted(sp.spans)


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Return non-overlapping ``(start, end, type)`` PII spans, sorted by start."""
    if not text:
        return []
    cands = _python_candidates(text)
    if not cands or (len(cands) == 1 and "url" in cands):
        return []
    return _detect(text, cands)


def _apply(text: str, spans: Iterable[tuple[int, int, str]]) -> tuple[str, dict[str, int]]:
    counts = dict.fromkeys(PII_TYPES, 0)
    out: list[str] = []
    pos = 0
    for s, e, typ in spans:
        out.append(text[pos:s])
        out.append(PLACEHOLDERS[typ])
        counts[typ] += 1
        pos = e
    out.append(text[pos:])
    return "".join(out), counts


def mask_pii(text: str) -> tuple[str, dict[str, int]]:
    """Mask PII in ``text``; returns ``(masked_text, {type: count})`` with every type of
    ``PII_TYPES`` present in the dict.  Pure Python (about 1-3 ms for a 7 kB page);
    use :func:`mask_pii_column` for bulk work."""
    if not text:
        return text, dict.fromkeys(PII_TYPES, 0)
    spans = find_pii(text)
    if not spans:
        return text, dict.fromkeys(PII_TYPES, 0)
    return _apply(text, spans)


def _locate(text: str, matches: list[str]) -> list[tuple[int, str]]:
    """Offsets of leftmost-first, non-overlapping matches, in order (see module notes)."""
    out = []
    pos = 0
    for m in matches:
        s = text.find(m, pos)
        if s < 0:  # cannot happen for identical engines; be defensive
            s = text.find(m)
            if s < 0:
                continue
        out.append((s, m))
        pos = s + len(m)
    return out


def mask_pii_column(df: pl.DataFrame, text_col: str = "text") -> pl.DataFrame:
    """Add ``text_masked`` (String) and ``pii_<type>_count`` (Int32) columns.

    Fast path: the candidate patterns run vectorised in Rust (Polars
    ``str.extract_all``; the two patterns without a literal prefilter only on rows that
    pass a cheap ``str.contains`` pre-check); rows without any candidate are copied
    unchanged and never touch Python, the others are validated in Python.  Null texts
    give a null ``text_masked`` and zero counts.  Output is identical to ``mask_pii``.
    """
    names = [n for n in PATTERNS if n not in _RARE_PRECHECK]
    col = pl.col(text_col)
    cand_df = df.select(
        col.alias("__t"),
        *[col.str.extract_all(PATTERNS[n]).alias(n) for n in names],
        *[col.str.contains(_RARE_PRECHECK[n]).fill_null(False).alias("__pre_" + n) for n in _RARE_PRECHECK],
    )
    n_rows = cand_df.height
    texts = cand_df.get_column("__t").to_list()
    cols: dict[str, list] = {n: cand_df.get_column(n).to_list() for n in names}
    for n in _RARE_PRECHECK:
        flags = cand_df.get_column("__pre_" + n).to_list()
        rows = [i for i, f in enumerate(flags) if f]
        full: list = [None] * n_rows
        if rows:
            sub = pl.Series([texts[i] for i in rows], dtype=pl.String).str.extract_all(PATTERNS[n]).to_list()
            for i, v in zip(rows, sub):
                full[i] = v
        cols[n] = full
    all_names = list(cols)
    masked: list[str | None] = list(texts)
    counts: dict[str, list[int]] = {t: [0] * n_rows for t in PII_TYPES}
    for i, t in enumerate(texts):
        if t is None:
            continue
        cands = {n: _locate(t, cols[n][i]) for n in all_names if cols[n][i]}
        if not cands or (len(cands) == 1 and "url" in cands):
            continue
        spans = _detect(t, cands)
        if spans:
            mt, c = _apply(t, spans)
            masked[i] = mt
            for k in PII_TYPES:
                counts[k][i] = c[k]
    out_cols = [pl.Series("text_masked", masked, dtype=pl.String)]
    out_cols += [pl.Series(f"pii_{k}_count", counts[k], dtype=pl.Int32) for k in PII_TYPES]
    return df.with_columns(out_cols)
