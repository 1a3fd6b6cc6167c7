"""Deduplication: per-shard text hashes, boilerplate lines and MinHash band keys; global clusters."""
import tempfile
import time
from typing import Optional

import dagster as dg
import polars as pl
from pydantic import Field

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_assets.core.dedup.boilerplate import (DocumentHashes, count_host_lines, crawl_boilerplate, minhash_text,
                                                  stale_boilerplate_shards)
from corpus_assets.core.dedup.clustering import DedupDB, cluster_band_keys, cluster_incremental
from corpus_assets.core.dedup.clusters import final_clusters
from corpus_assets.core.dedup.text import text_and_line_hashes, text_hash
from corpus_assets.core.lake.delta_tables import (iter_file_batches, overwrite_table, partition_files,
                                                  partition_fingerprints, partition_row_count, replace_partition,
                                                  replace_partition_frame, table_exists)
from corpus_assets.core.dedup.minhash import minhash_tables
from corpus_assets.core.dedup.settings import check_one_minhash_config
from corpus_assets.core.ingest.shards import Shard
from corpus_assets.defs.dedup.settings import DedupSettings
from corpus_assets.defs.signals.assets import decisions
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import DEDUP, DEDUP_POOL, INGEST, phase

SIGNATURE_INPUT = ["doc_id", "crawl", "shard", "url", "url_host", "fetch_time", "text", "lang"]
BATCH_ROWS = 5000  # documents per batch: memory is bounded by one batch, not by the shard
SIGNATURES_SCHEMA = pa.schema([("doc_id", pa.string()), ("crawl", pa.string()), ("shard", pa.string()),
                               ("url", pa.string()), ("fetch_time", pa.timestamp("us", "UTC")),
                               ("text_hash", pa.int64()), ("n_boilerplate_lines", pa.int32()),
                               ("minhash_status", pa.string()), ("n_shingles", pa.int32()),
                               ("signature", pa.binary()), ("minhash_config", pa.string())])
BANDS_SCHEMA = pa.schema([("doc_id", pa.string()), ("band", pa.int16()), ("band_key", pa.int64()),
                          ("crawl", pa.string()), ("shard", pa.string())])
COUNTS_SCHEMA = pa.schema([("url_host", pa.string()), ("line_hash", pa.int64()), ("docs", pa.int32()),
                           ("crawl", pa.string()), ("shard", pa.string())])


