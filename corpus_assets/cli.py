"""The `corpus` command: materialize shards, query the warehouse with SQL, run the demo, open the UI."""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# the assets `materialize` can select, in the order it runs them (dedup_signatures includes its band index
# and boilerplate lines; dedup_clusters is global; corpus runs after it for every affected shard)
INGEST_ASSETS = ["documents", "signals", "decisions", "dedup_signatures"]
ASSET_NAMES = INGEST_ASSETS + ["dedup_clusters", "corpus"]
MULTI_ASSET_KEYS = {"dedup_signatures": ["dedup_signatures", "minhash_bands", "boilerplate_lines"]}


class CliError(Exception):
    """An error shown to the user as one line."""


def _warehouse_root(uri: str | None) -> str:
    from corpus_assets.resources import Warehouse

    return Warehouse(uri=uri).root()


def _parse_select(select: str | None) -> list[str]:
    if not select:
        return list(ASSET_NAMES)
    names = [name.strip() for name in select.split(",") if name.strip()]
    unknown = [name for name in names if name not in ASSET_NAMES]
    if unknown:
        raise CliError(f"unknown asset(s) {', '.join(unknown)}; choose from {', '.join(ASSET_NAMES)}")
    return [name for name in ASSET_NAMES if name in names]


def cmd_materialize(args) -> dict:
    """Register the crawls' shards as partitions, then run the selected assets in three phases:
    per-shard ingest runs, one global dedup run, per-shard corpus runs."""
    import dagster as dg

    from corpus_assets.core.ccsource import CrawlSource
    from corpus_assets.core.filter_config import load_filter_config
    from corpus_assets.resources import default_source_uri, plan_source_shards, resolve_project_path
    from corpus_assets.runner import (cli_run_config, ensure_dagster_home, materialized_partitions,
                                      register_partitions, run_partitions, worker_pool)

    source_uri = args.source or default_source_uri()
    warehouse = _warehouse_root(args.warehouse)
    assets = _parse_select(args.select)
    filter_config = getattr(args, "filter_config", None)
    if "decisions" in assets:  # a malformed config is rejected before any run starts
        load_filter_config(resolve_project_path(filter_config or "configs/filters.yaml"))
    home = ensure_dagster_home()
    shards = plan_source_shards(CrawlSource(source_uri), args.crawl or [], args.shard_size, args.max_files)
    keys = [shard.key for shard in shards]
    instance = dg.DagsterInstance.get()
    added = register_partitions(instance, keys)
    if args.missing:
        done = set.intersection(*(materialized_partitions(instance, name) for name in assets if name != "dedup_clusters"))
        keys = [key for key in keys if key not in done]
    print(f"source {source_uri}\nwarehouse {warehouse}\ndagster home {home}\n"
          f"{len(shards)} shards ({len(added)} newly registered); materializing {', '.join(assets)} "
          f"for {len(keys)} with {args.workers} workers", flush=True)
    env = {"CORPUS_SOURCE": source_uri, "CORPUS_WAREHOUSE": warehouse}  # the runs' resources read these
    ops = {"documents": {key: value for key, value in {"record_format": args.format, "extractor": args.extractor}.items()
                         if value},
           "decisions": {"filter_config": filter_config} if filter_config else {}}
    outcomes = []

    def report(done: int, total: int, outcome) -> None:
        meta = outcome.metadata
        docs = meta.get("documents", {}).get("documents_written", meta.get("corpus", {}).get("documents"))
        detail = f"{docs} documents" if docs is not None else ""
        status = "ok" if outcome.success else f"FAILED: {outcome.error}"
        print(f"[{done}/{total}] {outcome.partition} {status} {detail} ({outcome.seconds:.1f}s)", flush=True)

    def run(phase_keys, names, job, phase_ops):
        results = run_partitions(phase_keys, names, cli_run_config(phase_ops), args.workers, env, job, report, pool)
        outcomes.extend(results)
        failed = [o for o in results if not o.success]
        if failed:
            raise CliError(f"{len(failed)} of {len(results)} {job} runs failed (first: {failed[0].partition}: "
                           f"{failed[0].error}); see the runs in `corpus ui`")
        return results

    with worker_pool(args.workers, env) as pool:
        _run_phases(run, assets, keys, ops)
    return {"warehouse": warehouse, "outcomes": outcomes}


