"""Shard keys: a partition is a contiguous range of one crawl's WARC files.

A key names the crawl and the file range in `warc.paths.gz` order, e.g. `CC-MAIN-2024-22/00100-00199`,
or `CC-SAMPLE-2026-03/00003` for a one-file shard. Encoding the range in the key keeps a key's meaning
fixed even if the shard-size setting changes later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"^(?P<crawl>[A-Za-z0-9_.-]+)/(?P<start>\d{5,})(?:-(?P<end>\d{5,}))?$")


@dataclass(frozen=True)
class Shard:
    crawl: str
    start: int  # index of the first file in warc.paths.gz (0-based)
    end: int  # index of the last file, inclusive

    @property
    def key(self) -> str:
        if self.start == self.end:
            return f"{self.crawl}/{self.start:05d}"
        return f"{self.crawl}/{self.start:05d}-{self.end:05d}"

    def select(self, paths: list[str]) -> list[str]:
        if self.end >= len(paths):
            raise ValueError(f"shard {self.key} needs files up to #{self.end}, the crawl lists {len(paths)}")
        return paths[self.start : self.end + 1]


def parse_shard_key(key: str) -> Shard:
    match = _KEY.match(key)
    if not match:
        raise ValueError(f"not a shard key: {key!r} (expected CRAWL/NNNNN or CRAWL/NNNNN-NNNNN)")
    start = int(match["start"])
    end = int(match["end"]) if match["end"] else start
    if end < start:
        raise ValueError(f"shard key {key!r} ends before it starts")
    return Shard(match["crawl"], start, end)


def plan_shards(crawl: str, n_files: int, shard_size: int) -> list[Shard]:
    """Cut a crawl's `n_files` WARC files into shards of `shard_size` files (the last may be smaller)."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    return [Shard(crawl, start, min(start + shard_size, n_files) - 1) for start in range(0, n_files, shard_size)]
