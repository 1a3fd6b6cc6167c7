"""The `cc_source` resource: the Common Crawl source and which of its crawls to ingest, in shards."""
from __future__ import annotations

from typing import Optional

import dagster as dg
from pydantic import Field

from corpus_assets.core.ingest.ccsource import CrawlSource
from corpus_assets.core.ingest.shards import Shard, plan_shards


class CommonCrawlSource(dg.ConfigurableResource):
    """A Common Crawl source (`collinfo.json`, `crawl-data/<CRAWL>/warc.paths.gz`, WARC files)."""

    uri: str = Field(description="Path, file://, https://data.commoncrawl.org or s3://commoncrawl "
                                 "(from $CORPUS_SOURCE; `corpus` sets it, default the bundled sample)")
    crawls: list[str] = Field(default_factory=list, description="Crawl ids to ingest; empty: every crawl the source lists")
    shard_size: int = Field(default=1, ge=1, description="WARC files per partition (1 for the sample, ~100 for a real crawl)")
    max_files_per_crawl: Optional[int] = Field(default=None, ge=1, description="Only the first N files of each crawl")

    def client(self) -> CrawlSource:
        return CrawlSource(self.uri)

    def planned_shards(self) -> list[Shard]:
        """Every shard of the configured crawls, in crawl then file order."""
        return plan_source_shards(self.client(), self.crawls, self.shard_size, self.max_files_per_crawl)


def plan_source_shards(source: CrawlSource, crawls: list[str], shard_size: int,
                       max_files_per_crawl: int | None) -> list[Shard]:
    crawl_ids = crawls or [c["id"] for c in reversed(source.list_crawls())]  # oldest first
    shards: list[Shard] = []
    for crawl in crawl_ids:
        n_files = len(source.list_files(crawl))
        if max_files_per_crawl:
            n_files = min(n_files, max_files_per_crawl)
        shards += plan_shards(crawl, n_files, shard_size)
    return shards


defs = dg.Definitions(resources={"cc_source": CommonCrawlSource(uri=dg.EnvVar("CORPUS_SOURCE"))})
