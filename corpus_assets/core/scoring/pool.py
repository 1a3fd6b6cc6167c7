"""The pages a quality model learns from: the documents the rule filters keep, with their text
PII-masked as `corpus` text is (model files hold words; no e-mail address or phone number may become one).

Why not the `corpus` table itself: `corpus` is cut by the quality model's own scores, so a model that
learned from it would learn from what the previous model kept (each version narrowing the next one's
negatives), and a fresh warehouse has no corpus before its first model. The pages the rule filters keep
are the corpus before the quality cut and dedup, and exist as soon as `signals` does.

A bounded pool: above `max_docs` pages, every allow-listed host's page and every rated page stays, and the
rest is a sample by a hash of doc_id (reproducible, independent of input order).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import polars as pl

from corpus_assets.core.scoring.labels import LabelSet, host_matches
from corpus_assets.core.scoring.splits import unit_hashes

POOL_COLUMNS = ["doc_id", "lang", "url_host", "text", "n_chars"]


def select_pool_ids(candidates: pl.DataFrame, keep: Iterable[str], rated: Iterable[str],
                    reference_hosts: tuple[str, ...], max_docs: int, seed: int = 0) -> list[str]:
    """doc_ids of the pool from `candidates` (`doc_id, url_host`): the kept ones, bounded by `max_docs`
    (allow-listed hosts' and rated pages always stay)."""
    kept = candidates.filter(pl.col("doc_id").is_in(list(keep)))
    if kept.height <= max_docs:
        return sorted(kept["doc_id"].to_list())
    must = kept.filter(host_matches(kept["url_host"], reference_hosts) | pl.col("doc_id").is_in(list(rated)))
    rest = kept.filter(~pl.col("doc_id").is_in(must["doc_id"].implode()))
    order = unit_hashes(rest["doc_id"].to_list(), f"quality-pool-{seed}")
    room = max(0, max_docs - must.height)
    sampled = rest.with_columns(pl.Series("_key", order)).sort("_key").head(room)["doc_id"].to_list()
    return sorted(must["doc_id"].to_list() + sampled)


def masked_pool(documents: pl.DataFrame) -> pl.DataFrame:
    """`POOL_COLUMNS` of the given documents with PII masked in the text (the corpus' masking)."""
    from corpus_assets.core.privacy.pii import mask_pii_column

    masked = mask_pii_column(documents.select("doc_id", "text"))
    return (documents.select("doc_id", "lang", "url_host", "n_chars")
            .join(masked.select("doc_id", pl.col("text_masked").alias("text")), on="doc_id", how="left",
                  maintain_order="left")
            .select(POOL_COLUMNS))


def label_fingerprint(label_set: LabelSet, settings: dict) -> str:
    """A hash of what a version learns from: every label (doc_id, label, rating, text) and the settings.
    Equal fingerprints train the same model (fastText with one thread and a seed is deterministic)."""
    frame = label_set.frame.sort("doc_id")
    digest = hashlib.sha256(json.dumps({"source": label_set.source, "settings": settings}, sort_keys=True,
                                       default=str).encode())
    for doc_id, label, rating, text in frame.select("doc_id", "label", "rating", "text").iter_rows():
        digest.update(f"{doc_id}\t{label}\t{rating}\t".encode())
        digest.update(hashlib.sha256((text or "").encode()).digest())
    return digest.hexdigest()
