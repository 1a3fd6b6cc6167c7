"""The checks that compare rows (uniqueness, distinct counts) and the cross-table checks of a warehouse
table, evaluated out of core: in a private, file-backed DuckDB under a fixed memory limit.

A shard's key columns (``doc_id``, the provenance columns, scores) are O(shard): held whole in Polars, with
the hash tables of their anti-joins and uniqueness checks, they made the checks' memory grow with the
shard (1M documents: ~0.7 GB for one table's checks, more for the corpus').  Here each table's key columns
are streamed from the Delta partition (``tables.iter_arrow_batches``: the same rows, version and order as
``read_table``) into a table of a DuckDB database in a scratch directory, with each row's position in
``read_table``'s order (``__rn``); the joins and aggregations then run in DuckDB, which spills to the scratch
directory beyond ``MEMORY_LIMIT``.  Every row is still checked, and each outcome is the one the in-memory
evaluation (``polars_engine`` for the expectations, ``cross_table`` for the custom checks) reports:
success, observed value, element / missing / unexpected counts, the failing ids and values of the first
``SAMPLE_SIZE`` failing rows in the table's order (``tests/test_check_batches.py`` compares them).

Equality follows the in-memory checks: a missing value (null, and NaN in a float column) is never a
duplicate; the cross-table anti-joins match nulls with nulls (``IS NOT DISTINCT FROM``, as Polars'
``nulls_equal=True``) and compare the other table's key columns in the checked table's types.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any, Callable, Iterator, Mapping, Sequence

import polars as pl

from corpus_assets.core.checks.polars_engine import as_pandas_shows, map_outcome
from corpus_assets.core.checks.results import SAMPLE_SIZE, CheckOutcome, SuiteResult, jsonable
from corpus_assets.core.checks.suites import SuiteSettings, outcome_stub, suite_spec
from corpus_assets.core.checks.tables import iter_arrow_batches, table_uri
from corpus_assets.core.lake.delta_tables import table_exists

# expectation types evaluated here (when the Polars engine supports the expectation on the table's columns)
KEYED = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique",
                   "expect_column_unique_value_count_to_be_between"})
MEMORY_LIMIT = "64MB"  # DuckDB's limit for the checks of one table; its joins and aggregations spill beyond it
MAX_MEMORY_LIMIT = "2GiB"  # ... raised up to this one when DuckDB runs out of memory anyway (see KeyedChecks._sql)
LOAD_BATCH_ROWS = 65_536  # rows of key columns streamed into DuckDB at a time
ROW = "__rn"  # a row's position in the checked table (read_table's order)


def _bytes(setting: str) -> int:
    """A DuckDB memory setting (``64MB``, ``61.0 MiB``, ``2GiB``) in bytes."""
    number = setting.strip().rstrip("BbIi").strip()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(number[-1:].upper(), 1)
    return int(float(number.rstrip("KMGTkmgt").strip()) * scale)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class KeyedChecks:
    """The cross-row expectations and custom checks of ``table`` (``partition`` at ``version``; the other
    tables at ``versions.get(name)``, else their latest) in a scratch DuckDB.  A context manager: the
    database and its directory are removed on exit."""

    def __init__(self, warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None,
                 version: int | None, schema: pl.DataFrame, storage_options: Mapping[str, str] | None = None,
                 versions: Mapping[str, int] | None = None, memory_limit: str | None = None,
                 temp_directory: str | None = None):
        self.root, self.table, self.partition, self.version = warehouse_root, table, partition, version
        self.schema = schema
        self.storage_options, self.versions = storage_options, dict(versions or {})
        self.memory_limit = memory_limit or MEMORY_LIMIT
        self.temp_directory = temp_directory
        self._workdir: str | None = None
        self._con: Any = None
        self._loaded: dict[str, tuple[str, list[str]]] = {}  # table -> (DuckDB table name, columns loaded)
        self._rows: int | None = None

    # -- the database ----------------------------------------------------------------------------

    def __enter__(self) -> "KeyedChecks":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self._con is not None:
                self._con.close()
        finally:
            self._con = None
            if self._workdir:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None

    @property
    def con(self) -> Any:
        if self._con is None:
            import duckdb

            self._workdir = tempfile.mkdtemp(prefix="checks-", dir=self.temp_directory)
            con = duckdb.connect(os.path.join(self._workdir, "checks.duckdb"))
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            con.execute(f"SET temp_directory = '{os.path.join(self._workdir, 'spill')}'")
            con.execute("SET threads = 1")  # one scan at a time: memory within the limit whatever the cores
            con.execute("SET allocator_flush_threshold = '16MB'")  # freed memory back to the OS (as DedupDB)
            con.execute("SET allocator_bulk_deallocation_flush_threshold = '16MB'")
            self._con = con
        return self._con

    def _sql(self, query: str) -> list[tuple]:
        """The rows of ``query``.  Should DuckDB run out of memory even though it spills (an operator that
        cannot), the query runs again under twice the limit, up to ``MAX_MEMORY_LIMIT``: a check must not fail
        for want of memory."""
        import duckdb

        while True:
            try:
                return self.con.execute(query).fetchall()
            except duckdb.OutOfMemoryException:
                limit = self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
                raised = 2 * _bytes(limit)
                if raised > _bytes(MAX_MEMORY_LIMIT):
                    raise
                self.con.execute(f"SET memory_limit = '{raised // 2**20}MiB'")

    def load(self, table: str, columns: Sequence[str]) -> tuple[str, list[str]]:
        """``table``'s partition (``columns`` it has, and ``ROW``) as a DuckDB table: its name and columns.
        Each table is loaded once, with the columns of its first load (the checked table: all it needs)."""
        if table in self._loaded:
            return self._loaded[table]
        import pyarrow as pa

        version = self.version if table == self.table else self.versions.get(table)
        schema, batches = iter_arrow_batches(self.root, table, self.partition, list(dict.fromkeys(columns)),
                                             LOAD_BATCH_ROWS, self.storage_options, version)

        def numbered() -> Iterator[pa.RecordBatch]:
            start = 0
            for batch in batches:
                yield batch.append_column(ROW, pa.array(range(start, start + batch.num_rows), pa.int64()))
                start += batch.num_rows

        reader = pa.RecordBatchReader.from_batches(schema.append(pa.field(ROW, pa.int64())), numbered())
        name = f"t{len(self._loaded)}"
        self.con.register("__batches", reader)
        try:
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM __batches")
        finally:
            self.con.unregister("__batches")
        self._loaded[table] = (name, list(schema.names))
        return self._loaded[table]

    def rows(self) -> int:
        """The checked table's row count."""
        if self._rows is None:
            name, _ = self.load(self.table, [])
            self._rows = int(self._sql(f"SELECT count(*) FROM {name}")[0][0])
        return self._rows

    # -- expectations ----------------------------------------------------------------------------

    def _missing(self, column: str, alias: str = "") -> str:
        """What pandas counts as missing (null, and NaN in a float column), as SQL (columns of ``alias``)."""
        ref = f"{alias}.{_q(column)}" if alias else _q(column)
        return f"({ref} IS NULL OR isnan({ref}))" if self.schema.schema[column].is_float() else f"({ref} IS NULL)"

    def expectation(self, cfg: Mapping[str, Any], index_column: str | None, parameters: Mapping[str, Any],
                    columns: Sequence[str]) -> CheckOutcome:
        """One ``KEYED`` expectation's outcome over the checked table (``columns``: every column the keyed
        expectations and custom checks of this validation read, loaded together)."""
        try:
            index = index_column if index_column in self.schema.columns else None
            self.load(self.table, [*([index] if index else []), *columns])
            kind = cfg["type"]
            kwargs = cfg.get("kwargs") or {}
            if kind == "expect_column_unique_value_count_to_be_between":
                return self._unique_value_count(cfg, kwargs["column"], parameters)
            keys = [kwargs["column"]] if kind == "expect_column_values_to_be_unique" else list(kwargs["column_list"])
            return self._duplicates(cfg, keys, index, kind == "expect_column_values_to_be_unique")
        except Exception as exc:  # noqa: BLE001 - reported on the expectation, as run_polars does
            return outcome_stub(cfg, "rows", success=False, error=f"{type(exc).__name__}: {exc}")

    def _duplicates(self, cfg: Mapping[str, Any], keys: list[str], index: str | None, single: bool) -> CheckOutcome:
        """``be_unique`` (one key) / ``compound_columns_to_be_unique``: every row of a value (tuple) that
        occurs more than once among the rows not missing (any key present / the key present) is unexpected."""
        name, _ = self._loaded[self.table]
        skip = " AND ".join(self._missing(k) for k in keys)  # a row is skipped when all its keys are missing
        skip_r = " AND ".join(self._missing(k, "r") for k in keys)
        group = ", ".join(_q(k) for k in keys)
        duplicated = f"SELECT {group} FROM {name} WHERE NOT ({skip}) GROUP BY {group} HAVING count(*) > 1"
        total, missing = self._sql(f"SELECT count(*), count(*) FILTER (WHERE {skip}) FROM {name}")[0]
        unexpected = int(self._sql(f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {name} "
                                   f"WHERE NOT ({skip}) GROUP BY {group} HAVING count(*) > 1)")[0][0])
        ids: list[Any] = []
        sample: list[Any] = []
        if unexpected:
            match = " AND ".join(f"r.{_q(k)} IS NOT DISTINCT FROM d.{_q(k)}" for k in keys)
            shown = [*(f"r.{_q(k)}" for k in keys), f"r.{_q(index)}" if index else f"r.{ROW}"]
            first = self._sql(f"SELECT {', '.join(shown)} FROM {name} r SEMI JOIN ({duplicated}) d ON {match} "
                              f"WHERE NOT ({skip_r}) "
                              f"ORDER BY r.{ROW} LIMIT {SAMPLE_SIZE}")
            ids = [row[-1] for row in first]
            if index:
                ids = as_pandas_shows(ids, self.schema.schema[index])
            if single:
                sample = as_pandas_shows([row[0] for row in first], self.schema.schema[keys[0]])
            else:
                sample = [dict(zip(keys, row[:-1])) for row in first]
        return map_outcome(cfg, "rows", int(total), int(missing), unexpected, ids, sample)

    def _unique_value_count(self, cfg: Mapping[str, Any], column: str, parameters: Mapping[str, Any]) -> CheckOutcome:
        name, _ = self._loaded[self.table]
        count = int(self._sql(f"SELECT count(DISTINCT {_q(column)}) FROM {name} WHERE NOT {self._missing(column)}")[0][0])
        kwargs = cfg.get("kwargs") or {}

        def bound(key: str) -> Any:
            value = kwargs.get(key)
            if isinstance(value, Mapping) and set(value) == {"$PARAMETER"}:
                return parameters.get(value["$PARAMETER"])
            return value

        low, high = bound("min_value"), bound("max_value")
        success = (low is None or count >= low) and (high is None or count <= high)
        return outcome_stub(cfg, "rows", success=bool(success), observed_value=jsonable(count))

    # -- custom cross-table checks ---------------------------------------------------------------

    def custom_checks(self, checks: Mapping[str, str], columns: Sequence[str]) -> SuiteResult:
        """The suite's custom checks (``{name: check group}``), as ``cross_table.run_custom_checks`` reports
        them: a check whose other table does not exist is skipped, one that raises is an error."""
        from corpus_assets.core.checks.cross_table import CUSTOM_CHECKS, unknown_check

        started = time.perf_counter()
        needs: dict[str, list[str]] = {}  # each other table loaded once, with the columns of all its checks
        for check_name in checks:
            for other, cols in (CUSTOM_CHECKS[check_name].needs.items() if check_name in CUSTOM_CHECKS else ()):
                needs[other] = list(dict.fromkeys([*needs.get(other, []), *cols]))
        outcomes = []
        for check_name in checks:
            check = CUSTOM_CHECKS.get(check_name)
            if check is None:
                outcomes.append(unknown_check(check_name))
                continue
            lacking = [t for t in check.needs
                       if not table_exists(table_uri(self.root, t), self.storage_options)]
            if lacking:
                outcomes.append(_custom(check, True, skipped=f"needs table {', '.join(lacking)}"))
                continue
            try:
                self.load(self.table, columns)
                others = {t: self.load(t, needs[t]) for t in check.needs}
                outcomes.append(_RUNNERS[check_name](self, check, others))
            except Exception as exc:  # noqa: BLE001 - a broken check is a failed check, not a crash
                outcomes.append(_custom(check, False, error=f"{type(exc).__name__}: {exc}"))
        for outcome in outcomes:
            outcome.check = checks.get(outcome.name)
        return SuiteResult(self.table, all(o.success for o in outcomes), outcomes, None, self.rows(),
                           time.perf_counter() - started)

    def _anti(self, left: tuple[str, list[str]], right: str, keys: Sequence[str], where: str = "") -> tuple[int, list]:
        """Rows of ``left`` (DuckDB table, columns) with no row of ``right`` (a DuckDB table or query) with the same
        ``keys`` (cast to ``left``'s types): their count, and the ``doc_id`` of the first ``SAMPLE_SIZE`` in
        ``left``'s order (none without a ``doc_id`` key)."""
        name, columns = left
        missing = [k for k in keys if k not in columns]
        if missing:
            raise KeyError(f"no column(s) {missing} in {self.table}")
        match = " AND ".join(f"l.{_q(k)} IS NOT DISTINCT FROM r.{_q(k)}" for k in keys)
        anti = f"FROM {name} l ANTI JOIN ({right}) r ON {match}"
        count = int(self._sql(f"SELECT count(*) {anti}")[0][0])
        ids = [r[0] for r in self._sql(f"SELECT l.doc_id {anti} ORDER BY l.{ROW} LIMIT {SAMPLE_SIZE}")] \
            if count and "doc_id" in keys else []
        return count, jsonable(ids)

    def _right(self, other: tuple[str, list[str]], keys: Sequence[str], where: str = "") -> str:
        """The other table's ``keys``, cast to the checked table's types."""
        name, columns = other
        missing = [k for k in keys if k not in columns]
        if missing:
            raise KeyError(f"no column(s) {missing} in the other table")
        types = dict(self._sql(f"SELECT column_name, data_type FROM duckdb_columns() "
                               f"WHERE table_name = '{self._loaded[self.table][0]}'"))
        cast = ", ".join(f"CAST({_q(k)} AS {types[k]}) AS {_q(k)}" for k in keys)
        return f"SELECT {cast} FROM {name}" + (f" WHERE {where}" if where else "")


