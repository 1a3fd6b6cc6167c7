"""What a URL is looked up as in a UT1-style blocklist, and how list entries are normalised.

A domain entry ``example.com`` covers its subdomains (``sub.example.com``) on label
boundaries; a ``urls`` entry ``host/path`` covers that path and everything below it
(``www.`` ignored). Hosts come from :func:`corpus_assets.core.urls.url_host_and_path`.
"""

from __future__ import annotations

import polars as pl

from corpus_assets.core.urls import strip_scheme

__all__ = ["domain_candidates", "url_candidates", "normalise_entry", "normalise_entries"]


def domain_candidates(host: str) -> list[str]:
    """``a.b.example.com`` -> [a.b.example.com, b.example.com, example.com]; an IP literal only as itself."""
    if not host:
        return []
    if host.replace(".", "").isdigit() or ":" in host:
        return [host]
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [host]


def _path_prefixes(path: str) -> list[str]:
    """``/a/b/c?q`` -> [/a, /a/b, /a/b/c, /a/b/c, /a/b/c?q]: every prefix cut at ``/``, the path
    without and with a trailing ``/``, and the path with its query."""
    path_only, _, query = path.partition("?")
    prefixes: list[str] = []
    i = path_only.find("/", 1)
    while i > 0:
        prefixes.append(path_only[:i])
        i = path_only.find("/", i + 1)
    if path_only not in ("", "/"):
        prefixes.append(path_only.rstrip("/") or path_only)
        prefixes.append(path_only)
    if query:
        prefixes.append(path)
    return prefixes


def url_candidates(host: str, path: str) -> list[str]:
    """Keys for UT1 ``urls`` entries: the host (and the host without ``www.``) + every path prefix."""
    if not host:
        return []
    hosts = [host, host[4:]] if host.startswith("www.") else [host]
    prefixes = _path_prefixes(path)
    return [h + p for h in hosts for p in prefixes]


def normalise_entry(line: str) -> str:
    """One list line as it is matched: lower-cased, no scheme, no ``www.`` on a bare domain, no
    trailing dot; ``""`` for blank lines and ``#`` comments."""
    s = line.strip().lower()
    if not s or s.startswith("#"):
        return ""
    s = strip_scheme(s)
    if s.startswith("www.") and "/" not in s:
        s = s[4:]
    return s.rstrip(".")


def normalise_entries(s: pl.Series) -> pl.Series:
    """:func:`normalise_entry` for a whole series, blank and comment lines removed. One regex pass
    decides whether any entry needs work (UT1 files are already clean, so usually nothing is rewritten)."""
    s = s.drop_nulls()
    if s.len() == 0:
        return s.cast(pl.String)
    dirty = s.str.contains(r"^\s|\s$|[A-Z]|://|\.$|^www\.|^#|^$")
    if not bool(dirty.any()):
        return s
    s = s.str.strip_chars().str.to_lowercase().str.replace(r"^[a-z][a-z0-9+.\-]*://", "").str.strip_chars_end(".")
    s = s.filter((s.str.len_bytes() > 0) & ~s.str.starts_with("#"))
    www = s.str.starts_with("www.") & ~s.str.contains("/", literal=True)
    if bool(www.any()):
        s = pl.select(pl.when(www).then(s.str.slice(4)).otherwise(s)).to_series()
    return s
