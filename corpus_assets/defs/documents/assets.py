"""Bronze: every HTML page of a shard as a row of the `documents` Delta table."""

from typing import Literal

import dagster as dg
from pydantic import Field

from corpus_assets.core.lake.delta_tables import replace_partition
from corpus_assets.core.ingest.documents import DOCUMENTS_SCHEMA, DocumentSettings, ShardStats, iter_shard_documents
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.defs.sources.partitions import delta_partition, shard_of, warc_shards
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import INGEST, phase
from corpus_assets.defs.sources.cc_source import CommonCrawlSource


class DocumentsConfig(dg.Config):
    record_format: Literal["warc", "wet"] = Field(
        default="warc", description="warc: extract main text from HTML; wet: use Common Crawl's extracted text (faster, noisier)")
    extractor: Literal["resiliparse", "trafilatura"] = Field(
        default="resiliparse", description="main-content extractor for WARC records")
    max_payload_bytes: int = Field(default=5 << 20, ge=1024, description="larger HTTP payloads are skipped as too_large")


@dg.asset(
    partitions_def=warc_shards,
    group_name="documents",
    tags=phase(INGEST),
    kinds={"delta", "pyarrow"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
)
def documents(context: dg.AssetExecutionContext, config: DocumentsConfig, cc_source: CommonCrawlSource,
              warehouse: Warehouse) -> dg.MaterializeResult:
    """Every HTTP-200 HTML response of the shard's WARC files: charset-decoded, main text extracted,
    language identified (fastText lid.176), with provenance back to the WARC record. Records that are
    not 200, not HTML, too large, undecodable or empty are counted by reason, not written."""
    shard = shard_of(context)
    source = cc_source.client()
    files = shard.select(source.list_files(shard.crawl, config.record_format))
    settings = DocumentSettings(record_format=config.record_format, extractor=config.extractor,
                                max_payload_bytes=config.max_payload_bytes)
    langid = LanguageIdentifier()
    stats = ShardStats()

    def batches():
        nonlocal stats
        stats = ShardStats()  # a retried commit re-reads the shard from scratch
        return iter_shard_documents(source, shard, files, settings, stats, langid, progress=context.log.info)

    replace_partition(warehouse.table_uri("documents"), batches, DOCUMENTS_SCHEMA, delta_partition(shard),
                      warehouse.options())
    for damage in stats.damaged_files:
        context.log.error(f"damaged WARC file: {damage}")
    return dg.MaterializeResult(metadata={
        "records_read": stats.records_read,
        "documents_written": stats.documents,
        "skips_by_reason": dict(stats.skips),
        "languages": dict(stats.languages.most_common()),
        "damaged_files": dg.MetadataValue.json(stats.damaged_files),
        "seconds": round(stats.seconds, 2),
        "docs_per_s": round(stats.documents / max(stats.seconds, 1e-9), 1),
        "table": dg.MetadataValue.path(warehouse.table_uri("documents")),
    })
