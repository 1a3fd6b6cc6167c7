"""Language codes: one normalisation rule and the language classes every stage shares.

Documents carry fastText lid.176 codes (``en``, ``zh``, ``wuu``, ``yue``, ``ja`` ...), but
configs and callers also pass BCP 47 tags (``zh-Hans``, ``zh_TW``, ``ZH``). The rule
(:func:`normalize_lang`):

1. trim and lower-case; drop a fastText ``__label__`` prefix;
2. keep the primary subtag (``zh-Hans`` / ``zh_TW`` / ``en-US`` -> ``zh`` / ``zh`` / ``en``);
3. map the Chinese varieties written in Han characters (:data:`CHINESE_LANGS`: Mandarin
   ``cmn``, Cantonese ``yue``, Wu ``wuu``, Gan ``gan``, Hakka ``hak``, Min Nan ``nan``,
   Classical ``lzh``) to ``zh``: they share the script, so segmentation and word lists are
   those of ``zh``.

Classes, on normalised codes: *unspaced* languages (``zh``, ``ja``) are written without
spaces between words; *CJK* adds Korean, which is written with spaces.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "CHINESE_LANGS",
    "UNSPACED_LANGS",
    "CJK_LANGS",
    "normalize_lang",
    "is_unspaced",
    "is_cjk",
]

CHINESE_LANGS: frozenset[str] = frozenset({"zh", "cmn", "yue", "wuu", "gan", "hak", "nan", "lzh"})
#: primary codes of the languages written without spaces (before normalisation: every Chinese
#: variety is listed, so a raw lid.176 code such as ``wuu`` is found too)
UNSPACED_LANGS: frozenset[str] = CHINESE_LANGS | {"ja"}
#: ``UNSPACED_LANGS`` plus Korean
CJK_LANGS: frozenset[str] = UNSPACED_LANGS | {"ko"}

_FASTTEXT_PREFIX = "__label__"


@lru_cache(maxsize=1024)
def normalize_lang(lang: str | None) -> str:
    """The normalised code of ``lang`` (see the module docstring); ``""`` for ``None`` / empty."""
    if not lang:
        return ""
    code = lang.strip().lower().removeprefix(_FASTTEXT_PREFIX)
    primary = code.replace("_", "-").split("-", 1)[0]
    return "zh" if primary in CHINESE_LANGS else primary


def is_unspaced(lang: str | None) -> bool:
    """True for languages written without spaces between words (Chinese varieties, Japanese)."""
    return normalize_lang(lang) in ("zh", "ja")


def is_cjk(lang: str | None) -> bool:
    """True for Chinese (any variety), Japanese and Korean; only zh and ja are unspaced."""
    return normalize_lang(lang) in ("zh", "ja", "ko")
