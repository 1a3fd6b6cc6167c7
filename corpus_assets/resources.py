"""Dagster resources: where the Delta tables live and where the crawl comes from.

Defaults are resolved when a run uses the resource, not at import: `$CORPUS_WAREHOUSE` or `./warehouse`,
and `$CORPUS_SOURCE` or the sample crawl bundled with the project.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

import dagster as dg
from pydantic import Field

from corpus_assets.core.ccsource import CrawlSource
from corpus_assets.core.shards import Shard, plan_shards

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_SAMPLE = PROJECT_ROOT / "data" / "sample-crawl"


def resolve_project_path(path: str | None) -> str | None:
    """A config path as given if it exists from the working directory, else relative to the project."""
    if path is None or Path(path).is_absolute() or "://" in path or Path(path).exists():
        return path
    return str(PROJECT_ROOT / path)


def default_warehouse_uri() -> str:
    return os.environ.get("CORPUS_WAREHOUSE") or "./warehouse"


def default_source_uri() -> str:
    return os.environ.get("CORPUS_SOURCE") or str(BUNDLED_SAMPLE)


class Warehouse(dg.ConfigurableResource):
    """The lakehouse root: one Delta table per asset under it (a local folder or s3://bucket/prefix)."""

    uri: Optional[str] = Field(default=None, description="Root URI; default $CORPUS_WAREHOUSE or ./warehouse")
    storage_options: dict[str, str] = Field(default_factory=dict,
                                            description="delta-rs storage options, e.g. AWS_REGION (secrets via EnvVar)")

    def root(self) -> str:
        uri = self.uri or default_warehouse_uri()
        if urlparse(uri).scheme in ("", "file"):
            return str(Path(uri.removeprefix("file://")).expanduser().resolve())
        return uri.rstrip("/")

    def table_uri(self, table: str) -> str:
        return f"{self.root()}/{table}"

    def options(self) -> dict[str, str] | None:
        return dict(self.storage_options) or None


class CommonCrawlSource(dg.ConfigurableResource):
    """A Common Crawl source (`collinfo.json`, `crawl-data/<CRAWL>/warc.paths.gz`, WARC files)."""

    uri: Optional[str] = Field(default=None, description="Path, file://, https://data.commoncrawl.org or "
                                                          "s3://commoncrawl; default $CORPUS_SOURCE or the bundled sample")
    crawls: list[str] = Field(default_factory=list, description="Crawl ids to ingest; empty: every crawl the source lists")
    shard_size: int = Field(default=1, ge=1, description="WARC files per partition (1 for the sample, ~100 for a real crawl)")
    max_files_per_crawl: Optional[int] = Field(default=None, ge=1, description="Only the first N files of each crawl")

    def client(self) -> CrawlSource:
        return CrawlSource(self.uri or default_source_uri())

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

