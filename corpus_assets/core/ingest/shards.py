"""Shard keys and shard plans: a partition is a contiguous range of one crawl's WARC files.

A key names the crawl and the file range in `warc.paths.gz` order, e.g. `CC-MAIN-2024-22/00100-00199`,
or `CC-SAMPLE-2026-03/00003` for a one-file shard. Encoding the range in the key keeps a key's meaning
fixed even if the shard-size setting changes later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from corpus_assets.core.ingest.ccsource import CrawlSource, SourceError

LOCAL_SHARD_SIZE = 1  # the bundled sample: one small file per partition
REMOTE_SHARD_SIZE = 100  # Common Crawl: ~1 GB files, ~900 partitions per crawl
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


def plan_source_shards(source: CrawlSource, crawls: list[str], shard_size: int | None,
                       max_files_per_crawl: int | None) -> list[Shard]:
    """Shards of `crawls` (all crawls of a local source when empty; a remote source must name them)."""
    if not crawls and not source.is_local:
        raise SourceError(f"a remote source needs an explicit list of crawls (all of {source.root} would be "
                          "millions of files): pass --crawl CC-MAIN-YYYY-WW, or set the cc_source resource's crawls")
    crawl_ids = crawls or [c["id"] for c in reversed(source.list_crawls())]  # oldest first
    size = shard_size or (LOCAL_SHARD_SIZE if source.is_local else REMOTE_SHARD_SIZE)
    shards: list[Shard] = []
    for crawl in crawl_ids:
        n_files = len(source.list_files(crawl))
        if max_files_per_crawl:
            n_files = min(n_files, max_files_per_crawl)
        shards += plan_shards(crawl, n_files, size)
    return shards
