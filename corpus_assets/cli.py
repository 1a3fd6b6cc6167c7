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
SHARD_ASSET_NAMES = ["documents", "signals", "decisions", "corpus"]  # per-shard assets, in dependency order


class CliError(Exception):
    """An error shown to the user as one line."""


def _warehouse_root(uri: str | None) -> str:
    from corpus_assets.resources import Warehouse

    return Warehouse(uri=uri).root()


def _parse_select(select: str | None) -> list[str]:
    if not select:
        return list(SHARD_ASSET_NAMES)
    names = [name.strip() for name in select.split(",") if name.strip()]
    unknown = [name for name in names if name not in SHARD_ASSET_NAMES]
    if unknown:
        raise CliError(f"unknown asset(s) {', '.join(unknown)}; choose from {', '.join(SHARD_ASSET_NAMES)}")
    return names


def cmd_materialize(args) -> dict:
    """Register the crawls' shards as partitions and materialize the selected assets for each."""
    from corpus_assets.core.ccsource import CrawlSource
    from corpus_assets.resources import default_source_uri, plan_source_shards
    from corpus_assets.runner import (cli_run_config, ensure_dagster_home, materialized_partitions,
                                      register_partitions, run_partitions)
    import dagster as dg

    source_uri = args.source or default_source_uri()
    warehouse = _warehouse_root(args.warehouse)
    assets = _parse_select(args.select)
    home = ensure_dagster_home()

    shards = plan_source_shards(CrawlSource(source_uri), args.crawl or [], args.shard_size, args.max_files)
    keys = [shard.key for shard in shards]
    instance = dg.DagsterInstance.get()
    added = register_partitions(instance, keys)
    if args.missing:
        done = set.intersection(*(materialized_partitions(instance, name) for name in assets))
        keys = [key for key in keys if key not in done]
    print(f"source {source_uri}\nwarehouse {warehouse}\ndagster home {home}\n"
          f"{len(shards)} shards ({len(added)} newly registered); materializing {', '.join(assets)} "
          f"for {len(keys)} with {args.workers} workers", flush=True)

    documents_config = {key: value for key, value in
                        {"record_format": args.format, "extractor": args.extractor}.items() if value}

    def report(done: int, total: int, outcome) -> None:
        docs = outcome.metadata.get("documents", {}).get("documents_written")
        detail = f"{docs} documents" if docs is not None else ""
        status = "ok" if outcome.success else f"FAILED: {outcome.error}"
        print(f"[{done}/{total}] {outcome.partition} {status} {detail} ({outcome.seconds:.1f}s)", flush=True)

    # the runs' resources read these (see corpus_assets.resources)
    env = {"CORPUS_SOURCE": source_uri, "CORPUS_WAREHOUSE": warehouse}
    outcomes = run_partitions(keys, assets, cli_run_config(documents_config), args.workers, env, report)
    failed = [o for o in outcomes if not o.success]
    if failed:
        raise CliError(f"{len(failed)} of {len(outcomes)} shard runs failed (first: {failed[0].partition}: "
                       f"{failed[0].error}); see the runs in `corpus ui`")
    return {"warehouse": warehouse, "outcomes": outcomes}


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
    langs = query_readonly(con, "SELECT lang, count(*) AS documents FROM documents GROUP BY lang "
                                "ORDER BY documents DESC, lang LIMIT 12")
    crawls = query_readonly(con, "SELECT crawl, count(DISTINCT shard) AS shards, count(*) AS documents "
                                 "FROM documents GROUP BY crawl ORDER BY crawl")
    print("\nDocuments per crawl:\n" + _format_table(crawls, "table"))
    print("Documents per language (top 12):\n" + _format_table(langs, "table"))
    print("Skipped records by reason: " + (", ".join(f"{k}={v}" for k, v in skips.most_common()) or "none"))
    print(f"""
Next:
  corpus sql "SELECT lang, count(*) FROM documents GROUP BY lang ORDER BY 2 DESC"
  corpus sql --format csv "SELECT url, title, n_chars FROM documents LIMIT 20"
  corpus ui          # the Dagster UI on http://127.0.0.1:3000 (asset graph, runs, partitions)
Warehouse (Delta tables): {warehouse}""")


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
    p.add_argument("--select", help=f"comma-separated assets (default all: {','.join(SHARD_ASSET_NAMES)})")
    p.add_argument("--max-files", type=int, help="only the first N WARC files of each crawl")
    p.add_argument("--missing", action="store_true", help="only shards whose selected assets were never materialized")
    p.add_argument("--format", choices=["warc", "wet"], help="read WARC (default) or WET files")
    p.add_argument("--extractor", choices=["resiliparse", "trafilatura"], help="main-text extractor")
    add_materialize_options(p)
    p.set_defaults(func=cmd_materialize)

    p = sub.add_parser("sql", help="run read-only SQL over the warehouse's tables")
    p.add_argument("query")
    p.add_argument("--warehouse")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_sql)

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
