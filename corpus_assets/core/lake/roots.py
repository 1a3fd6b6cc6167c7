"""Where a warehouse lives: one spelling of its root for every process (no Dagster import, so the CLI
process can resolve it without paying for Dagster)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse


def warehouse_root(uri: str) -> str:
    """A local path made absolute (so every process agrees), or an object-store URI without a trailing slash."""
    if urlparse(uri).scheme in ("", "file"):
        path = Path(uri.removeprefix("file://")).expanduser().resolve()
        blocker = next((p for p in (path, *path.parents) if p.exists()), None)  # the nearest existing ancestor
        if blocker is not None and not blocker.is_dir():
            raise ValueError(f"warehouse {path}: {blocker} is a file, not a folder")
        return str(path)
    return uri.rstrip("/")
