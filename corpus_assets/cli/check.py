"""`corpus check`: the Great Expectations suites over the existing tables, with an HTML report."""
from __future__ import annotations

from corpus_assets.cli.common import CliError, is_local, require_warehouse, warehouse_root


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="run the Great Expectations suites over the warehouse's tables")
    p.add_argument("--warehouse")
    p.add_argument("--table", action="append", help="only this table (repeatable)")
    p.add_argument("--whole-tables", action="store_true", help="validate each table whole, not per partition")
    p.set_defaults(func=run_check)


def run_check(args) -> None:
    """Run the GX suites over existing tables; print a table of results; fail when any expectation fails."""
    from corpus_assets.cli.instance import documents_written, open_instance
    from corpus_assets.core.checks.report import format_results, write_report
    from corpus_assets.core.checks.warehouse import check_warehouse

    warehouse = warehouse_root(args.warehouse)
    require_warehouse(warehouse)
    written = documents_written(open_instance(warehouse)) if is_local(warehouse) else None
    results = check_warehouse(warehouse, args.table or None, per_partition=not args.whole_tables,
                              documents_written=written)
    if not results:
        raise CliError(f"no checked tables in {warehouse}" + (f" named {', '.join(args.table)}" if args.table else ""))
    print(format_results(results, details=True))
    # a check of some tables gets its own report, so the full report is never overwritten by a partial one
    name = "expectations" if not args.table else "expectations-" + "-".join(sorted(set(args.table)))
    report = write_report(results, f"{warehouse}/_reports", name)
    failed = [r for r in results if not r[2].success]
    print(f"\n{len(results) - len(failed)} of {len(results)} suites passed; report: {report}")
    if failed:
        raise CliError(f"{len(failed)} suite(s) failed: " + ", ".join(
            f"{table}{' ' + '/'.join(part.values()) if part else ''}" for table, part, _ in failed[:5]))