def _custom(check: Any, success: bool, **fields: Any) -> CheckOutcome:
    return CheckOutcome(name=check.name, expectation_type="custom_check", success=success,
                        description=check.description, frame="cross-table", **fields)


_PROVENANCE = ("doc_id", "url", "warc_path", "warc_record_offset", "warc_record_length")


def _rows_trace_to_documents(k: KeyedChecks, check: Any, others: dict[str, tuple[str, list[str]]]) -> CheckOutcome:
    mine, documents = k._loaded[k.table], others["documents"]
    keys = [c for c in _PROVENANCE if c in mine[1] and c in documents[1]]
    rows = k.rows()
    orphans, ids = k._anti(mine, k._right(documents, keys), keys)
    return _custom(check, orphans == 0, column="doc_id", kwargs={"keys": keys},
                   observed_value=f"{orphans} of {rows} rows without a documents row with the same {', '.join(keys)}",
                   element_count=rows, unexpected_count=orphans, unexpected_ids=ids)


def _rows_are_kept_decisions(k: KeyedChecks, check: Any, others: dict[str, tuple[str, list[str]]]) -> CheckOutcome:
    rows = k.rows()
    stray, ids = k._anti(k._loaded[k.table], k._right(others["decisions"], ["doc_id"], "coalesce(keep, false)"),
                         ["doc_id"])
    return _custom(check, stray == 0, column="doc_id", observed_value=f"{stray} of {rows} rows not kept by decisions",
                   element_count=rows, unexpected_count=stray, unexpected_ids=ids)


