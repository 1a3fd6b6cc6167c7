"""The `signals` table's rows: quality signals, PII counts and safety tags of documents (no text leaves this step)."""
from __future__ import annotations

import polars as pl

from corpus_assets.core.privacy.pii import PII_TYPES, mask_pii_column
from corpus_assets.core.quality.signals import compute_signals
from corpus_assets.core.safety.tags import compute_safety

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