class DedupClustersConfig(dg.Config):
    # the process peaks ~0.25 GB above it (interpreter, Dagster, DuckDB outside its buffer pool): 1 GB made 2 GB at 1M
    # docs, 512MB 0.75 GB (benchmarks/results/shard_memory.md)
    memory_limit: str = Field(default="512MB", description="DuckDB memory limit of the global step; it spills beyond it")
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
                     description="Line hashes of this shard repeated across documents of a host in the whole crawl "
                                 "(CCNet-style, counted over every shard of the crawl so far)."),
        dg.AssetSpec("host_line_counts", deps=["documents"], group_name="dedup", kinds={"delta", "duckdb"},
                     tags=phase(INGEST), description="Documents of this shard per (host, line hash): the crawl-wide "
                                                     "boilerplate counts, kept incrementally like the band index."),
    ],
    partitions_def=warc_shards,
)
def dedup_signatures(context: dg.AssetExecutionContext, dedup_settings: DedupSettings, warehouse: Warehouse):
    """Hash only this shard's documents, in batches (memory bounded by the batch): pass 1 normalises each
    text once, counts each host's lines and keeps every document's text and line hashes in a temporary
    Parquet file; the crawl's counts say which lines are boilerplate; pass 2 takes the hashes back and
    MinHashes (word 5-grams; character 5-grams for CJK) the text without boilerplate and link-like lines,
    writing each batch as it goes."""
    shard = shard_of(context)
    partition = delta_partition(shard)
    options = warehouse.options()
    started = time.perf_counter()
    documents_uri, counts_uri = warehouse.table_uri("documents"), warehouse.table_uri("host_line_counts")
    files = partition_files(documents_uri, partition, options)
    hasher = dedup_settings.hasher()
    with tempfile.TemporaryDirectory() as tmp:
        with DedupDB(dedup_settings.memory_limit, tmp) as db:  # closed before pass 2: its memory comes back
            # host boilerplate is a trait of crawled pages (site templates); imported texts are taken as they are
            crawled = files if isinstance(shard, Shard) else []
            hashes_path = f"{tmp}/hashes.parquet" if crawled else None  # pass 2 reuses pass 1's hashes
            lines = count_host_lines(iter_file_batches(crawled, partition, ["doc_id", "url_host", "text"], BATCH_ROWS),
                                     db, hashes_path)
            replace_partition(counts_uri, lambda: (_with_partition(b, partition) for b in lines), COUNTS_SCHEMA,
                              partition, options)
            common = crawl_boilerplate(db, counts_uri, partition["crawl"], partition["shard"],
                                       dedup_settings.boilerplate_min_docs)
            counted = db.con.execute("SELECT count(*) FROM shard_lines").fetchall()[0][0]
        by_host = {host: frozenset(hashes) for host, hashes in common.group_by("url_host").agg("line_hash").iter_rows()}
        totals = {"documents": 0, "boilerplate_lines_removed": 0, "band_rows": 0}
        status: dict[str, int] = {}
        bands_path = f"{tmp}/bands.parquet"
        bands_writer = pq.ParquetWriter(bands_path, BANDS_SCHEMA)

        def signature_batches():
            hashes = DocumentHashes(hashes_path, BATCH_ROWS)
            for docs in iter_file_batches(files, partition, SIGNATURE_INPUT, BATCH_ROWS):
                signatures, bands = signature_frames(docs, by_host, hasher, hashes.take(docs))
                totals["documents"] += signatures.height
                totals["boilerplate_lines_removed"] += int(signatures["n_boilerplate_lines"].sum() or 0)
                totals["band_rows"] += bands.height
                for key, n in signatures.group_by("minhash_status").len().iter_rows():
                    status[key] = status.get(key, 0) + n
                bands_writer.write_table(bands.with_columns(crawl=pl.lit(shard.crawl), shard=pl.lit(partition["shard"]))
                                         .to_arrow().cast(BANDS_SCHEMA))
                yield from signatures.to_arrow().cast(SIGNATURES_SCHEMA).to_batches()

        try:
            replace_partition(warehouse.table_uri("dedup_signatures"), signature_batches, SIGNATURES_SCHEMA, partition,
                              options)
        finally:
            bands_writer.close()
        replace_partition(warehouse.table_uri("minhash_bands"),
                          lambda: pq.ParquetFile(bands_path).iter_batches(100_000), BANDS_SCHEMA, partition, options)
        boilerplate = common.with_columns(crawl=pl.lit(shard.crawl), shard=pl.lit(partition["shard"]))
        replace_partition_frame(warehouse.table_uri("boilerplate_lines"), boilerplate, partition, options)
    seconds = time.perf_counter() - started
    yield dg.MaterializeResult(asset_key="dedup_signatures", metadata={
        "dagster/row_count": totals["documents"],
        "documents": totals["documents"], "minhash_status": status, "minhash_config": hasher.config_id,
        "boilerplate_lines_removed": totals["boilerplate_lines_removed"],
        "seconds": round(seconds, 2), "signatures_per_s": round(totals["documents"] / max(seconds, 1e-9), 1)})
    yield dg.MaterializeResult(asset_key="minhash_bands", metadata={"dagster/row_count": totals["band_rows"],
                                                                    "rows": totals["band_rows"], "bands": hasher.bands,
                                                                    "rows_per_band": hasher.rows})
    yield dg.MaterializeResult(asset_key="boilerplate_lines", metadata={"dagster/row_count": boilerplate.height,
                                                                        "lines": boilerplate.height,
                                                                        "hosts": boilerplate["url_host"].n_unique()})
    yield dg.MaterializeResult(asset_key="host_line_counts", metadata={
        "dagster/row_count": partition_row_count(warehouse.table_uri("host_line_counts"), partition, options),
        "document_lines": counted})


