"""The `warehouse` resource: where the Delta tables live (a local folder or s3://bucket/prefix)."""
from __future__ import annotations

import dagster as dg
from pydantic import Field

from corpus_assets.core.lake.roots import warehouse_root


class Warehouse(dg.ConfigurableResource):
    """The lakehouse root: one Delta table per asset under it."""

    uri: str = Field(default="warehouse", description="Root URI: a local folder or s3://bucket/prefix "
                                                      "(from $CORPUS_WAREHOUSE; `corpus` sets it)")
    storage_options: dict[str, str] = Field(default_factory=dict,
                                            description="delta-rs storage options, e.g. AWS_REGION (secrets via EnvVar)")

    def root(self) -> str:
        return warehouse_root(self.uri)

    def table_uri(self, table: str) -> str:
        return f"{self.root()}/{table}"

    def options(self) -> dict[str, str] | None:
        return dict(self.storage_options) or None


defs = dg.Definitions(resources={"warehouse": Warehouse(uri=dg.EnvVar("CORPUS_WAREHOUSE"))})