def _doc_ids_match(other: str) -> Callable[[KeyedChecks, Any, dict[str, tuple[str, list[str]]]], CheckOutcome]:
    def run(k: KeyedChecks, check: Any, others: dict[str, tuple[str, list[str]]]) -> CheckOutcome:
        mine, theirs = k._loaded[k.table], others[other]
        rows = k.rows()
        if "doc_id" not in mine[1]:
            raise KeyError(f"no column doc_id in {k.table}")
        their_rows = int(k._sql(f"SELECT count(*) FROM {theirs[0]}")[0][0])
        extra, extra_ids = k._anti(mine, k._right(theirs, ["doc_id"]), ["doc_id"])  # here, not upstream
        missing, missing_ids = k._anti(theirs, f"SELECT doc_id FROM {mine[0]}", ["doc_id"])  # upstream, not here
        bad = missing + extra
        return _custom(check, bad == 0, column="doc_id",
                       observed_value={"rows": rows, f"{other}_rows": their_rows, f"missing_from_{other}": missing,
                                       f"not_in_{other}": extra},
                       element_count=max(rows, their_rows), unexpected_count=bad,
                       unexpected_ids=(extra_ids + missing_ids)[:SAMPLE_SIZE])
    return run


def _doc_ids_exist_in(other: str) -> Callable[[KeyedChecks, Any, dict[str, tuple[str, list[str]]]], CheckOutcome]:
    def run(k: KeyedChecks, check: Any, others: dict[str, tuple[str, list[str]]]) -> CheckOutcome:
        mine = k._loaded[k.table]
        if "doc_id" not in mine[1]:
            raise KeyError(f"no column doc_id in {k.table}")
        distinct = f"(SELECT doc_id, min({ROW}) AS {ROW} FROM {mine[0]} GROUP BY doc_id)"
        unknown, ids = k._anti((distinct, ["doc_id", ROW]), k._right(others[other], ["doc_id"]), ["doc_id"])
        return _custom(check, unknown == 0, column="doc_id", observed_value=f"{unknown} doc_ids not in {other}",
                       element_count=k.rows(), unexpected_count=unknown, unexpected_ids=ids)
    return run


