"""The `warehouse` resource: where the Delta tables live (a local folder or s3://bucket/prefix)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
from pydantic import Field


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


def warehouse_root(uri: str) -> str:
    """A local path made absolute (so every process agrees), or an object-store URI without a trailing slash."""
    if urlparse(uri).scheme in ("", "file"):
        path = Path(uri.removeprefix("file://")).expanduser().resolve()
        blocker = next((p for p in (path, *path.parents) if p.exists()), None)  # the nearest existing ancestor
        if blocker is not None and not blocker.is_dir():
            raise ValueError(f"warehouse {path}: {blocker} is a file, not a folder")
        return str(path)
    return uri.rstrip("/")


defs = dg.Definitions(resources={"warehouse": Warehouse(uri=dg.EnvVar("CORPUS_WAREHOUSE"))})
