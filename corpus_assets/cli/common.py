"""What every `corpus` subcommand shares: one-line errors, where the warehouse and the source are."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

from corpus_assets.core.package_data import bundled_sample_crawl, packaged_mixtures


class CliError(Exception):
    """An error shown to the user as one line."""


def warehouse_root(uri: str | None) -> str:
    """The warehouse: the given URI, else $CORPUS_WAREHOUSE, else ./warehouse (local paths made absolute)."""
    from corpus_assets.core.lake.roots import warehouse_root as resolve

    return resolve(uri or os.environ.get("CORPUS_WAREHOUSE") or "warehouse")


def source_uri(uri: str | None) -> str:
    """The crawl source: the given URI, else $CORPUS_SOURCE, else the sample crawl bundled with the package."""
    return uri or os.environ.get("CORPUS_SOURCE") or str(bundled_sample_crawl())


def mixtures_folder(folder: str | None) -> str:
    """The mixture specs folder: the given one, else $CORPUS_MIXTURES, else the examples packaged with corpus_assets."""
    return str(Path(folder or os.environ.get("CORPUS_MIXTURES") or packaged_mixtures()).expanduser().resolve())


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def require_warehouse(root: str) -> None:
    if is_local(root) and not Path(root).is_dir():
        raise CliError(f"no warehouse at {root}; run `corpus materialize` (or `corpus demo`) first")


def format_table(table, fmt: str = "table") -> str:
    """An Arrow table as text: a table for people, or csv / json."""
    import polars as pl

    frame = pl.DataFrame(pl.from_arrow(table))
    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        buffer = io.StringIO()
        json.dump(frame.to_dicts(), buffer, ensure_ascii=False, default=str, indent=1)
        return buffer.getvalue() + "\n"
    with pl.Config(tbl_rows=200, tbl_cols=30, fmt_str_lengths=80, tbl_hide_dataframe_shape=False):
        return f"{frame}\n"