def _rows_carry_their_scores(k: KeyedChecks, check: Any, others: dict[str, tuple[str, list[str]]]) -> CheckOutcome:
    keys = ["doc_id", "quality_score", "model_version"]
    mine = k._loaded[k.table]
    rows = k.rows()
    absent = [c for c in keys if c not in mine[1]]
    if absent:
        ids = [r[0] for r in k._sql(f"SELECT doc_id FROM {mine[0]} ORDER BY {ROW} LIMIT {SAMPLE_SIZE}")] \
            if "doc_id" in mine[1] else []
        return _custom(check, False, column="quality_score", observed_value=f"no column(s) {absent}",
                       element_count=rows, unexpected_count=rows, unexpected_ids=jsonable(ids))
    stray, ids = k._anti(mine, k._right(others["quality_scores"], keys), keys)
    return _custom(check, stray == 0, column="quality_score",
                   observed_value=f"{stray} of {rows} rows whose score or model version is not their quality_scores row",
                   element_count=rows, unexpected_count=stray, unexpected_ids=ids)


_RUNNERS: dict[str, Callable[[KeyedChecks, Any, dict[str, tuple[str, list[str]]]], CheckOutcome]] = {
    "rows_trace_to_documents": _rows_trace_to_documents,
    "rows_are_kept_decisions": _rows_are_kept_decisions,
    "doc_ids_match_documents": _doc_ids_match("documents"),
    "doc_ids_match_signals": _doc_ids_match("signals"),
    "rows_carry_their_quality_scores": _rows_carry_their_scores,
    "doc_ids_exist_in_documents": _doc_ids_exist_in("documents"),
    "doc_ids_exist_in_corpus": _doc_ids_exist_in("corpus"),
}


def keyed_columns(table: str, configs: Sequence[Mapping[str, Any]], schema: pl.DataFrame) -> list[str]:
    """The checked table's columns ``KeyedChecks`` reads: those of its keyed expectations and custom checks."""
    from corpus_assets.core.checks.cross_table import CUSTOM_CHECKS
    from corpus_assets.core.checks.suites import columns_of

    columns: list[str] = []
    for cfg in configs:
        if cfg.get("type") in KEYED:
            columns += columns_of(cfg.get("kwargs") or {})
    for name in SuiteSettings.of(suite_spec(table)).custom_checks:
        if name in CUSTOM_CHECKS:
            columns += CUSTOM_CHECKS[name].uses
    return [c for c in dict.fromkeys(columns) if c in schema.columns]

