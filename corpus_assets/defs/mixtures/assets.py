"""Mixtures: versioned training mixtures of corpus documents, one partition per mixture spec."""
import time

import dagster as dg
from pydantic import Field

from corpus_assets.core.mixtures.manifest import source_table
from corpus_assets.core.mixtures.store import build_into_warehouse
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.mixtures.partitions import mixture_partitions
from corpus_assets.defs.mixtures.specs import MixtureSpecs
from corpus_assets.defs.phases import MIX, phase
from corpus_assets.defs.table_metadata import table_definition_metadata


class MixtureBuildConfig(dg.Config):
    memory_limit: str = Field(default="2GB", description="DuckDB memory limit for reading the corpus and counting "
                                                         "tokens (bounds the build's memory; DuckDB spills beyond it)")


# Every mixture reads the whole corpus (all its shards). `quality_ratings` (for `min_spot_check_rating`) and
# `quality_models` are read when their tables exist; declare them as deps here once their assets exist (issue 14).
@dg.asset(partitions_def=mixture_partitions, group_name="mixtures", kinds={"delta", "duckdb", "polars"},
          tags=phase(MIX), deps=[dg.AssetDep("corpus", partition_mapping=dg.AllPartitionMapping())],
          metadata=table_definition_metadata("mixtures"))
def mixtures(context: dg.AssetExecutionContext, config: MixtureBuildConfig, warehouse: Warehouse,
             mixture_specs: MixtureSpecs) -> dg.MaterializeResult:
    """One row per document occurrence of a mixture (`mixture, spec_hash, stage, source, doc_id, copy,
    n_tokens, synthetic`): the corpus documents its spec selects by token budget, deterministically
    (order by a hash of seed, mixture, stage, doc_id), shares within 1 pp of the weights, short sources
    repeated up to `max_epochs`, synthetic sources capped at `max_share`. Each build replaces the
    mixture's partition in one Delta commit and writes its manifest (spec hash, input versions, tokens
    per stage and source, target vs achieved share) to `_mixtures/<name>/manifest-v<version>.json`."""
    started = time.perf_counter()
    spec = mixture_specs.spec(context.partition_key)
    build, stored = build_into_warehouse(warehouse.root(), spec, storage_options=warehouse.options(),
                                         memory_limit=config.memory_limit)
    manifest = build.manifest
    for shortfall in manifest["shortfalls"]:
        context.log.warning(f"{spec.name}: stage {shortfall['stage']}, source {shortfall['source']} is short by "
                            f"{shortfall['shortfall_tokens']:,} tokens (allowed by the spec)")
    if manifest["inputs"]["corpus"]["columns_defaulted"]:
        context.log.info(f"{spec.name}: corpus has no {', '.join(manifest['inputs']['corpus']['columns_defaulted'])} "
                         "column(s) yet; defaults used (see the manifest)")
    totals = manifest["totals"]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": build.rows.height,
        "spec_hash": manifest["spec_hash"],
        "delta_version": stored.version,
        "input_versions": dg.MetadataValue.json({table: item["delta_version"] for table, item in manifest["inputs"].items()}),
        "tokens": totals["tokens"],
        "documents": totals["documents"],
        "repeated_rows": totals["repeated_rows"],
        "synthetic_tokens": totals["synthetic_tokens"],
        "shortfalls": len(manifest["shortfalls"]),
        "shares": dg.MetadataValue.md(shares_markdown(manifest)),
        "manifest": dg.MetadataValue.json(manifest),
        "manifest_path": dg.MetadataValue.path(stored.manifest_uri),
        "token_counts": dg.MetadataValue.json(build.token_counts),
        "seconds": round(time.perf_counter() - started, 2),
    })


def shares_markdown(manifest: dict) -> str:
    """Tokens and documents per stage and source, target vs achieved share, as a Markdown table."""
    table = source_table(manifest)
    lines = ["| stage | source | synthetic | target share | share | tokens | documents | rows | copies | shortfall |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in table.iter_rows(named=True):
        lines.append(f"| {row['stage']} | {row['source']} | {'yes' if row['synthetic'] else ''} | "
                     f"{row['target_share']:.2%} | {row['share']:.2%} | {row['tokens']:,} | {row['documents']:,} | "
                     f"{row['rows']:,} | {row['copies']} | {format(row['shortfall_tokens'], ',') if row['shortfall_tokens'] else ''} |")
    lines.append(f"\n{manifest['totals']['tokens']:,} tokens in {manifest['totals']['rows']:,} rows "
                 f"({len(manifest['shortfalls'])} source(s) short)")
    return "\n".join(lines)
