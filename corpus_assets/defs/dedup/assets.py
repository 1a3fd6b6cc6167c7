"""Deduplication: per-shard text hashes, boilerplate lines and MinHash band keys; global clusters."""
import tempfile
import time
from typing import Optional

import dagster as dg
import polars as pl
from pydantic import Field

from corpus_assets.core.dedup.clustering import cluster_band_keys, cluster_incremental
from corpus_assets.core.dedup.clusters import final_clusters
from corpus_assets.core.dedup.text import add_text_hash, boilerplate_line_hashes, remove_boilerplate_df
from corpus_assets.core.lake.delta_tables import (overwrite_table, partition_files, partition_fingerprints, read_partition,
                                             replace_partition_frame, table_exists)
from corpus_assets.core.dedup.minhash import minhash_tables
from corpus_assets.core.dedup.settings import check_one_minhash_config
from corpus_assets.defs.dedup.settings import DedupSettings
from corpus_assets.defs.signals.assets import decisions
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import DEDUP, DEDUP_POOL, INGEST, phase

SIGNATURE_INPUT = ["doc_id", "crawl", "shard", "url", "url_host", "fetch_time", "text", "lang"]


class DedupClustersConfig(dg.Config):
    memory_limit: str = Field(default="1GB", description="DuckDB memory limit of the global step; it spills beyond it")
    temp_directory: Optional[str] = Field(default=None, description="spill folder (default: system temp)")
    incremental: bool = Field(default=True, description="match only new shards against the stored band index")
    verify_threshold: Optional[float] = Field(
        default=None, ge=0.0, le=1.0, description="override dedup_settings.verify_threshold for this run (a "
        "stricter or looser verification changes no signature); verified runs with an override are full runs")


@dg.multi_asset(
    specs=[
        dg.AssetSpec("dedup_signatures", deps=["documents"], group_name="dedup", kinds={"delta", "polars"}, tags=phase(INGEST),
                     description="Per document: exact-text hash, boilerplate lines removed, MinHash status and signature."),
        dg.AssetSpec("minhash_bands", deps=["documents"], group_name="dedup", kinds={"delta", "polars"}, tags=phase(INGEST),
                     description="LSH band index: one row per document and band (doc_id, band, band_key)."),
        dg.AssetSpec("boilerplate_lines", deps=["documents"], group_name="dedup", kinds={"delta", "polars"}, tags=phase(INGEST),
                     description="Line hashes repeated across documents of a host in the shard (CCNet-style)."),
    ],
    partitions_def=warc_shards,
)
def dedup_signatures(context: dg.AssetExecutionContext, dedup_settings: DedupSettings, warehouse: Warehouse):
    """Hash only this shard's documents: exact hash of the normalised text, boilerplate lines of each
    host, then MinHash (word 5-grams; character 5-grams for CJK) on the text without boilerplate."""
    shard = shard_of(context)
    partition = delta_partition(shard)
    started = time.perf_counter()
    docs = read_partition(warehouse.table_uri("documents"), partition, SIGNATURE_INPUT, warehouse.options())
    common = boilerplate_line_hashes(docs, dedup_settings.boilerplate_min_docs)
    cleaned = remove_boilerplate_df(docs.select("doc_id", "url_host", "text", "lang"), common)
    hasher = dedup_settings.hasher()
    tables = minhash_tables(cleaned, hasher)
    signatures = (docs.select("doc_id", "crawl", "shard", "url", "fetch_time")
                  .join(add_text_hash(docs.select("doc_id", "text")).select("doc_id", "text_hash"), on="doc_id",
                        maintain_order="left")
                  .join(cleaned.select("doc_id", "n_boilerplate_lines"), on="doc_id", maintain_order="left")
                  .join(tables.docs, on="doc_id", how="left", maintain_order="left")
                  .with_columns(minhash_config=pl.lit(hasher.config_id)))
    bands = tables.band_keys.with_columns(crawl=pl.lit(shard.crawl), shard=pl.lit(partition["shard"]))
    lines = common.with_columns(crawl=pl.lit(shard.crawl), shard=pl.lit(partition["shard"]))
    for table, frame in (("dedup_signatures", signatures), ("minhash_bands", bands), ("boilerplate_lines", lines)):
        replace_partition_frame(warehouse.table_uri(table), frame, partition, warehouse.options())
    seconds = time.perf_counter() - started
    status = dict(signatures.group_by("minhash_status").len().iter_rows())
    yield dg.MaterializeResult(asset_key="dedup_signatures", metadata={
        "documents": signatures.height, "minhash_status": status,
        "boilerplate_lines_removed": int(signatures["n_boilerplate_lines"].sum() or 0),
        "seconds": round(seconds, 2), "signatures_per_s": round(signatures.height / max(seconds, 1e-9), 1)})
    yield dg.MaterializeResult(asset_key="minhash_bands", metadata={"rows": bands.height, "bands": hasher.bands,
                                                                    "rows_per_band": hasher.rows})
    yield dg.MaterializeResult(asset_key="boilerplate_lines", metadata={"lines": lines.height,
                                                                        "hosts": lines["url_host"].n_unique()})


def _read_state(warehouse: Warehouse) -> dict[str, str]:
    uri = warehouse.table_uri("dedup_state")
    if not table_exists(uri, warehouse.options()):
        return {}
    state = pl.read_delta(uri, storage_options=warehouse.options())
    return dict(state.select("partition", "fingerprint").iter_rows())


