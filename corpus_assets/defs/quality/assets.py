"""Model-based quality: the `quality_model` (global) and `quality_scores` (per shard) assets.

Order in the graph, and why: the model learns from the pages the rule filters keep (documents and
signals of every shard, PII-masked; see `core/scoring/pool.py`) or from ratings, never from `corpus`,
which is itself cut by the scores. Scores are computed for every document of a shard by the active
model; `decisions` then applies the filter config's rules and quality thresholds; dedup prefers the
higher score as a cluster's representative; `corpus` carries each row's score and model version.

    documents ─┬─ signals ─┬──────────────────────── decisions ── dedup_clusters ── corpus
               │           └─ quality_model ─┐          │
               └─────────────────────────────┴─ quality_scores
"""

import time
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

import dagster as dg
import polars as pl
from pydantic import Field

from corpus_assets.core.lake.delta_tables import replace_table_frame, table_exists, transform_partition
from corpus_assets.core.package_data import default_filter_config
from corpus_assets.core.quality.decisions import decide
from corpus_assets.core.quality.filter_config import load_filter_config
from corpus_assets.core.scoring import registry
from corpus_assets.core.scoring.build import build_model
from corpus_assets.core.scoring.labels import LabelSettings
from corpus_assets.core.scoring.pool import POOL_COLUMNS, select_pool_ids
from corpus_assets.core.scoring.training import TrainSettings
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import MODEL, SCORE, phase
from corpus_assets.defs.quality.metadata import (auc_by_lang_markdown, label_counts_markdown, mean_by_markdown,
                                                 measures_markdown, thresholds_markdown)
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.defs.table_metadata import counts_markdown, table_definition_metadata

RATINGS_TABLE = "quality_ratings"
RATING_COLUMNS = ["doc_id", "rater", "rating", "rated_at"]


class QualityModelConfig(dg.Config):
    filter_config: Optional[str] = Field(default=None, description="the rules whose kept pages the model learns "
                                         "from (YAML; default: the packaged configs/filters.yaml, as decisions)")
    min_rated_docs: int = Field(default=200, ge=1, description="train from ratings once this many documents are rated")
    max_pool_docs: int = Field(default=100_000, ge=100, description="at most this many rule-kept pages in the pool "
                               "(allow-listed hosts and rated pages always stay; the rest is a hash sample)")
    host_grouped_folds: int = Field(default=5, ge=0, description="folds of whole hosts for the host-grouped AUC "
                                    "(0 skips it: a third less training time)")
    retrain: bool = Field(default=False, description="train a new version even if one learned from the same labels")


def models_root(warehouse: Warehouse) -> Path:
    """`<warehouse>/_models/quality`: model files live beside the tables (local warehouses only for now)."""
    root = warehouse.root()
    if urlparse(root).scheme not in ("", "file"):
        raise ValueError(f"quality model files need a local warehouse; {root} is an object store")
    return registry.models_root(root)


def _read_ratings(warehouse: Warehouse) -> Optional[pl.DataFrame]:
    uri = warehouse.table_uri(RATINGS_TABLE)
    if not table_exists(uri, warehouse.options()):
        return None
    return pl.scan_delta(uri, storage_options=warehouse.options()).select(RATING_COLUMNS).collect()


def _scan(warehouse: Warehouse, table: str) -> pl.LazyFrame:
    return pl.scan_delta(warehouse.table_uri(table), storage_options=warehouse.options())


@dg.asset(group_name="quality", kinds={"fasttext", "delta"}, deps=["documents", "signals"], tags=phase(MODEL),
          metadata=table_definition_metadata("quality_models"))
