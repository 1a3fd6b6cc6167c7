"""Ad-hoc, read-only SQL over the warehouse's Delta tables with DuckDB.

Views come from `sql/views.sql`. The DuckDB `delta` extension is loaded from the file shipped in the
`duckdb-extension-delta` wheel (nothing downloads; `duckdb_delta`). If it cannot be loaded, or for object-store
warehouses, each table is registered as a pyarrow dataset instead (via deltalake).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import duckdb
import pyarrow as pa

from corpus_assets.core.lake import duckdb_delta
from corpus_assets.core.lake.delta_tables import table_exists

from corpus_assets.core.package_data import package_path

SQL_DIR = package_path("sql")
_VIEW_BLOCK = re.compile(r"^-- view: (\w+)\s*$", re.M)
_QUERY_BLOCK = re.compile(r"^-- query: (\w+)\s*$", re.M)
READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class SqlError(RuntimeError):
    """A query was rejected or failed."""


VIEW_FILES = ("views.sql", "funnel.sql", "mixtures.sql")  # table views first, then views derived from them


def _blocks(pattern: re.Pattern, sql_file: str) -> dict[str, str]:
    parts = pattern.split((SQL_DIR / sql_file).read_text())
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


def view_definitions(sql_files: tuple[str, ...] = VIEW_FILES) -> dict[str, str]:
    """{view name: CREATE VIEW statement}, in file order, from the `-- view: NAME` blocks of the SQL files."""
    views: dict[str, str] = {}
    for name in sql_files:
        views.update(_blocks(_VIEW_BLOCK, name))
    return views


def named_queries(sql_file: str) -> dict[str, str]:
    """{query name: SQL} from the `-- query: NAME` blocks of one of the package's SQL files."""
    return _blocks(_QUERY_BLOCK, sql_file)


def _is_local(root: str) -> bool:
    return "://" not in root or root.startswith("file://")


def connect(warehouse_root: str, storage_options: dict | None = None, memory_limit: str | None = None,
            sandbox: bool = True, versions: Mapping[str, int] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per existing Delta table of the warehouse.

    `versions` ({table: Delta version}) time-travels those tables: their views (and the views derived
    from them) read that version. With `sandbox` (the default), queries can read files of a local
    warehouse only: DuckDB's external access is switched off with the warehouse as the one allowed
    directory, and the configuration is locked, so `read_csv('/etc/passwd')` fails."""
    versions = _checked_versions(warehouse_root, storage_options, versions or {})
    con = duckdb_delta.connect()
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET VARIABLE warehouse = ?", [warehouse_root.removeprefix("file://")])
    use_extension = _is_local(warehouse_root)
    if use_extension:
        try:
            duckdb_delta.load_delta(con)
        except (duckdb.Error, FileNotFoundError, ImportError):
            use_extension = False
    for name, statement in view_definitions().items():
        table = _source_table(statement)
        if table and not table_exists(f"{warehouse_root}/{table}", storage_options):
            continue
        if table is None:  # a derived view: only when the views it reads exist
            try:
                con.execute(statement)
            except duckdb.CatalogException:
                pass
        elif use_extension:
            con.execute(_at_version(statement, versions[table]) if table in versions else statement)
        else:
            from deltalake import DeltaTable

            con.register(f"{name}", DeltaTable(f"{warehouse_root}/{table}", version=versions.get(table),
                                               storage_options=storage_options).to_pyarrow_dataset())
    if sandbox:
        allowed = [str(Path(warehouse_root.removeprefix("file://")).resolve()) + "/"] if _is_local(warehouse_root) else []
        con.execute("SET allowed_directories = ?", [allowed])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


_DELTA_SCAN = re.compile(r"delta_scan\(getvariable\('warehouse'\) \|\| '/(\w+)'\)")


def _source_table(statement: str) -> str | None:
    match = _DELTA_SCAN.search(statement)
    return match.group(1) if match else None


def _at_version(statement: str, version: int) -> str:
    """A table view's statement reading Delta `version` (the extension's time travel)."""
    return _DELTA_SCAN.sub(lambda m: f"delta_scan(getvariable('warehouse') || '/{m.group(1)}', version => {int(version)})",
                           statement)


def _checked_versions(warehouse_root: str, storage_options: dict | None, versions: Mapping[str, int]) -> dict[str, int]:
    """`versions` after checking that each names a table of the warehouse and one of its versions."""
    from deltalake import DeltaTable

    tables = {table for table in map(_source_table, view_definitions().values()) if table}
    for table, version in versions.items():
        uri = f"{warehouse_root}/{table}"
        if table not in tables or not table_exists(uri, storage_options):
            present = sorted(t for t in tables if table_exists(f"{warehouse_root}/{t}", storage_options))
            raise SqlError(f"--version {table}={version}: no table {table} in the warehouse (tables: {', '.join(present)})")
        latest = DeltaTable(uri, storage_options=storage_options).version()
        if not 0 <= version <= latest:
            raise SqlError(f"--version {table}={version}: {table} has versions 0 to {latest}")
    return dict(versions)


def query_readonly(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """Run one read-only statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) and return its rows."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise SqlError(f"cannot parse query: {exc}") from exc
    if len(statements) != 1:
        raise SqlError(f"expected exactly one SQL statement, got {len(statements)}")
    if statements[0].type not in READ_ONLY_STATEMENTS:
        raise SqlError(f"only read-only queries are allowed (got a {statements[0].type.name} statement)")
    try:
        return con.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise SqlError(str(exc).splitlines()[0]) from exc
