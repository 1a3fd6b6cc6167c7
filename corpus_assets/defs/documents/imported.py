"""The `documents` partition of an imported file: its records as rows, every unused record counted by reason."""
import dagster as dg

from corpus_assets.core.imports.documents import iter_import_documents
from corpus_assets.core.imports.keys import ImportShard
from corpus_assets.core.imports.reader import ReadStats
from corpus_assets.core.imports.staging import read_spec, staged_file
from corpus_assets.core.ingest.documents import DOCUMENTS_SCHEMA, ShardStats, empty_reason
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.lake.delta_tables import replace_partition
from corpus_assets.defs.documents.metadata import documents_metadata
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.sources.partitions import delta_partition


def imported_documents(context: dg.AssetExecutionContext, shard: ImportShard, warehouse: Warehouse) -> dg.MaterializeResult:
    """Read the file `corpus import` staged in the warehouse and replace the partition with its records."""
    spec = read_spec(warehouse.root(), shard)
    uri = staged_file(warehouse.root(), spec)
    stats, read = ShardStats(), ReadStats()
    batches = iter_import_documents(uri, spec, stats, read, LanguageIdentifier())
    replace_partition(warehouse.table_uri("documents"), lambda: batches, DOCUMENTS_SCHEMA, delta_partition(shard),
                      warehouse.options())
    for reason, count in read.skips.most_common():  # never dropped silently: counted, logged, in the metadata
        context.log.warning(f"{spec.file_name}: skipped {count} record(s) as {reason}, e.g. "
                            + "; ".join(read.examples.get(reason, [])[:3]))
    reason = empty_reason(stats)
    if reason:
        context.log.warning(f"import {shard.key} has no documents: {reason}")
    return dg.MaterializeResult(metadata=documents_metadata(
        stats, reason, warehouse, dict(read.skips), [], skip_examples=dg.MetadataValue.json(read.examples),
        source=spec.source, synthetic=spec.synthetic, generator=spec.generator or "", file=spec.file_name,
        file_sha256=spec.file_sha256))
