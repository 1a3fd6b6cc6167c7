"""What changed between two builds of a mixture: documents and tokens added and removed per source.

Both sides are sets of rows (`stage, source, doc_id, copy, n_tokens`), e.g. two Delta versions of the
`mixtures` partition. An occurrence is (stage, source, doc_id, copy): a document repeated once more
adds one occurrence and its tokens, but no document. Documents count distinct doc_ids that appear in
one build's (stage, source) and not in the other's.
"""
from __future__ import annotations

import polars as pl

KEY = ["stage", "source", "doc_id", "copy"]
DIFF_SCHEMA = {"stage": pl.String, "source": pl.String, "documents_added": pl.Int64, "documents_removed": pl.Int64,
               "rows_added": pl.Int64, "rows_removed": pl.Int64, "tokens_added": pl.Int64,
               "tokens_removed": pl.Int64}


def diff_mixture_rows(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """One row per (stage, source) present in either build, sorted, with DIFF_SCHEMA's columns."""
    old, new = old.select(*KEY, "n_tokens"), new.select(*KEY, "n_tokens")
    added = new.join(old, on=KEY, how="anti")
    removed = old.join(new, on=KEY, how="anti")
    documents_old, documents_new = old.select("stage", "source", "doc_id").unique(), new.select(
        "stage", "source", "doc_id").unique()
    docs_added = documents_new.join(documents_old, on=["stage", "source", "doc_id"], how="anti")
    docs_removed = documents_old.join(documents_new, on=["stage", "source", "doc_id"], how="anti")
    groups = pl.concat([old.select("stage", "source"), new.select("stage", "source")]).unique()
    by = ["stage", "source"]
    return (groups
            .join(docs_added.group_by(by).agg(documents_added=pl.len()), on=by, how="left")
            .join(docs_removed.group_by(by).agg(documents_removed=pl.len()), on=by, how="left")
            .join(added.group_by(by).agg(rows_added=pl.len(), tokens_added=pl.col("n_tokens").sum()), on=by, how="left")
            .join(removed.group_by(by).agg(rows_removed=pl.len(), tokens_removed=pl.col("n_tokens").sum()), on=by,
                  how="left")
            .fill_null(0).cast(DIFF_SCHEMA).select(list(DIFF_SCHEMA)).sort(by))  # type: ignore[arg-type]
