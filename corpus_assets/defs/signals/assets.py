"""Silver: quality signals, PII counts and safety tags per document; keep/drop decisions from a config."""
import time
from collections import Counter
from functools import lru_cache
from typing import Optional

import dagster as dg
import polars as pl
from pydantic import Field

from corpus_assets.core.lake.delta_tables import read_partition, transform_partition
from corpus_assets.core.lake.lookup import rows_for
from corpus_assets.core.quality.filter_config import config_hash, load_filter_config
from corpus_assets.core.quality.decisions import decide
from corpus_assets.core.quality.quality_cut import QUALITY_REASON, quality_cut
from corpus_assets.core.safety.badwords import BadWords
from corpus_assets.core.safety.blocklist import UrlBlocklist
from corpus_assets.core.quality.signals_table import SIGNALS_INPUT, signals_frame
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.core.package_data import default_filter_config
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import INGEST, SCORE, phase
from corpus_assets.defs.table_metadata import counts_markdown, table_definition_metadata



@lru_cache(maxsize=4)
def _safety_lists(blocklist_path: Optional[str], wordlist_dir: Optional[str]):
    blocklist = UrlBlocklist.load(blocklist_path) if blocklist_path else UrlBlocklist.default()
    return blocklist, BadWords.load(wordlist_dir)


class SignalsConfig(dg.Config):
    url_blocklist: Optional[str] = Field(
        default=None, description="domain/URL blocklist (file, folder or UT1 .tar.gz); default: the small bundled list")
    wordlists: Optional[str] = Field(default=None, description="folder of ldnoobw-<lang>.txt lists; default: bundled")


class DecisionsConfig(dg.Config):
    filter_config: Optional[str] = Field(default=None, description="filter thresholds (YAML file); default: the "
                                         "packaged configs/filters.yaml")


@dg.asset(partitions_def=warc_shards, group_name="signals", kinds={"delta", "polars"}, deps=["documents"],
          tags=phase(INGEST), metadata=table_definition_metadata("signals"))
def signals(context: dg.AssetExecutionContext, config: SignalsConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per document: Gopher quality and repetition, C4 and FineWeb line signals (CJK-aware word
    segmentation), PII counts by type, and safety tags (URL blocklist, bad-word ratio). Numbers, not
    verdicts: `decisions` applies thresholds. No text is stored here."""
    shard = shard_of(context)
    blocklist, badwords = _safety_lists(config.url_blocklist, config.wordlists)
    started = time.perf_counter()
    rows = transform_partition(warehouse.table_uri("documents"), warehouse.table_uri("signals"),
                               delta_partition(shard), lambda docs: signals_frame(docs, blocklist, badwords),
                               columns=SIGNALS_INPUT, storage_options=warehouse.options())
    seconds = time.perf_counter() - started
    table = read_partition(warehouse.table_uri("signals"), delta_partition(shard),
                           ["safety_tags", "pii_email_count", "pii_phone_count"], warehouse.options())
    tags = table.select(pl.col("safety_tags").explode().drop_nulls().value_counts(sort=True)).unnest("safety_tags")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "safety_tags": counts_markdown(dict(tags.iter_rows()), "safety tag"),
        "docs_with_email": int((table["pii_email_count"] > 0).sum()),
        "docs_with_phone": int((table["pii_phone_count"] > 0).sum()),
        "seconds": round(seconds, 2),
        "docs_per_s": round(rows / max(seconds, 1e-9), 1),
    })


def _scores(warehouse: Warehouse, partition: dict[str, str]) -> pl.DataFrame:
    """The shard's quality scores (`doc_id, quality_score, model_version`)."""
    from corpus_assets.core.lake.delta_tables import table_exists

    uri = warehouse.table_uri("quality_scores")
    if not table_exists(uri, warehouse.options()):
        raise ValueError("decisions need quality_scores: materialize quality_model and quality_scores first")
    return read_partition(uri, partition, ["doc_id", "quality_score", "model_version"], warehouse.options())


def _percentiles(warehouse: Warehouse, versions: list[int]) -> Optional[dict]:
    """The stored thresholds of the model version that scored the shard."""
    from corpus_assets.core.scoring import registry
    from corpus_assets.defs.quality.assets import models_root

    if len(versions) != 1:
        return None
    try:
        return registry.load_thresholds(models_root(warehouse), versions[0])
    except FileNotFoundError:
        return None


@dg.asset(partitions_def=warc_shards, group_name="signals", kinds={"delta", "polars"},
          deps=[signals, "quality_scores"], tags=phase(SCORE), metadata=table_definition_metadata("decisions"))
def decisions(context: dg.AssetExecutionContext, config: DecisionsConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """keep / drop_reasons per document from the versioned filter config (per-language thresholds) and its
    quality cut on `quality_scores` (`quality_threshold` and `quality_rule` say which threshold applied);
    the config hash is stored on every row. Changing the config re-runs only this step."""
    shard = shard_of(context)
    filters = load_filter_config(config.filter_config or default_filter_config())
    started = time.perf_counter()
    scores = _scores(warehouse, delta_partition(shard))
    versions = sorted(set(scores["model_version"].drop_nulls().to_list()))
    percentiles = _percentiles(warehouse, versions) if filters.quality_rules else None
    # metadata, counted as the rows are written: the shard's verdicts are never held or read again
    reasons: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    rules: Counter[str] = Counter()

    def apply(frame: pl.DataFrame) -> pl.DataFrame:
        verdicts = decide(frame, filters)
        rows = (frame.select("doc_id", "crawl", "shard", "url", "lang")
                .join(verdicts, on="doc_id", how="left", maintain_order="left")
                .join(rows_for(scores, frame), on="doc_id", how="left", maintain_order="left"))
        if filters.quality_rules and rows["quality_score"].null_count():
            raise ValueError(f"{rows['quality_score'].null_count()} documents of {shard.key} have no quality score: "
                             "re-materialize quality_scores for this shard")
        cut = quality_cut(rows["doc_id"].to_list(), rows["lang"].to_list(), rows["quality_score"].to_list(),
                          filters, percentiles)
        fails = ~cut["quality_passes"]
        out = rows.with_columns(
            pl.when(pl.Series(fails)).then(pl.col("drop_reasons").list.concat(pl.lit([QUALITY_REASON])))
            .otherwise(pl.col("drop_reasons")).alias("drop_reasons"),
            (pl.col("keep") & pl.Series(~fails)).alias("keep"),
            cut["quality_threshold"], cut["quality_rule"])
        reasons.update(out["drop_reasons"].explode().drop_nulls().to_list())
        langs.update(out.filter("keep")["lang"].to_list())
        rules.update(out["quality_rule"].drop_nulls().to_list())
        return out

    rows = transform_partition(warehouse.table_uri("signals"), warehouse.table_uri("decisions"),
                               delta_partition(shard), apply, storage_options=warehouse.options())
    kept = sum(langs.values())  # kept documents, each counted under its language
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "kept": kept,
        "dropped": rows - kept,
        "kept_share": round(kept / rows, 3) if rows else 0.0,
        "drops_by_reason": counts_markdown(dict(reasons.most_common()), "drop reason"),
        "kept_by_language": counts_markdown(dict(langs.most_common()), "language"),
        "filter_config": config.filter_config or "configs/filters.yaml (packaged)",
        "filter_config_hash": config_hash(filters),
        "quality_model_version": versions[0] if len(versions) == 1 else None,
        "quality_rules": counts_markdown(dict(rules.most_common()), "quality threshold"),
        "seconds": round(time.perf_counter() - started, 2),
    })
