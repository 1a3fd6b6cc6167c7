"""Partition keys of imported files, and the names a source may have.

An imported file is one partition of the per-shard assets: `import-<source>/<first 16 hex of its SHA-256>`.
The key is made from the file's content, so importing the same file again names the same partition (and
replaces it with the same rows), while a changed file is a partition of its own. Its Delta partition is
`crawl = import-<source>`, `shard = <hash>`, like a crawl's shard.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

IMPORT_PREFIX = "import-"
COMMON_CRAWL_SOURCE = "common-crawl"  # the `source` of every crawled row (the mixtures' stated default too)
HASH_CHARS = 16
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_KEY = re.compile(rf"^{IMPORT_PREFIX}(?P<source>[a-z0-9][a-z0-9_.-]{{0,63}})/(?P<hash>[0-9a-f]{{{HASH_CHARS}}})$")


@dataclass(frozen=True)
class ImportShard:
    """The partition of one imported file (what `Shard` is for a range of WARC files)."""

    source: str
    file_hash: str

    @property
    def crawl(self) -> str:
        return f"{IMPORT_PREFIX}{self.source}"

    @property
    def key(self) -> str:
        return f"{self.crawl}/{self.file_hash}"


def is_import_key(key: str) -> bool:
    return key.startswith(IMPORT_PREFIX)


def parse_import_key(key: str) -> ImportShard:
    match = _KEY.match(key)
    if not match:
        raise ValueError(f"not an import partition key: {key!r} (expected {IMPORT_PREFIX}SOURCE/<16 hex digits>)")
    return ImportShard(match["source"], match["hash"])


def check_source_name(name: str) -> str:
    """A source name: lower-case letters, digits, `_`, `.`, `-` (it becomes a partition value and a SQL literal)."""
    if not _SOURCE.match(name or ""):
        raise ValueError(f"source name {name!r}: use 1-64 lower-case letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit")
    if name == COMMON_CRAWL_SOURCE:
        raise ValueError(f"source name {name!r} is reserved for the crawled documents")
    return name