def _with_partition(batch: pa.RecordBatch, partition: dict[str, str]) -> pa.RecordBatch:
    n = batch.num_rows
    return pa.RecordBatch.from_arrays(
        [batch.column(0), batch.column(1), batch.column(2), pa.array([partition["crawl"]] * n, pa.string()),
         pa.array([partition["shard"]] * n, pa.string())], schema=COUNTS_SCHEMA)


def signature_frames(docs: pl.DataFrame, by_host: dict[str, frozenset[int]], hasher,
                     hashes: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One batch of documents -> (`dedup_signatures` rows, band keys). `hashes`: the batch's
    `boilerplate.document_hashes` when pass 1 kept them (else each text is normalised here, once)."""
    empty: frozenset[int] = frozenset()
    texts, commons = docs["text"].to_list(), [by_host.get(host, empty) for host in docs["url_host"].to_list()]
    if hashes is not None:
        text_hashes, lines = hashes["text_hash"].to_list(), hashes["line_hashes"].to_list()
    else:  # line hashes only where the host has boilerplate to remove
        found = [text_and_line_hashes(t) if common else (text_hash(t or ""), None) for t, common in zip(texts, commons)]
        text_hashes, lines = [h for h, _ in found], [line for _, line in found]
    seen = [minhash_text(text, common, hashes=line) for text, common, line in zip(texts, commons, lines)]
    cleaned = docs.select("doc_id", "lang").with_columns(pl.Series("text", [t for t, _ in seen], dtype=pl.String))
    tables = minhash_tables(cleaned, hasher)
    signatures = (docs.select("doc_id", "crawl", "shard", "url", "fetch_time")
                  .with_columns(pl.Series("text_hash", text_hashes, dtype=pl.Int64),
                                pl.Series("n_boilerplate_lines", [n for _, n in seen], dtype=pl.Int32))
                  .join(tables.docs, on="doc_id", how="left", maintain_order="left")
                  .with_columns(minhash_config=pl.lit(hasher.config_id)))
    return signatures, tables.band_keys


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
    # first, while the process is small: the step's own memory would come on top of what clustering leaves
    stale = _stale_boilerplate(warehouse, dedup_settings)
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
            result.clusters.write_parquet(fuzzy_path)  # type: ignore[union-attr]
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
    if stale:
        context.log.warning(f"{len(stale)} shard(s) were hashed before later shards made more of their hosts' lines "
                            f"boilerplate ({stale[0]}, ...): re-materialize their dedup_signatures for full recall")
    return dg.MaterializeResult(metadata={
        "mode": mode,
        "minhash_config": minhash_config or "",
        "shards": len(current),
        "new_shards": len(new),
        "rewritten_shards": len(changed),
        "dagster/row_count": rows,
        "documents_in_clusters": rows,
        "clusters": after["cluster_id"].n_unique(),
        "members_by_kind": counts,
        "duplicates_removed": int((~after["is_kept"]).sum()),
        "affected_partitions": dg.MetadataValue.json(affected),
        "stale_boilerplate_shards": dg.MetadataValue.json(stale),
        "seconds": round(time.perf_counter() - started, 2),
    })


def _stale_boilerplate(warehouse: Warehouse, settings: DedupSettings) -> list[str]:
    counts, used = warehouse.table_uri("host_line_counts"), warehouse.table_uri("boilerplate_lines")
    if warehouse.options() or not (table_exists(counts) and table_exists(used)):
        return []  # DuckDB reads object stores with its own credentials: not configured here
    return stale_boilerplate_shards(counts, used, settings.boilerplate_min_docs, settings.memory_limit)


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
