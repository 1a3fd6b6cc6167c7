"""Decode an HTML payload: declared charset (HTTP header, then <meta>), then detection.

Pages lie about their charset. A declared charset is used only if the bytes decode strictly with it;
a page declared Latin-1/Windows-1252 whose bytes are valid multi-byte UTF-8 is read as UTF-8 (the
commonest lie on the web). Otherwise resiliparse's detector (uchardet-based) decides.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from resiliparse.parse.encoding import detect_encoding

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_SINGLE_BYTE_WESTERN = {"latin_1", "iso8859_1", "cp1252", "ascii"}
# a decode with more replacement characters than this share is not text we can trust
MAX_REPLACEMENT_SHARE = 0.01


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # the Python codec name used
    charset_source: str  # header | meta | utf8_override | detected


def header_charset(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def meta_charset(payload: bytes) -> str | None:
    match = _META_CHARSET.search(payload[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    if name in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        name = "cp1252"  # as browsers do (WHATWG encoding standard)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _is_multibyte_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not payload.isascii()


def decode_html(payload: bytes, content_type: str = "") -> Decoded | None:
    """Decode `payload` to str; None when no charset gives trustworthy text."""
    declared = [(header_charset(content_type), "header"), (meta_charset(payload), "meta")]
    for name, source in declared:
        codec = _codec(name)
        if codec is None:
            continue
        if codec in _SINGLE_BYTE_WESTERN and _is_multibyte_utf8(payload):
            return Decoded(payload.decode("utf-8"), "utf-8", "utf8_override")
        try:
            return Decoded(payload.decode(codec), codec, source)
        except (UnicodeDecodeError, LookupError):
            continue
    codec = _codec(detect_encoding(payload)) or "utf-8"
    text = payload.decode(codec, errors="replace")
    if text and text.count("\ufffd") / len(text) > MAX_REPLACEMENT_SHARE:
        return None
    return Decoded(text, codec, "detected")
