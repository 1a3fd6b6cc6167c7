"""The corpus columns that say where a row came from: `source`, `synthetic`, `generator`."""
from __future__ import annotations

import polars as pl

ORIGIN_SCHEMA = {"source": pl.String, "synthetic": pl.Boolean, "generator": pl.String}


def with_origin(frame: pl.DataFrame, origin: dict) -> pl.DataFrame:
    """`frame` with the partition's origin as constant columns (one partition has one origin)."""
    return frame.with_columns(pl.lit(origin[name], dtype).alias(name) for name, dtype in ORIGIN_SCHEMA.items())
