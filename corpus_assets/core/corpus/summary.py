"""The crawl-wide summary: documents, kept by the filters and in the corpus, per crawl, language and
drop reason; and Markdown tables of it for people (the Dagster UI renders them)."""
from __future__ import annotations

import polars as pl

from corpus_assets.core.lake.sql import connect, named_queries


def summarize_warehouse(warehouse_root: str, storage_options: dict | None = None) -> dict[str, pl.DataFrame]:
    """{"by_crawl", "by_language", "by_drop_reason"} frames over the warehouse's decisions and corpus."""
    con = connect(warehouse_root, storage_options)
    return {name: pl.from_arrow(con.sql(query).to_arrow_table()) for name, query in named_queries("summary.sql").items()}  # type: ignore[misc]


def markdown_table(frame: pl.DataFrame, max_rows: int = 40) -> str:
    """A GitHub-flavoured Markdown table of the first `max_rows` rows."""
    if frame.is_empty():
        return "_(no rows)_"
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * frame.width + "\n"
    rows = ["| " + " | ".join("" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:.1%}" if
                              isinstance(v, float) else str(v) for v in row) + " |"
            for row in frame.head(max_rows).iter_rows()]
    more = f"\n_... {frame.height - max_rows} more rows_" if frame.height > max_rows else ""
    return header + "\n".join(rows) + more
