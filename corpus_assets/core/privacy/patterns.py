"""Candidate patterns for PII detection: what can *look like* personal data.

Every pattern is written in the syntax subset shared by Python ``re`` and the Rust ``regex``
crate that Polars uses (no look-arounds, no back-references, ASCII ``[0-9]`` rather than
``\\d``), so candidates can be found vectorised with Polars ``str.extract_all`` and re-checked
in Python. Both engines are leftmost-first, so a match string found by Polars is located in the
Python string with a sequential ``str.find``. Boundary and context checks that would need
look-arounds are done in Python on the candidates (:mod:`.detectors`).
"""

from __future__ import annotations

import re

__all__ = ["PATTERNS", "RARE_PRECHECK", "KEYWORD_PARTS"]

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

#: patterns without a cheap literal run only on texts that pass this (Rust) pre-check, which
#: every match of the pattern satisfies
RARE_PRECHECK: dict[str, str] = {
    "email_obf": r"[\[\(\{<]\s*(?:[aA][tT]|[äÄ][tT]|@)\s*[\]\)\}>]",
    "email_words": "(?i) dot ",
}

#: a ``keyword`` candidate split into its keyword (the named group gives the PII type) and the
#: number; Python ``re`` only (look-aheads): an ASCII keyword must end at a word boundary
KEYWORD_PARTS = re.compile(
    r"(?i)(?:(?P<phone>" + _PHONE_KW + r")(?![A-Za-z])|(?P<phone_cjk>" + _PHONE_KW_CJK + r")"
    r"|(?P<id>" + _ID_KW + r")(?![A-Za-z])|(?P<id_cjk>" + _ID_KW_CJK + r")"
    r"|(?P<card>" + _CARD_KW + r")(?![A-Za-z])|(?P<card_cjk>" + _CARD_KW_CJK + r"))"
    + _KW_GAP + r"(?P<num>" + _KW_NUMBER + r")"
)
