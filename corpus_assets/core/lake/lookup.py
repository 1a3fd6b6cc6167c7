"""Per-batch lookups in a frame of a whole shard (its quality scores, its text hashes)."""
from __future__ import annotations

import polars as pl


def rows_for(table: pl.DataFrame, batch: pl.DataFrame, on: str = "doc_id") -> pl.DataFrame:
    """The rows of `table` whose `on` occurs in `batch`: join a batch with these, not with the whole table.

    A left join hashes its right side, so joining every 5,000-document batch with a table of the whole
    shard hashed the shard once per batch (time quadratic in the shard: 80 ms per batch at 1M rows); a
    semi join hashes the batch's keys and scans the table (~10 ms)."""
    return table.join(batch.select(on), on=on, how="semi")
