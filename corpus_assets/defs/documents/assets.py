"""Bronze: every HTML page of a shard as a row of the `documents` Delta table."""

from typing import Literal

import dagster as dg
from pydantic import Field

from corpus_assets.core.lake.delta_tables import replace_partition
from corpus_assets.core.ingest.documents import (DOCUMENTS_SCHEMA, DocumentSettings, ShardStats, empty_reason,
                                                 iter_shard_documents)
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.imports.keys import ImportShard
from corpus_assets.defs.documents.imported import imported_documents
from corpus_assets.defs.documents.metadata import documents_metadata
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
    # no Dagster retry policy: transient source errors are retried where they happen (core.ingest.retry),
    # damaged files are contained, and anything else is permanent: a rerun would fail the same way
)
def documents(context: dg.AssetExecutionContext, config: DocumentsConfig, cc_source: CommonCrawlSource,
              warehouse: Warehouse) -> dg.MaterializeResult:
    """Every HTTP-200 HTML response of the shard's WARC files: charset-decoded, main text extracted,
    language identified (fastText lid.176), with provenance back to the WARC record. Records that are
    not 200, not HTML, too large, undecodable or empty are counted by reason, not written. A damaged
    file keeps the records before the damage and is named in `damaged_files`; a shard that yields no
    document is written as an empty partition and `empty_reason` says why. The partition of an imported
    file (`corpus import`) holds its records instead, with unused ones counted by reason."""
    shard = shard_of(context)
    if isinstance(shard, ImportShard):
        return imported_documents(context, shard, warehouse)
    source = cc_source.client()
    files = shard.select(source.list_files(shard.crawl, config.record_format))
    settings = DocumentSettings(record_format=config.record_format, extractor=config.extractor,
                                max_payload_bytes=config.max_payload_bytes)
    stats = ShardStats()
    batches = iter_shard_documents(source, shard, files, settings, stats, LanguageIdentifier(),
                                   progress=context.log.info, on_damage=context.log.error)
    replace_partition(warehouse.table_uri("documents"), lambda: batches, DOCUMENTS_SCHEMA, delta_partition(shard),
                      warehouse.options())
    reason = empty_reason(stats)
    if reason:
        context.log.warning(f"shard {shard.key} has no documents: {reason}")
    return dg.MaterializeResult(metadata=documents_metadata(stats, reason, warehouse, dict(stats.skips),
                                                           stats.damaged_files))