@dg.asset(
    group_name="dedup", kinds={"delta", "duckdb"}, deps=["dedup_signatures", "minhash_bands", decisions], tags=phase(DEDUP),
    # one run absorbs every shard updated since the last one; never two at once (pool limit 1, see
    # cli/instance.py); unlike eager(), a failed or not-yet-ingested shard does not hold it back
    automation_condition=(dg.AutomationCondition.any_deps_updated().since_last_handled()
                          & ~dg.AutomationCondition.in_progress()).with_label("absorb updated shards"),
    pool=DEDUP_POOL,
)
def dedup_clusters(context: dg.AssetExecutionContext, config: DedupClustersConfig, dedup_settings: DedupSettings,
                   warehouse: Warehouse) -> dg.MaterializeResult:
    """Clusters of duplicate documents across all shards and crawls: exact text, same URL re-crawled,
    and MinHash-LSH near-duplicates (connected components), one row per member of a cluster of two or
    more, with one deterministic representative (`is_kept`). Incremental: only shards added since the
    last run are matched against the stored band index; a re-written shard triggers a full run."""
    started = time.perf_counter()
    options = warehouse.options()
    bands_uri, fuzzy_uri = warehouse.table_uri("minhash_bands"), warehouse.table_uri("dedup_fuzzy_clusters")
    signatures_uri = warehouse.table_uri("dedup_signatures")
    # signatures of different settings never match: stop here rather than lose duplicates silently
    minhash_config = check_one_minhash_config(
        pl.scan_delta(signatures_uri, storage_options=options).select("crawl", "shard", "minhash_config").unique()
        .collect(), dedup_settings.hasher().config_id)
    current = partition_fingerprints(bands_uri, options)
    previous = _read_state(warehouse)
    changed = sorted(key for key, fingerprint in previous.items() if current.get(key) != fingerprint)
    new = sorted(set(current) - set(previous))
    threshold = config.verify_threshold if config.verify_threshold is not None else dedup_settings.verify_threshold
    verify = threshold is not None
    # a threshold override re-verifies every stored pair: a full run; the settings' own threshold is incremental
    override = config.verify_threshold is not None
    incremental = (config.incremental and not override and previous and not changed
                   and table_exists(fuzzy_uri, options))

    def files(keys):
        return [f for key in keys for f in partition_files(bands_uri, dict(zip(("crawl", "shard"), key.split("/"))),
                                                           options)]

    with tempfile.TemporaryDirectory(dir=config.temp_directory) as tmp:
        fuzzy_path = f"{tmp}/fuzzy.parquet"
        if incremental and new:
            mode = "incremental, verified" if verify else "incremental"
            result = cluster_incremental(files(previous), fuzzy_uri, files(new), memory_limit=config.memory_limit,
                                         temp_directory=tmp, signatures=signatures_uri if verify else None,
                                         threshold=threshold)
            result.clusters.write_parquet(fuzzy_path)
        elif incremental:
            mode = "unchanged"
            pl.read_delta(fuzzy_uri, storage_options=options).write_parquet(fuzzy_path)
        else:
            mode = "full, verified" if verify else "full"
            cluster_band_keys(bands_uri, memory_limit=config.memory_limit, temp_directory=tmp, output_path=fuzzy_path,
                              signatures=signatures_uri if verify else None, threshold=threshold)
        context.log.info(f"fuzzy clustering: {mode} ({len(new)} new shards, {len(changed)} re-written)")
        overwrite_table(fuzzy_uri, [fuzzy_path], options)
        out_path = f"{tmp}/clusters.parquet"
        counts = final_clusters(warehouse.table_uri("dedup_signatures"), fuzzy_path, warehouse.table_uri("decisions"),
                                out_path, memory_limit=config.memory_limit, temp_directory=tmp)
        clusters_uri = warehouse.table_uri("dedup_clusters")
        before = (pl.read_delta(clusters_uri, columns=["doc_id", "crawl", "shard", "is_kept"], storage_options=options)
                  if table_exists(clusters_uri, options) else None)
        rows = overwrite_table(clusters_uri, [out_path], options)
        after = pl.read_parquet(out_path, columns=["doc_id", "crawl", "shard", "is_kept", "cluster_id"])
    state = pl.DataFrame({"partition": list(current), "fingerprint": list(current.values())}, schema=[
        ("partition", pl.String), ("fingerprint", pl.String)])
    state.write_delta(warehouse.table_uri("dedup_state"), mode="overwrite", storage_options=options)
    affected = _affected_partitions(before, after)
    return dg.MaterializeResult(metadata={
        "mode": mode,
        "minhash_config": minhash_config or "",
        "shards": len(current),
        "new_shards": len(new),
        "rewritten_shards": len(changed),
        "documents_in_clusters": rows,
        "clusters": after["cluster_id"].n_unique(),
        "members_by_kind": counts,
        "duplicates_removed": int((~after["is_kept"]).sum()),
        "affected_partitions": dg.MetadataValue.json(affected),
        "seconds": round(time.perf_counter() - started, 2),
    })


def _affected_partitions(before: Optional[pl.DataFrame], after: pl.DataFrame) -> list[str]:
    """Shards whose documents changed representative status: their `corpus` partitions are stale."""
    after = after.select("doc_id", "crawl", "shard", "is_kept")
    if before is None:
        changed = after.filter(~pl.col("is_kept"))
    else:
        joined = before.join(after, on="doc_id", how="full", suffix="_new", coalesce=True)
        changed = joined.filter(pl.col("is_kept").fill_null(True) != pl.col("is_kept_new").fill_null(True)).select(
            pl.coalesce("crawl", "crawl_new").alias("crawl"), pl.coalesce("shard", "shard_new").alias("shard"))
    return sorted({f"{c}/{s}" for c, s in changed.select("crawl", "shard").iter_rows()})
