"""URL host parsing shared by the stages (the `documents` table's ``url_host`` and the safety blocklist).

One rule, by hand rather than ``urllib.parse.urlsplit``: it never raises (``urlsplit`` does on
a malformed IPv6 literal such as ``http://[::1/``), accepts a URL without a scheme
(``example.org/path``, the form blocklist entries are written in) and drops a trailing dot
(``example.com.`` is the same DNS name). On every URL of the bundled and the shared sample
crawls it gives the same host as ``(urlsplit(url).hostname or "").lower()``.
"""

from __future__ import annotations

import re

__all__ = ["url_host", "url_host_and_path", "strip_scheme"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def strip_scheme(url: str) -> str:
    """``url`` without a leading ``scheme://``."""
    return _SCHEME.sub("", url, count=1)


def _split_authority(url: str) -> tuple[str, str]:
    """(authority, rest from the first ``/``, ``?`` or ``#``) of a URL with or without a scheme."""
    rest = strip_scheme(url.strip())
    cut = len(rest)
    for ch in "/?#":
        i = rest.find(ch)
        if 0 <= i < cut:
            cut = i
    return rest[:cut], rest[cut:]


def _host_of(authority: str) -> str:
    netloc = authority.rpartition("@")[2]  # no userinfo
    if netloc.startswith("["):  # IPv6 literal
        return netloc[1 : netloc.find("]")].lower() if "]" in netloc else netloc.lower()
    return netloc.split(":", 1)[0].strip().rstrip(".").lower()


def url_host(url: str | None) -> str:
    """Lower-cased host of ``url`` (no userinfo, port, brackets or trailing dot); ``""`` if none."""
    if not url:
        return ""
    return _host_of(_split_authority(url)[0])


def url_host_and_path(url: str) -> tuple[str, str]:
    """(``url_host(url)``, path with query but without the fragment)."""
    authority, rest = _split_authority(url)
    return _host_of(authority), rest.split("#", 1)[0]