def _run_phases(run, assets: list[str], keys: list[str], ops: dict) -> list[str]:
    """Per-shard ingest runs, then the global dedup run, then per-shard corpus runs."""
    ingest = [key for name in assets if name in INGEST_ASSETS for key in MULTI_ASSET_KEYS.get(name, [name])]
    if ingest:
        run(keys, ingest, "ingest_shard", {name: ops.get(name) for name in ingest if name in ops})
    affected: list[str] = []
    if "dedup_clusters" in assets:
        print("deduplicating across all shards and crawls", flush=True)
        [dedup] = run([None], ["dedup_clusters"], "deduplicate", {})
        meta = dedup.metadata.get("dedup_clusters", {})
        affected = meta.get("affected_partitions") or []
        print(f"  {meta.get('mode')}: {meta.get('documents_in_clusters')} documents in {meta.get('clusters')} clusters, "
              f"{meta.get('duplicates_removed')} duplicates", flush=True)
    if "corpus" in assets:
        run(keys + sorted(set(affected) - set(keys)), ["corpus"], "publish_corpus", {})
    return affected


def _format_table(table, fmt: str) -> str:
    import polars as pl

    frame = pl.from_arrow(table)
    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        buffer = io.StringIO()
        json.dump(frame.to_dicts(), buffer, ensure_ascii=False, default=str, indent=1)
        return buffer.getvalue() + "\n"
    with pl.Config(tbl_rows=200, tbl_cols=30, fmt_str_lengths=80, tbl_hide_dataframe_shape=False):
        return f"{frame}\n"


def cmd_sql(args) -> None:
    from corpus_assets.core.sql import SqlError, connect, query_readonly

    warehouse = _warehouse_root(args.warehouse)
    if "://" not in warehouse and not Path(warehouse).is_dir():
        raise CliError(f"no warehouse at {warehouse}; run `corpus materialize` (or `corpus demo`) first")
    try:
        table = query_readonly(connect(warehouse), args.query)
    except SqlError as exc:
        raise CliError(str(exc)) from exc
    sys.stdout.write(_format_table(table, args.format))


def cmd_demo(args) -> None:
    from corpus_assets.core.sql import connect, query_readonly

    args.source, args.crawl, args.select, args.max_files, args.missing = None, [], None, None, False
    args.format = args.extractor = None
    result = cmd_materialize(args)
    warehouse = result["warehouse"]
    skips: Counter = Counter()
    for outcome in result["outcomes"]:
        skips.update(outcome.metadata.get("documents", {}).get("skips_by_reason") or {})
    con = connect(warehouse)
    show = lambda title, query: print(f"{title}:\n" + _format_table(query_readonly(con, query), "table"))
    show("\nDocuments per crawl", "SELECT crawl, count(DISTINCT shard) AS shards, count(*) AS documents "
                              "FROM documents GROUP BY crawl ORDER BY crawl")
    print("Skipped records by reason: " + (", ".join(f"{k}={v}" for k, v in skips.most_common()) or "none") + "\n")
    show("Per language: documents, kept by the filters, in the corpus (top 12)",
         "SELECT d.lang, count(*) AS documents, count(*) FILTER (WHERE d.keep) AS kept, count(c.doc_id) AS in_corpus "
         "FROM decisions d LEFT JOIN corpus c USING (doc_id) GROUP BY d.lang ORDER BY documents DESC, d.lang LIMIT 12")
    show("Top drop reasons (a document counts under each of its reasons)",
         "SELECT reason, sum(documents)::BIGINT AS documents FROM funnel WHERE reason <> 'kept' "
         "GROUP BY reason ORDER BY documents DESC, reason LIMIT 8")
    show("Duplicate clusters", "SELECT dedup_kind, count(DISTINCT cluster_id) AS clusters, count(*) AS documents, "
                               "count(*) FILTER (WHERE NOT is_kept) AS removed FROM dedup_clusters GROUP BY ALL ORDER BY 1")
    print(f"""
Next:
  corpus sql "SELECT lang, count(*) FROM corpus GROUP BY lang ORDER BY 2 DESC"
  corpus sql "SELECT url, drop_reasons FROM decisions WHERE NOT keep LIMIT 10"   # why was a page dropped
  corpus sql --format csv "SELECT url, title, n_chars FROM corpus LIMIT 20"
  corpus check       # the Great Expectations suites over every table (HTML report under the warehouse)
  corpus ui          # the Dagster UI on http://127.0.0.1:3000 (asset graph, runs, partitions)
Warehouse (Delta tables): {warehouse}""")


