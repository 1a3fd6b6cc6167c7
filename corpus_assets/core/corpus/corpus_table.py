"""The `corpus` table's rows: kept documents with boilerplate removed and PII masked."""
from __future__ import annotations

import polars as pl

from corpus_assets.core.dedup.text import remove_boilerplate_df
from corpus_assets.core.privacy.pii import mask_pii_column
from corpus_assets.core.quality.signals_table import PII_COUNT_COLUMNS


def corpus_frame(docs: pl.DataFrame, boilerplate: pl.DataFrame | None = None,
                 text_hashes: pl.DataFrame | None = None, scores: pl.DataFrame | None = None) -> pl.DataFrame:
    """Kept documents as training rows: boilerplate lines (`url_host, line_hash`) removed (documents
    left empty are dropped), then PII masked (raw text never leaves `documents`); `text_hashes`
    (`doc_id, text_hash`) and `scores` (`doc_id, quality_score, model_version`) joined when given."""
    if boilerplate is not None:  # a page that is all boilerplate leaves the corpus (no empty rows)
        docs = remove_boilerplate_df(docs, boilerplate).filter(pl.col("text").str.strip_chars() != "")
    if text_hashes is not None:
        docs = docs.join(text_hashes, on="doc_id", how="left", maintain_order="left")
    if scores is not None:
        docs = docs.join(scores.select("doc_id", "quality_score", "model_version"), on="doc_id", how="left",
                         maintain_order="left")
    masked = mask_pii_column(docs.select("doc_id", "text"))
    return (docs.drop("text")
            .join(masked.select("doc_id", pl.col("text_masked").alias("text"), *PII_COUNT_COLUMNS),
                  on="doc_id", how="left", maintain_order="left")
            .with_columns(n_chars=pl.col("text").str.len_chars().cast(pl.Int64)))
