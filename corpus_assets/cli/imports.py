"""`corpus import`: a JSON Lines or Parquet dataset as a new source, through the same pipeline as crawled shards.

The file is copied into the warehouse (`_imports/<source>/<hash>/`, with the settings in `import.json`) and
registered as the partition `import-<source>/<hash>` of the per-shard assets; then, as `corpus materialize`
does for shards: its ingest run (documents with every unused record counted by reason, signals, decisions,
dedup signatures), the global dedup run over all sources, the corpus runs for this partition and for the
partitions whose duplicates changed, the summary. Mixtures are not rebuilt (`corpus mix build`).
"""
from __future__ import annotations

from dataclasses import replace

from corpus_assets.cli.common import CliError, warehouse_root


def add_parser(sub) -> None:
    p = sub.add_parser("import", help="import a JSON Lines or Parquet dataset as a new source and run it through "
                                      "the pipeline")
    p.add_argument("path", metavar="PATH", help="a .jsonl / .jsonl.gz / .ndjson or .parquet file")
    p.add_argument("--source", required=True, help="the source's name, e.g. synthetic-qa (the corpus column `source`)")
    p.add_argument("--synthetic", action="store_true", help="generated text (needs --generator)")
    p.add_argument("--generator", help="what generated it (a model, a script and its version)")
    p.add_argument("--text-field", default="text", help="field or column holding the text (default text)")
    p.add_argument("--id-field", default="id", help="field or column holding the record's id, unique in the file "
                                                    "(default id)")
    p.add_argument("--warehouse", help="warehouse root (default $CORPUS_WAREHOUSE or ./warehouse)")
    p.add_argument("--workers", type=int, default=2, help="runs at once (default 2)")
    p.add_argument("--verbose", action="store_true", help="show Dagster's run logs")
    p.set_defaults(func=run_import)


def stage_import(warehouse: str, path, source: str, *, synthetic: bool = False, generator: str | None = None,
                 text_field: str = "text", id_field: str = "id"):
    """Check the file, copy it into the warehouse and register its partition; returns its ImportSpec."""
    from corpus_assets.cli.instance import open_instance
    from corpus_assets.cli.runner import register_partitions
    from corpus_assets.core.imports.reader import preflight
    from corpus_assets.core.imports.staging import make_spec, stage

    spec = make_spec(path, source, synthetic=synthetic, generator=generator, text_field=text_field, id_field=id_field)
    preflight(str(path), spec)
    stage(warehouse, path, spec)
    register_partitions(open_instance(warehouse), [spec.key])
    return spec


def imported_keys(instance) -> list[str]:
    """The partitions of every file imported into this warehouse (they take part in every phase)."""
    from corpus_assets.core.imports.keys import is_import_key
    from corpus_assets.defs.sources.partitions import warc_shards

    return sorted(key for key in instance.get_dynamic_partitions(warc_shards.name) if is_import_key(key))


def run_import(args) -> None:
    from corpus_assets.cli.materialize import MaterializeResult, finish, run_phases
    from corpus_assets.cli.runner import cli_run_config, run_environment, run_partitions, worker_pool
    from corpus_assets.cli.selection import plan_selection

    warehouse = warehouse_root(args.warehouse)
    spec = stage_import(warehouse, args.path, args.source, synthetic=args.synthetic, generator=args.generator,
                        text_field=args.text_field, id_field=args.id_field)
    kind = f"synthetic, generator {spec.generator}" if spec.synthetic else "real"
    print(f"importing {args.path} ({spec.format}, {spec.file_bytes:,} bytes) as source {spec.source} ({kind})\n"
          f"warehouse {warehouse}\npartition {spec.key}", flush=True)
    plan = replace(plan_selection(None), mix=[])
    env = run_environment(warehouse)
    config = cli_run_config(log_level="INFO" if args.verbose else "CRITICAL")
    result = MaterializeResult(warehouse)

    def report(done: int, total: int, outcome) -> None:
        status = "ok" if outcome.success else f"FAILED at {outcome.failed_step}"
        print(f"[{done}/{total}] {outcome.partition} {status} ({outcome.seconds:.1f}s)", flush=True)

    def run(keys, names, job):
        outcomes = run_partitions(keys, names, config, args.workers, env, job, report, pool)
        result.outcomes += outcomes
        result.failed += [o for o in outcomes if not o.success]
        return outcomes

    with worker_pool(max(1, args.workers), env) as pool:
        run_phases(run, plan, [spec.key], [spec.key])
    print(import_summary(spec, result.outcomes), flush=True)
    finish(result)
    written = _metadata(result.outcomes, spec.key, "documents").get("documents_written")
    if written == 0:
        raise CliError(f"{args.path}: no usable record; see the reasons above")
    print("mixtures are not rebuilt by an import: `corpus mix build` (or `corpus mix list` to see which are stale)")


def _metadata(outcomes, partition: str, asset: str) -> dict:
    for outcome in reversed(outcomes):
        if outcome.partition == partition and asset in outcome.metadata:
            return outcome.metadata[asset]
    return {}


def import_summary(spec, outcomes) -> str:
    """What became of the file's records: documents, skips by reason (with examples), corpus rows."""
    documents = _metadata(outcomes, spec.key, "documents")
    if not documents:
        return "no documents run finished"
    skips = documents.get("skips_by_reason") or {}
    examples = documents.get("skip_examples") or {}
    lines = [f"records {documents['records_read']:,}: {documents['documents_written']:,} documents, "
             f"{sum(skips.values()):,} skipped"]
    for reason, count in sorted(skips.items(), key=lambda item: (-item[1], item[0])):
        shown = "; ".join(examples.get(reason, [])[:3])
        lines.append(f"  {reason}: {count:,}" + (f" (e.g. {shown})" if shown else ""))
    corpus = _metadata(outcomes, spec.key, "corpus")
    if corpus:
        lines.append(f"corpus: {corpus['documents']:,} rows; dropped by the filters {corpus['dropped_by_filters']:,}, "
                     f"as duplicates {corpus['dropped_as_duplicates']:,}")
    languages = documents.get("languages") or {}
    if languages:
        lines.append("languages: " + ", ".join(f"{lang}={n}" for lang, n in list(languages.items())[:8]))
    return "\n".join(lines)
