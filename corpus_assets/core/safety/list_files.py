"""Reading blocklist files: a directory tree, a UT1 ``.tar.gz`` / ``.tgz`` / ``.tar`` archive, or one file.

Recognised names (anywhere in a tree or archive): ``domains``, ``domains.txt``,
``*_domains.txt`` / ``*-domains.txt`` (one domain per line), ``urls``, ``urls.txt``,
``*_urls.txt`` / ``*-urls.txt`` (``host/path`` per line), and FineWeb's ``banned_words.txt``,
``soft_banned_words.txt``, ``banned_subwords.txt``. A single file with any other name is read
as a domain list.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import polars as pl

__all__ = ["BlocklistFiles", "read_blocklist_files", "read_lines", "word_list", "WORD_LISTS"]

_DOMAIN_FILES = ("domains", "domains.txt")
_URL_FILES = ("urls", "urls.txt")
_WORD_FILES = {
    "banned_words.txt": "banned_words",
    "soft_banned_words.txt": "soft_banned_words",
    "banned_subwords.txt": "banned_subwords",
}
#: the kinds of FineWeb URL word lists
WORD_LISTS: tuple[str, ...] = tuple(_WORD_FILES.values())


def _classify(name: str) -> str | None:
    """``domains``, ``urls``, one of :data:`WORD_LISTS`, or ``None`` for a file that is not a list."""
    base = os.path.basename(name)
    if base in _WORD_FILES:
        return _WORD_FILES[base]
    if base in _DOMAIN_FILES or base.endswith(("_domains.txt", "-domains.txt")):
        return "domains"
    if base in _URL_FILES or base.endswith(("_urls.txt", "-urls.txt")):
        return "urls"
    return None


def read_lines(data: bytes) -> pl.Series:
    """One entry per line -> String series, parsed in Rust (no per-line Python objects)."""
    if not data.strip():
        return pl.Series(values=[], dtype=pl.String)
    df = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        new_columns=["d"],
        separator="\x1f",
        quote_char=None,
        schema={"d": pl.String},
        truncate_ragged_lines=True,
        encoding="utf8-lossy",
    )
    return df.get_column("d")


def word_list(data: bytes) -> list[str]:
    """Lower-cased words of a word-list file; blank lines and ``#`` lines (disabled entries) skipped."""
    out = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        w = line.strip().lower()
        if w and not w.startswith("#"):
            out.append(w)
    return out


@dataclass
class BlocklistFiles:
    """Raw contents of the list files found under one path."""

    domains: list[bytes] = field(default_factory=list)
    urls: list[bytes] = field(default_factory=list)
    words: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in WORD_LISTS})

    def add(self, kind: str, data: bytes) -> None:
        if kind == "domains":
            self.domains.append(data)
        elif kind == "urls":
            self.urls.append(data)
        else:
            self.words[kind] += word_list(data)


def _directory_lists(path: Path) -> Iterator[tuple[str, bytes]]:
    """(kind, bytes) of the list files in a directory tree, in path order."""
    for f in sorted(path.rglob("*")):
        kind = _classify(f.name)
        if kind and f.is_file():
            yield kind, f.read_bytes()


def _archive_lists(path: Path) -> Iterator[tuple[str, bytes]]:
    """(kind, bytes) of the list files in a tar archive, in archive order."""
    with tarfile.open(path, "r:*") as tf:
        for member in tf:
            kind = _classify(member.name)
            fh = tf.extractfile(member) if kind and member.isfile() else None
            if kind and fh is not None:
                yield kind, fh.read()


def read_blocklist_files(path: str | os.PathLike[str]) -> BlocklistFiles:
    """Collect every list file under ``path`` (see the module docstring); FileNotFoundError if it does not exist."""
    p = Path(path)
    if p.is_dir():
        lists: Iterable[tuple[str, bytes]] = _directory_lists(p)
    elif p.name.endswith((".tar.gz", ".tgz", ".tar")):
        lists = _archive_lists(p)
    elif p.is_file():
        lists = [(_classify(p.name) or "domains", p.read_bytes())]
    else:
        raise FileNotFoundError(path)
    found = BlocklistFiles()
    for kind, data in lists:
        found.add(kind, data)
    return found
