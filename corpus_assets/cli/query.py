"""`corpus sql`: one read-only SQL statement over the warehouse's tables (DuckDB views)."""
from __future__ import annotations

import sys

from corpus_assets.cli.common import CliError, format_table, require_warehouse, warehouse_root


def add_parser(sub) -> None:
    p = sub.add_parser("sql", help="run read-only SQL over the warehouse's tables")
    p.add_argument("query")
    p.add_argument("--warehouse")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--version", action="append", default=[], metavar="TABLE=V",
                   help="read Delta version V of TABLE (time travel; repeatable), e.g. --version mixtures=3")
    p.set_defaults(func=run_sql)


def parse_versions(items: list[str]) -> dict[str, int]:
    """{table: version} from `TABLE=V` arguments."""
    versions: dict[str, int] = {}
    for item in items:
        table, sep, version = item.partition("=")
        if not sep or not table.strip() or not version.strip().isdigit():
            raise CliError(f"--version {item}: expected TABLE=VERSION, e.g. mixtures=3")
        if table.strip() in versions:
            raise CliError(f"--version: {table.strip()} given twice")
        versions[table.strip()] = int(version)
    return versions


def run_sql(args) -> None:
    from corpus_assets.core.lake.sql import SqlError, connect, query_readonly

    warehouse = warehouse_root(args.warehouse)
    require_warehouse(warehouse)
    try:
        table = query_readonly(connect(warehouse, versions=parse_versions(args.version)), args.query)
    except SqlError as exc:
        raise CliError(str(exc)) from exc
    sys.stdout.write(format_table(table, args.format))
