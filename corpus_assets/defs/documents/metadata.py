"""The materialization metadata a `documents` partition reports, crawled or imported alike."""
import dagster as dg

from corpus_assets.core.ingest.documents import ShardStats
from corpus_assets.defs.lake.warehouse import Warehouse


def documents_metadata(stats: ShardStats, empty_reason: str, warehouse: Warehouse, skips: dict[str, int],
                       damaged_files: list, **extra) -> dict:
    """Counts, languages, skips by reason, damage, why the partition is empty ('' unless it wrote no
    document), speed and the table; `extra` adds what only one kind of partition knows."""
    return {
        "dagster/row_count": stats.documents,
        "records_read": stats.records_read,
        "documents_written": stats.documents,
        "skips_by_reason": skips,
        "languages": dict(stats.languages.most_common()),
        "damaged_files": dg.MetadataValue.json(damaged_files),
        "empty_reason": empty_reason,
        **extra,
        "seconds": round(stats.seconds, 2),
        "docs_per_s": round(stats.documents / max(stats.seconds, 1e-9), 1),
        "table": dg.MetadataValue.path(warehouse.table_uri("documents")),
    }
