"""`corpus materialize`: register a crawl's shards and the mixture specs as partitions, then run seven phases.

1. one `ingest_shard` run per shard (documents, signals, dedup signatures);
2. one `train_quality_model` run: a quality model version (reused when its labels are unchanged);
3. one `score_shard` run per shard (quality scores from the active model, then decisions);
4. one `deduplicate` run over every shard that has signatures;
5. one `publish_corpus` run per shard that was scored, plus the shards whose duplicates changed;
6. one `summarize` run: the crawl-wide summary;
7. one `build_mixtures` run per mixture (spec file or real-only sibling), once the corpus is complete.

A shard that fails never stops the others: later phases run for every shard that succeeded, and the
command ends with one line per failed shard (shard, step, first error) and exits non-zero. Mixtures are
built only when every earlier run succeeded (a mixture over a partly published corpus would pin it), from
the specs of --mixtures / $CORPUS_MIXTURES, or from the packaged examples when the source is the bundled
sample they are sized for.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Callable

from corpus_assets.cli.common import CliError, mixtures_folder, source_uri, warehouse_root
from corpus_assets.cli.selection import Plan, plan_selection


@dataclass
class MaterializeResult:
    warehouse: str
    outcomes: list = field(default_factory=list)  # every run's RunOutcome, in completion order
    failed: list = field(default_factory=list)  # RunOutcomes of failed runs


def add_parser(sub) -> None:
    p = sub.add_parser("materialize", help="register WARC shards as partitions and materialize them")
    p.add_argument("--source", help="source URI (default $CORPUS_SOURCE or the bundled sample)")
    p.add_argument("--crawl", action="append", help="crawl id (repeatable; default: every crawl of a local source)")
    p.add_argument("--select", help="comma-separated assets (default: all)")
    p.add_argument("--max-files", type=int, help="only the first N WARC files of each crawl")
    p.add_argument("--missing", action="store_true",
                   help="only shards whose selected assets are not materialized (e.g. the ones that failed), and "
                        "mixtures not built as their spec and the corpus stand now")
    p.add_argument("--stale", action="store_true",
                   help="(re)publish corpus only for shards whose inputs changed after it was published")
    p.add_argument("--format", choices=["warc", "wet"], help="read WARC (default) or WET files")
    p.add_argument("--extractor", choices=["resiliparse", "trafilatura"], help="main-text extractor")
    p.add_argument("--filter-config", help="filter thresholds YAML (default: the packaged configs/filters.yaml)")
    add_run_options(p)
    p.set_defaults(func=lambda args: finish(materialize(args)))


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warehouse", help="warehouse root (default $CORPUS_WAREHOUSE or ./warehouse)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                   help="shard runs at once (default: cores; 0: one after the other in this process)")
    p.add_argument("--shard-size", type=int, help="WARC files per partition (default 1 for a local source, 100 for a remote one)")
    p.add_argument("--mixtures", metavar="DIR", help="mixture specs folder (default $CORPUS_MIXTURES or the packaged examples)")
    p.add_argument("--verbose", action="store_true", help="show Dagster's run logs (errors with tracebacks)")


def materialize(args, after_ingest: Callable[[str, set[str]], None] | None = None) -> MaterializeResult:
    """Run the phases; `after_ingest(warehouse, failed_shards)` runs between ingest and dedup (the demo imports
    the starter ratings there, so every later phase, the quality model's included, sees them)."""
    from corpus_assets.cli.instance import dagster_home, prepare_dagster_home
    from corpus_assets.cli.runner import cli_run_config, in_worker, run_partitions, worker_pool
    from corpus_assets.core.ingest.ccsource import CrawlSource
    from corpus_assets.core.mixtures.catalog import load_all
    from corpus_assets.core.package_data import default_filter_config
    from corpus_assets.core.quality.filter_config import load_filter_config
    from corpus_assets.core.ingest.shards import plan_source_shards

    source = source_uri(args.source)
    warehouse = warehouse_root(args.warehouse)
    filter_config = getattr(args, "filter_config", None)
    mixtures = mixtures_folder(getattr(args, "mixtures", None))
    home = dagster_home(warehouse)  # created once the plan and the configs are known to be valid
    env = {"CORPUS_SOURCE": source, "CORPUS_WAREHOUSE": warehouse, "CORPUS_MIXTURES": mixtures, "DAGSTER_HOME": str(home)}
    documents_config = {key: value for key, value in {"record_format": args.format, "extractor": args.extractor}.items()
                        if value}
    # the quality model's pool is the pages the same rules keep, so both read the one filter config
    rules = {"filter_config": filter_config} if filter_config else {}
    ops = {"documents": documents_config, "decisions": rules, "quality_model": rules}
    log_level = "INFO" if args.verbose else "CRITICAL"
    result = MaterializeResult(warehouse)
    specs: dict = {}

    def mixtures_to_build() -> list[str]:
        """Every mixture; with --missing or --stale, those not built as their spec and the corpus stand now."""
        if not (args.missing or args.stale):
            return list(specs)
        from corpus_assets.core.mixtures.store import build_status

        return [name for name, spec in specs.items() if build_status(warehouse, spec)["status"] != "up to date"]

    def report(done: int, total: int, outcome) -> None:
        meta = outcome.metadata
        docs = meta.get("documents", {}).get("documents_written", meta.get("corpus", {}).get("documents"))
        detail = f"{docs} documents" if docs is not None else ""
        if "mixtures" in meta:
            detail = f"{meta['mixtures']['dagster/row_count']} rows, {meta['mixtures']['tokens']:,} tokens"
        if "quality_scores" in meta:
            scores = meta["quality_scores"]
            detail = (f"{scores['dagster/row_count']} scored (model {scores['model_version']}), "
                      f"{meta.get('decisions', {}).get('kept', '?')} kept")
        if "quality_model" in meta:  # the model's own line follows the phase
            return
        status = "ok" if outcome.success else f"FAILED at {outcome.failed_step}"
        print(f"[{done}/{total}] {outcome.partition} {status} {detail} ({outcome.seconds:.1f}s)", flush=True)

    def run(phase_keys, names, job):
        phase_ops = {name: ops[name] for name in names if ops.get(name)}
        outcomes = run_partitions(phase_keys, names, cli_run_config(phase_ops, log_level), args.workers, env, job,
                                  report, pool)
        result.outcomes += outcomes
        result.failed += [o for o in outcomes if not o.success]
        return outcomes

    # the first worker reads the plan from the definitions and registers the partitions: this process
    # never imports Dagster
    with worker_pool(args.workers, env) as pool:
        plan = pool.submit(plan_selection, args.select).result()
        if "decisions" in plan.score or "quality_model" in plan.model:  # a malformed config is rejected before any run
            load_filter_config(filter_config or default_filter_config())
        builds_mixtures = plan.mix and _mixture_specs_apply(args, source)
        specs.update(load_all(mixtures) if builds_mixtures else {})  # so is a malformed mixture spec
        if plan.mix and not builds_mixtures:
            print("mixtures: not built; the packaged example specs are sized for the bundled sample crawl "
                  "(give --mixtures DIR or $CORPUS_MIXTURES to build yours)", flush=True)
        shards = plan_source_shards(CrawlSource(source), args.crawl or [], args.shard_size, args.max_files)
        prepare_dagster_home(warehouse)
        added, imported, keys, ingest_keys, score_keys, publish_keys = pool.submit(
            in_worker, prepare_partitions, [shard.key for shard in shards], list(specs), plan, bool(args.missing),
            bool(args.stale)).result()
        print(f"source {source}\nwarehouse {warehouse}\ndagster home {home}\n"
              f"{len(shards)} shards ({len(added)} newly registered)"
              + (f" and {len(imported)} imported file(s)" if imported else "")
              + f"; materializing {', '.join(plan.ingest + plan.model + plan.score + plan.dedup + plan.publish)} "
              f"for {len(set(ingest_keys) | set(score_keys) | set(publish_keys))} with {args.workers} workers"
              + (f"; then {len(specs)} mixtures from {mixtures}" if specs else ""), flush=True)
        run_phases(run, plan, ingest_keys, publish_keys, mixtures_to_build,
                   (lambda failed: after_ingest(warehouse, failed)) if after_ingest else None, score_keys,
                   lambda: pool.submit(stale_boilerplate, warehouse, keys).result())  # in a worker: no Dagster here
        stale = pool.submit(in_worker, stale_partitions, keys).result() if "corpus" not in plan.publish else []
    if stale:  # e.g. `--select decisions` with a new filter config: corpus still holds the old verdicts
        print(f"corpus is missing or older than its inputs for {len(stale)} shard(s) ({stale[0]}"
              f"{', ...' if len(stale) > 1 else ''}); refresh with "
              f"`corpus materialize --select dedup_clusters,corpus --stale`", flush=True)
    return result


def prepare_partitions(instance, shard_keys: list[str], mixtures: list[str], plan: Plan, missing: bool,
                       stale: bool) -> tuple[list[str], list[str], list[str], list[str], list[str], list[str]]:
    """In a worker: register the shards and mixtures as partitions; return (keys newly registered, the
    imported files' keys, every key, shards to ingest, shards to score, shards to publish). Files
    `corpus import` added take part in every phase too."""
    from corpus_assets.cli.imports import imported_keys
    from corpus_assets.cli.runner import materialized_partitions, register_partitions
    from corpus_assets.defs.corpus.publishing import stale_shards
    from corpus_assets.defs.mixtures.partitions import register_mixtures

    imported = imported_keys(instance)
    keys = shard_keys + imported
    added = register_partitions(instance, keys)
    register_mixtures(instance, mixtures)
    if not (missing or stale):
        return added, imported, keys, keys, keys, keys
    ingest_keys = _missing(instance, keys, plan.ingest, materialized_partitions) if missing else []
    score_keys = sorted(set(ingest_keys) | set(_missing(instance, keys, plan.score, materialized_partitions)
                                                if missing else []))
    publish = set(score_keys)
    if missing:
        publish |= set(_missing(instance, keys, plan.publish, materialized_partitions))
    if stale:
        publish |= set(stale_shards(instance)) & set(keys)
    return added, imported, keys, ingest_keys, score_keys, sorted(publish)


def stale_partitions(instance, keys: list[str]) -> list[str]:
    """In a worker: the shards of `keys` whose corpus is missing or older than its inputs."""
    from corpus_assets.defs.corpus.publishing import stale_shards

    return sorted(set(stale_shards(instance)) & set(keys))


def _mixture_specs_apply(args, source: str) -> bool:
    """Mixtures are built from a specs folder the user names, or from the packaged examples over the
    bundled sample they are sized for (not over another crawl, where they would only add noise or fail)."""
    from pathlib import Path

    from corpus_assets.core.package_data import bundled_sample_crawl

    if getattr(args, "mixtures", None) or os.environ.get("CORPUS_MIXTURES"):
        return True
    return "://" not in source and Path(source).resolve() == bundled_sample_crawl().resolve()


def _missing(instance, keys: list[str], names: list[str], materialized) -> list[str]:
    if not names:
        return []
    done = set.intersection(*(materialized(instance, name) for name in names))
    return [key for key in keys if key not in done]


REHASH = ["dedup_signatures", "minhash_bands", "boilerplate_lines", "host_line_counts"]


def stale_boilerplate(warehouse: str, keys: list[str]) -> list[str]:
    """Shards of this crawl hashed before other shards made more of their host's lines boilerplate."""
    from corpus_assets.core.dedup.boilerplate import stale_boilerplate_shards
    from corpus_assets.defs.dedup.settings import DedupSettings

    counts, used = f"{warehouse}/host_line_counts", f"{warehouse}/boilerplate_lines"
    if "://" in warehouse or not (os.path.isdir(f"{counts}/_delta_log") and os.path.isdir(f"{used}/_delta_log")):
        return []  # an object store: `dedup_clusters` reports these shards in its metadata instead
    settings = DedupSettings()
    return sorted(set(stale_boilerplate_shards(counts, used, settings.boilerplate_min_docs)) & set(keys))


def run_phases(run, plan: Plan, ingest_keys: list[str], publish_keys: list[str],
               mixture_keys: Callable[[], list[str]] = list,
               after_ingest: Callable[[set[str]], None] | None = None, score_keys: list[str] | None = None,
               stale_boilerplate: Callable[[], list[str]] = list) -> list[str]:
    """Ingest runs (then dedup signatures again for the shards whose host boilerplate grew with the shards
    ingested after them), then the quality model run, then score runs (scores and decisions) for the shards
    that ingested, then the global dedup run, then corpus runs for the scored shards and the shards whose
    duplicates changed, then the summary run, then, when every shard succeeded, one run per mixture of
    `mixture_keys()` (asked after the corpus is published); returns the affected shards.
    `after_ingest(failed_shards)` runs once the ingest runs are done (before the model, which reads what
    it imports: the demo's starter ratings).

    The model comes after ingest because it learns from the pages the rule filters keep (documents and
    signals of every shard), and before the scores and decisions of any shard, which need it."""
    failed: set[str] = set()
    score_keys = publish_keys if score_keys is None else score_keys
    if plan.ingest:
        failed = {o.partition for o in run(ingest_keys, plan.ingest, "ingest_shard") if not o.success}
    if set(REHASH) <= set(plan.ingest):
        failed |= _rehash_stale(run, [key for key in stale_boilerplate() if key not in failed])
    if after_ingest:
        after_ingest(failed)
    affected: list[str] = []
    if plan.model and not _train_model(run, plan):
        return affected  # no shard may be scored or decided without a model
    if plan.score:
        ready = [key for key in score_keys if key not in failed]
        failed |= {o.partition for o in run(ready, plan.score, "score_shard") if not o.success}
    if plan.dedup:
        print("deduplicating across all shards and crawls", flush=True)
        [dedup] = run([None], plan.dedup, "deduplicate")
        if not dedup.success:
            return affected  # corpus must not publish against stale clusters, nor mixtures read it
        meta = dedup.metadata.get("dedup_clusters", {})
        affected = list(meta.get("affected_partitions") or [])
        print(f"  {meta.get('mode')}: {meta.get('documents_in_clusters')} documents in {meta.get('clusters')} clusters, "
              f"{meta.get('duplicates_removed')} duplicates", flush=True)
    if plan.publish:
        ready = [key for key in publish_keys if key not in failed]
        failed |= {o.partition for o in run(ready + sorted(set(affected) - set(ready) - failed), plan.publish,
                                            "publish_corpus") if not o.success}
    if plan.report:
        run([None], plan.report, "summarize")
    if plan.mix:
        _build_mixtures(run, plan, failed, mixture_keys)
    return affected


def _build_mixtures(run, plan: Plan, failed: set[str], mixture_keys: Callable[[], list[str]]) -> None:
    """One run per mixture, only over a complete corpus (a mixture pins the corpus version it read)."""
    if failed:
        print(f"mixtures not built: {len(failed)} shard(s) failed, so the corpus is incomplete", flush=True)
        return
    names = mixture_keys()
    if names:
        print(f"building {len(names)} mixture(s)", flush=True)
        run(names, plan.mix, "build_mixtures")


def _rehash_stale(run, rehash: list[str]) -> set[str]:
    """Dedup signatures again for shards whose host boilerplate grew; returns the shards that failed."""
    if not rehash:
        return set()
    print(f"re-hashing {len(rehash)} shard(s) whose hosts' boilerplate grew with later shards", flush=True)
    return {o.partition for o in run(rehash, REHASH, "ingest_shard") if not o.success}


def _train_model(run, plan: Plan) -> bool:
    """The quality model run; prints its version and activation decision. False when it failed."""
    print("training the quality model", flush=True)
    [model] = run([None], plan.model, "train_quality_model")
    if model.success:
        meta = model.metadata.get("quality_model", {})
        print(f"  version {meta.get('version')} ({meta.get('label_source')}, {meta.get('labels')} labels): "
              f"{meta.get('decision')}", flush=True)
    return model.success


def finish(result: MaterializeResult) -> None:
    """One line per failed shard and where to see its run; exit non-zero when anything failed."""
    if not result.failed:
        return
    print(f"\n{len(result.failed)} run(s) failed:")
    for outcome in result.failed:
        print(f"  {outcome.partition}  {outcome.error}  (run {outcome.run_id[:8] or '-'})")
    raise CliError(f"{len(result.failed)} run(s) failed; see them with `corpus ui --warehouse {result.warehouse}` "
                   f"(Runs), rerun with `corpus materialize --missing` (add --verbose for the logs)")
