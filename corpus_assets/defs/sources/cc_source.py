"""The `cc_source` resource: the Common Crawl source and which of its crawls to ingest, in shards."""
from __future__ import annotations

from typing import Optional

import dagster as dg
from pydantic import Field

from corpus_assets.core.ingest.ccsource import CrawlSource
from corpus_assets.core.ingest.retry import RetryPolicy
from corpus_assets.core.ingest.shards import Shard, plan_source_shards


class CommonCrawlSource(dg.ConfigurableResource):
    """A Common Crawl source (`collinfo.json`, `crawl-data/<CRAWL>/warc.paths.gz`, WARC files)."""

    uri: str = Field(description="Path, file://, https://data.commoncrawl.org or s3://commoncrawl "
                                 "(from $CORPUS_SOURCE; `corpus` sets it, default the bundled sample)")
    crawls: list[str] = Field(default_factory=list,
                              description="Crawl ids to ingest; required for a remote source; empty: every "
                                          "crawl of a local source")
    shard_size: Optional[int] = Field(default=None, ge=1, description="WARC files per partition (default: 1 for "
                                                                      "a local source, 100 for a remote one)")
    max_files_per_crawl: Optional[int] = Field(default=None, ge=1, description="Only the first N files of each crawl")
    retry_seconds: float = Field(default=300.0, gt=0, description="Longest a read keeps retrying transient errors "
                                                                 "(reset, timeout, 429, 5xx) before it fails")

    def client(self) -> CrawlSource:
        return CrawlSource(self.uri, RetryPolicy(total_seconds=self.retry_seconds))

    def planned_shards(self) -> list[Shard]:
        """Every shard of the configured crawls, in crawl then file order."""
        return plan_source_shards(self.client(), self.crawls, self.shard_size, self.max_files_per_crawl)


defs = dg.Definitions(resources={"cc_source": CommonCrawlSource(uri=dg.EnvVar("CORPUS_SOURCE"))})
