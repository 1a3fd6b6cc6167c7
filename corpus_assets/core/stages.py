"""The per-document transforms behind the silver/gold tables, as pure functions on Polars frames.

`signals_frame`: quality signals, PII counts and safety tags of documents (no text leaves this step).
`corpus_frame`: kept documents with PII-masked text.
"""
from __future__ import annotations

import polars as pl

from corpus_assets.core.dedup_text import remove_boilerplate_df
from corpus_assets.core.pii import PII_TYPES, mask_pii_column
from corpus_assets.core.safety import compute_safety
from corpus_assets.core.signals import compute_signals

KEY_COLUMNS = ["doc_id", "crawl", "shard"]
SIGNALS_INPUT = KEY_COLUMNS + ["url", "url_host", "text", "lang", "lang_score", "n_chars"]
PII_COUNT_COLUMNS = [f"pii_{kind}_count" for kind in PII_TYPES]


def signals_frame(docs: pl.DataFrame, blocklist, badwords, safety_thresholds=None) -> pl.DataFrame:
    """One row per document: keys, url, lang, every quality signal, PII counts and safety tags."""
    quality = compute_signals(docs.select("doc_id", "text", "lang"))
    pii = mask_pii_column(docs.select("doc_id", "text")).select(["doc_id", *PII_COUNT_COLUMNS])
    safety_args = (blocklist, badwords) if safety_thresholds is None else (blocklist, badwords, safety_thresholds)
    safety = compute_safety(docs.select("doc_id", "url", "text", "lang"), *safety_args)
    return (docs.select(*KEY_COLUMNS, "url", "lang", "lang_score", "n_chars")
            .join(quality, on="doc_id", how="left", maintain_order="left")
            .join(pii, on="doc_id", how="left", maintain_order="left")
            .join(safety, on="doc_id", how="left", maintain_order="left"))


def corpus_frame(docs: pl.DataFrame, boilerplate: pl.DataFrame | None = None,
                 text_hashes: pl.DataFrame | None = None) -> pl.DataFrame:
    """Kept documents as training rows: boilerplate lines (`url_host, line_hash`) removed (documents
    left empty are dropped), then PII
    masked (raw text never leaves `documents`); `text_hashes` (`doc_id, text_hash`) joined when given."""
    if boilerplate is not None:  # a page that is all boilerplate leaves the corpus (no empty rows)
        docs = remove_boilerplate_df(docs, boilerplate).filter(pl.col("text").str.strip_chars() != "")
    if text_hashes is not None:
        docs = docs.join(text_hashes, on="doc_id", how="left", maintain_order="left")
    masked = mask_pii_column(docs.select("doc_id", "text"))
    return (docs.drop("text")
            .join(masked.select("doc_id", pl.col("text_masked").alias("text"), *PII_COUNT_COLUMNS),
                  on="doc_id", how="left", maintain_order="left")
            .with_columns(n_chars=pl.col("text").str.len_chars().cast(pl.Int64)))
