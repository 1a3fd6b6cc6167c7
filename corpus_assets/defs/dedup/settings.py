"""The `dedup_settings` resource: the one place where MinHash, LSH banding, verification and boilerplate
settings live. Every shard must be hashed alike, so these are not per-run config: `dedup_clusters`
refuses a band index that mixes settings (see core/dedup/settings.py)."""
from __future__ import annotations

import dagster as dg
from pydantic import Field

from corpus_assets.core.dedup.minhash import MinHasher


class DedupSettings(dg.ConfigurableResource):
    """MinHash signatures, LSH bands, candidate verification and boilerplate lines."""

    num_perm: int = Field(default=112, ge=8, description="MinHash permutations (>= bands x rows)")
    # 28 x 4: a permissive first stage (P(candidate) 0.98 at Jaccard 0.6, 0.84 at 0.5), verified below
    bands: int = Field(default=28, ge=1, description="LSH bands: two documents are candidates when a band matches")
    rows: int = Field(default=4, ge=1, description="signature values per band")
    ngram: int = Field(default=5, ge=1, description="word n-grams (character n-grams for zh/ja)")
    verify_threshold: float | None = Field(
        default=0.5, ge=0.0, le=1.0, description="keep a candidate pair only if the Jaccard estimated from the "
        "stored signatures reaches this (None: keep every LSH candidate)")
    boilerplate_min_docs: int = Field(default=3, ge=2, description="a line in at least this many documents of the "
                                      "same host is boilerplate (removed before MinHash and in corpus)")
    memory_limit: str = Field(default="512MB", description="DuckDB memory limit of a shard's line counts (spills beyond)")

    def hasher(self) -> MinHasher:
        return MinHasher(num_perm=self.num_perm, bands=self.bands, rows=self.rows, ngram=self.ngram)


defs = dg.Definitions(resources={"dedup_settings": DedupSettings()})