def cmd_check(args) -> None:
    """Run the GX suites over existing tables; print a table of results; fail when any expectation fails."""
    from corpus_assets.core.expectations import check_warehouse, format_results, write_report

    warehouse = _warehouse_root(args.warehouse)
    if "://" not in warehouse and not Path(warehouse).is_dir():
        raise CliError(f"no warehouse at {warehouse}; run `corpus materialize` (or `corpus demo`) first")
    results = check_warehouse(warehouse, args.table or None, per_partition=not args.whole_tables)
    if not results:
        raise CliError(f"no checked tables in {warehouse}" + (f" named {', '.join(args.table)}" if args.table else ""))
    print(format_results(results, details=True))
    report = write_report(results, f"{warehouse}/_reports")
    failed = [r for r in results if not r[2].success]
    print(f"\n{len(results) - len(failed)} of {len(results)} suites passed; report: {report}")
    if failed:
        raise CliError(f"{len(failed)} suite(s) failed: " + ", ".join(
            f"{table}{' ' + '/'.join(part.values()) if part else ''}" for table, part, _ in failed[:5]))


def cmd_ui(args) -> None:
    from corpus_assets.runner import ensure_dagster_home

    ensure_dagster_home()
    if args.warehouse:
        os.environ["CORPUS_WAREHOUSE"] = _warehouse_root(args.warehouse)
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
               "-h", args.host, "-p", str(args.port)]
    print(" ".join(command), flush=True)
    raise SystemExit(subprocess.call(command))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corpus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_materialize_options(p):
        p.add_argument("--warehouse", help="warehouse root (default $CORPUS_WAREHOUSE or ./warehouse)")
        p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="shard runs at once (default: cores)")
        p.add_argument("--shard-size", type=int, default=1, help="WARC files per partition (default 1)")

    p = sub.add_parser("materialize", help="register WARC shards as partitions and materialize them")
    p.add_argument("--source", help="source URI (default $CORPUS_SOURCE or the bundled sample)")
    p.add_argument("--crawl", action="append", help="crawl id (repeatable; default: every crawl of the source)")
    p.add_argument("--select", help=f"comma-separated assets (default all: {','.join(ASSET_NAMES)})")
    p.add_argument("--max-files", type=int, help="only the first N WARC files of each crawl")
    p.add_argument("--missing", action="store_true", help="only shards whose selected assets were never materialized")
    p.add_argument("--format", choices=["warc", "wet"], help="read WARC (default) or WET files")
    p.add_argument("--extractor", choices=["resiliparse", "trafilatura"], help="main-text extractor")
    p.add_argument("--filter-config", help="filter thresholds YAML (default configs/filters.yaml)")
    add_materialize_options(p)
    p.set_defaults(func=cmd_materialize)

    p = sub.add_parser("sql", help="run read-only SQL over the warehouse's tables")
    p.add_argument("query")
    p.add_argument("--warehouse")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("check", help="run the Great Expectations suites over the warehouse's tables")
    p.add_argument("--warehouse")
    p.add_argument("--table", action="append", help="only this table (repeatable)")
    p.add_argument("--whole-tables", action="store_true", help="validate each table whole, not per partition")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("demo", help="materialize the bundled sample crawl into ./warehouse and summarise it")
    add_materialize_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on workspace.yaml")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--warehouse")
    p.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
        return 0
    except KeyboardInterrupt:
        print("corpus: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, not a traceback (CORPUS_DEBUG=1 shows it)
        if os.environ.get("CORPUS_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"corpus: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