def quality_model(context: dg.AssetExecutionContext, config: QualityModelConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """A calibrated fastText quality model: trained on `quality_ratings` when enough documents are rated,
    else on the bootstrap (reference text and allow-listed hosts against random rule-kept pages). Saved
    as a new version under `<warehouse>/_models/quality/`, activated only if its held-out AUC is no worse
    than the active version's on the same held-out labels; thresholds (token-weighted score percentiles
    per language) stored with it; one row per version in the Delta table `quality_models`. A version
    whose labels equal an existing one's is reused, not retrained."""
    started = time.perf_counter()
    root = models_root(warehouse)
    filters = load_filter_config(config.filter_config or default_filter_config())
    label_settings = LabelSettings(min_rated_docs=config.min_rated_docs)
    ratings = _read_ratings(warehouse)
    rated = set(ratings["doc_id"].to_list()) if ratings is not None else set()
    verdicts = decide(_scan(warehouse, "signals").collect(), filters)
    candidates = _scan(warehouse, "documents").select("doc_id", "url_host").unique("doc_id").collect()
    pool_ids = select_pool_ids(candidates, verdicts.filter("keep")["doc_id"].to_list(), rated,
                               label_settings.reference_hosts, config.max_pool_docs)
    wanted = set(pool_ids) | rated
    texts = (_scan(warehouse, "documents").filter(pl.col("doc_id").is_in(sorted(wanted))).select(POOL_COLUMNS)
             .collect().unique("doc_id", keep="first").sort("doc_id"))
    in_pool = pl.col("doc_id").is_in(pool_ids)
    build = build_model(root, texts.filter(in_pool), ratings, texts.filter(~in_pool), label_settings,
                        TrainSettings(host_grouped_folds=config.host_grouped_folds), retrain=config.retrain)
    records = registry.model_records(root)
    replace_table_frame(warehouse.table_uri("quality_models"), records, warehouse.options())
    context.log.info(f"quality model version {build.version}: {build.decision}")
    counts = build.label_set.counts_by_lang()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": records.height,
        "version": build.version,
        "active_version": build.active,
        "trained": build.trained,
        "decision": build.decision,
        "label_source": build.label_set.source,
        "labels": build.label_set.frame.height,
        "ratings_read": 0 if ratings is None else ratings.height,
        "pool_pages": len(pool_ids),
        "heldout_auc": build.metrics.get("auc"),
        "heldout_auc_ci95": dg.MetadataValue.json(build.metrics.get("auc_ci95") or []),
        "spearman": build.metrics.get("spearman"),
        "ece": build.metrics.get("ece"),
        "host_baseline_auc": build.metrics.get("host_baseline_auc"),
        "measures": measures_markdown(build.metrics),
        "auc_by_language": auc_by_lang_markdown(build.metrics),
        "labels_by_language": label_counts_markdown(build.manifest["label_counts"]),
        "label_sources": counts_markdown(dict(build.label_set.frame.group_by("source").len().iter_rows()), "source",
                                         "labels"),
        "positives_by_language": counts_markdown({k: v["positive"] for k, v in counts.items()}, "language", "positive"),
        "thresholds": thresholds_markdown(build.percentiles),
        "models": dg.MetadataValue.json(build.manifest["model_keys"]),
        "model_dir": dg.MetadataValue.path(str(root / str(build.version))),
        "seconds": round(time.perf_counter() - started, 2),
    })


@lru_cache(maxsize=2)
def _scorer(root: str, version: int):
    """One loaded version per worker process (model files are read once, not once per shard)."""
    return registry.load_scorer(Path(root), version)


def active_scorer(warehouse: Warehouse):
    root = models_root(warehouse)
    version = registry.active_version(root)
    if version is None:
        raise ValueError(f"no active quality model under {root}: materialize quality_model first "
                         "(corpus materialize --select quality_model)")
    return _scorer(str(root), version)


SCORE_INPUT = ["doc_id", "crawl", "shard", "lang", "text"]


def score_frame(scorer, docs: pl.DataFrame) -> pl.DataFrame:
    """`doc_id, crawl, shard, quality_score, quality_bucket, model_version` for a batch of documents."""
    result = scorer.score(docs["text"].to_list(), docs["lang"].to_list())
    return docs.select("doc_id", "crawl", "shard").with_columns(
        pl.Series("quality_score", result.quality_score, dtype=pl.Float64),
        pl.Series("quality_bucket", result.quality_bucket, dtype=pl.Int8),
        pl.lit(result.model_version, dtype=pl.Int64).alias("model_version"))


@dg.asset(partitions_def=warc_shards, group_name="quality", kinds={"delta", "fasttext"},
          deps=["documents", quality_model], tags=phase(SCORE), metadata=table_definition_metadata("quality_scores"))
def quality_scores(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every document of the shard scored by the active quality model: `quality_score` in [0, 1] reads as
    "probability that a rater gives >= 3", `quality_bucket` its tenth (0..9), and `model_version`.
    Re-scoring after a new version rewrites this table only; decisions, dedup and corpus follow it."""
    shard = shard_of(context)
    partition = delta_partition(shard)
    scorer = active_scorer(warehouse)
    started = time.perf_counter()
    summaries: list[pl.DataFrame] = []  # per batch: documents and score sums by (lang, bucket); memory by the batch

    def score_batch(docs: pl.DataFrame) -> pl.DataFrame:
        scored = score_frame(scorer, docs)
        summaries.append(scored.with_columns(docs["lang"]).group_by("lang", "quality_bucket").agg(
            pl.len().alias("n"), pl.col("quality_score").sum().alias("total")))
        return scored

    rows = transform_partition(warehouse.table_uri("documents"), warehouse.table_uri("quality_scores"), partition,
                               score_batch, columns=SCORE_INPUT, storage_options=warehouse.options())
    seconds = time.perf_counter() - started
    summary = pl.concat(summaries)
    by_lang = (summary.group_by("lang").agg(pl.col("n").sum().alias("len"), pl.col("total").sum())
               .select("lang", "len", (pl.col("total") / pl.col("len")).alias("quality_score"))
               .sort(["len", "lang"], descending=[True, False]))
    buckets = {str(k): v for k, v in summary.group_by("quality_bucket").agg(pl.col("n").sum()).sort("quality_bucket")
               .iter_rows()}
    mean_score = round(float(summary["total"].sum() / rows), 4) if rows else None
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "model_version": scorer.version,
        "mean_score": mean_score,
        "documents_by_bucket": dg.MetadataValue.json(buckets),
        "mean_score_by_language": mean_by_markdown(list(by_lang.iter_rows()), "language"),
        "seconds": round(seconds, 2),
        "docs_per_s": round(rows / max(seconds, 1e-9), 1),
    })
