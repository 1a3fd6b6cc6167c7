"""Validate a frame, or a partition of a warehouse table, against its table's suite.

Memory: a shard's partition is never held whole.  For a warehouse table (``validate_table``, Polars engine)
no column is held whole either, unless a derived frame (an aggregate over the table: ``dedup_clusters``,
``mixtures``, ``quality_models``) needs every column but the text ones: the expectations that compare rows
(uniqueness, distinct counts: ``keyed.KEYED``) and the custom cross-table checks run out of core
(``keyed.KeyedChecks``: the key columns streamed into a scratch DuckDB under a fixed memory limit, which
spills beyond it), first, and its memory is handed back before the rest; the frame validated as a whole is
then the row count with every column an all-null placeholder of its dtype (column-set, row-count and type
expectations still see it; a null column costs next to nothing).  The expectations on the columns -
each judging rows one by one: types, ranges, sets, regexes, the PII patterns over every row's full text -
and on the derived columns computed from them run on batches streamed from the Parquet pages: those on a
text column in batches of ``BATCH_ROWS`` rows, the others in batches of ``NARROW_BATCH_ROWS``; each one's
outcomes on the batches are merged (``merge_chunk``) into its outcome on the whole table: same success,
counts and failing samples.  ``validate_frame`` (a frame in memory) and the GX engine read the index column
(failing rows are named by it), the columns of expectations that compare rows and those of the custom
checks whole, and stream the others the same way.  An expectation that compares rows on a streamed column
and that ``KeyedChecks`` cannot evaluate (none in the suites) gets the whole column.
"""
from __future__ import annotations

import os
import time
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Sequence

import polars as pl

from corpus_assets.core.checks.cross_table import CUSTOM_CHECKS, run_custom_checks
from corpus_assets.core.checks.gx_engine import is_map_expectation, merge_chunk, run_group, to_pandas
from corpus_assets.core.checks.keyed import KEYED, KeyedChecks, keyed_columns
from corpus_assets.core.checks.polars_engine import ROW_WISE, run_polars, supports
from corpus_assets.core.checks.results import CheckOutcome, SuiteResult
from corpus_assets.core.checks.suites import SuiteSettings, columns_of, outcome_stub, suite_spec
from corpus_assets.core.checks.tables import (is_partitioned, iter_table_batches, read_table, table_schema, table_uri,
                                              table_version)
from corpus_assets.core.lake.delta_tables import table_exists

BATCH_ROWS = 10_000  # rows validated at a time (~50 MB of a shard's documents' text)
NARROW_BATCH_ROWS = 65_536  # rows at a time of the expectations on other columns than the text ones
ENGINES = ("polars", "gx")
ENGINE_VARIABLE = "CORPUS_CHECK_ENGINE"
POLARS_GROUP = "polars:"  # group key prefix of the expectations the Polars engine evaluates
KEYED_GROUP = "keyed"  # the expectations KeyedChecks evaluates
# GX map expectations that compare rows, so their outcomes on row slices do not merge
CROSS_ROW = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique",
                       "expect_multicolumn_values_to_be_unique"})
STREAMED = ("streamed", "streamed-whole", POLARS_GROUP + "streamed", POLARS_GROUP + "streamed-whole")

Reader = Callable[[Sequence[str]], pl.DataFrame]  # columns -> every row, those columns read, the others all null
Batches = Callable[[Sequence[str], int], Iterable[pl.DataFrame]]  # columns, rows -> every row of them, in batches


def check_engine(engine: str | None = None) -> str:
    """`polars` (default: the expectations it supports run in Polars, the rest in GX) or `gx` (all in
    GX); `$CORPUS_CHECK_ENGINE` when not given."""
    engine = engine or os.environ.get(ENGINE_VARIABLE) or "polars"
    if engine not in ENGINES:
        raise ValueError(f"unknown check engine {engine!r} (${ENGINE_VARIABLE}); engines: {', '.join(ENGINES)}")
    return engine


def validate_frame(table: str, frame: pl.DataFrame | pl.LazyFrame, context: Mapping[str, Any] | None = None, *,
                   others: Mapping[str, pl.DataFrame | pl.LazyFrame] | None = None,
                   engine: str | None = None) -> SuiteResult:
    """Validate ``frame`` (rows of ``table``) against ``expectations/<table>.json``.

    ``engine``: see ``check_engine``; both give the same outcomes (tests/test_check_engines.py).

    ``context``: ``expected_rows`` (the row count the writer reported: enables the row-count
    expectation), ``partition`` (``{"crawl", "shard"}`` of the batch: enables the partition-key expectations),
    ``parameters`` (extra GX ``$PARAMETER`` values), ``tables`` (``{name: frame}`` that derived frames may
    join besides ``self``, e.g. a mixture manifest's targets), any other flag an expectation ``requires``
    (e.g. ``manifest``).  ``others``: frames of other tables
    (``{"documents": ...}``) for the suite's custom cross-table checks; checks whose tables are
    not given are reported as skipped.  Validated in slices of rows, as ``validate_table`` validates a
    table (see the module's docstring).
    """
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    whole = frame

    def read(columns: Sequence[str]) -> pl.DataFrame:
        return whole.with_columns(pl.lit(None, dtype=whole.schema[c]).alias(c) for c in whole.columns if c not in columns)

    def batches(columns: Sequence[str], rows: int) -> Iterable[pl.DataFrame]:
        return whole.select(columns).iter_slices(rows)

    return _validate(table, frame.clear(), read, batches, context, others, engine)


def _validate(table: str, schema: pl.DataFrame, read: Reader, batches: Batches, context: Mapping[str, Any] | None,
              others: Mapping[str, pl.DataFrame | pl.LazyFrame] | None, engine: str | None,
              keyed: KeyedChecks | None = None) -> SuiteResult:
    """``validate_frame`` of the table whose columns ``schema`` (no rows) shows: what is validated whole is
    ``read``, the rest ``batches`` (see the module's docstring).  With ``keyed`` (a warehouse table, the Polars
    engine), the expectations comparing rows (``keyed.KEYED``) and the custom checks run there, out of core,
    and the columns they read are streamed like any other."""
    started = time.perf_counter()
    context = dict(context or {})
    spec = suite_spec(table)
    settings = SuiteSettings.of(spec)
    configs: list[dict] = list(spec.get("expectations") or [])
    partition = context.get("partition") or None
    flags = {"expected_rows": context.get("expected_rows") is not None, "partition": bool(partition)}
    parameters: dict[str, Any] = {f"partition_{k}": [v] for k, v in (partition or {}).items()}
    if flags["expected_rows"]:
        parameters["expected_rows"] = int(context["expected_rows"])
    parameters.update(context.get("parameters") or {})

    outcomes: dict[int, CheckOutcome] = {}
    use_polars = check_engine(engine) == "polars"
    keyed = keyed if use_polars else None
    streamed = _streamed_columns(configs, schema, settings, parameters if use_polars else None, keyed is not None)
    frame = read([c for c in schema.columns if c not in streamed])
    frame, derived_errors, streamed_derived = _add_derived_columns(frame, settings, streamed)
    wide = streamed + list(streamed_derived)
    # derived frames aggregate the columns read whole: one naming a streamed column fails, never reads placeholders
    frames, frame_errors = _derived_frames(frame.drop(wide), settings, dict(context.get("tables") or {}))
    groups = _group_expectations(table, configs, frame, frames, wide, context, flags,
                                 derived_errors, frame_errors, outcomes, parameters if use_polars else None,
                                 schema.columns if keyed is not None else None)
    custom: SuiteResult | None = None
    if keyed is not None:  # first, then its database is closed: its memory and the batches' never add up
        key_columns = keyed_columns(table, configs, schema)
        for i, cfg in groups.pop(KEYED_GROUP, []):
            outcomes[i] = keyed.expectation(cfg, settings.index_column, parameters, key_columns)
        custom = keyed.custom_checks(settings.custom_checks, key_columns) if settings.custom_checks else None
        keyed.close()
    for key, chosen in groups.items():
        if key.startswith(POLARS_GROUP) and key not in STREAMED:
            name = key.removeprefix(POLARS_GROUP)
            index = settings.index_column if name == "rows" else settings.derived_frames[name].get("index_column")
            outcomes.update(run_polars(chosen, frame if name == "rows" else frames[name], index, parameters, name))
    outcomes.update(_run_groups(groups, frame, frames, settings, parameters))
    if any(key in groups for key in STREAMED):
        outcomes.update(_run_streamed_passes(groups, batches, schema, streamed_derived, settings, parameters))

    ordered = [outcomes[i] for i in range(len(configs))]
    result = SuiteResult(table, all(o.success for o in ordered), ordered, partition, frame.height,
                         time.perf_counter() - started)
    if keyed is None:
        custom = run_custom_checks(table, frame, others or {}, checks=settings.custom_checks)
    return result.merged(custom) if custom is not None and custom.outcomes else result


def _streamed_columns(configs: list[dict], schema: pl.DataFrame, settings: SuiteSettings,
                      polars_parameters: Mapping[str, Any] | None, keyed: bool = False) -> list[str]:
    """The columns validated in batches, never read whole (see the module's docstring): the text columns,
    and the others unless an expectation comparing rows, a custom check or a derived frame needs them whole
    (with ``keyed``, the expectations comparing rows that ``KeyedChecks`` evaluates and the custom checks read
    their columns themselves, and failing rows are named from each batch's index column)."""
    text = [c for c in settings.text_columns if c in schema.columns]
    if settings.derived_frames:
        return text
    probe = _add_derived_columns(schema, settings, ())[0]  # no rows: the derived columns' dtypes
    whole = set() if keyed else {settings.index_column, *(c for name in settings.custom_checks if name in CUSTOM_CHECKS
                                                         for c in CUSTOM_CHECKS[name].uses)}
    for cfg in configs:
        cols = columns_of(cfg.get("kwargs") or {})
        if keyed and _keyed(cfg, probe, polars_parameters or {}, schema.columns):
            continue
        if (cfg.get("meta") or {}).get("frame", "rows") == "rows" and set(cols) <= set(probe.columns) \
                and not _row_wise(cfg, probe, polars_parameters):
            whole.update(cols)
    whole.update(c for name, sql in settings.derived_columns.items() if name in whole
                 for c in pl.sql_expr(sql).meta.root_names())
    return [c for c in schema.columns if c in text or c not in whole]


def _keyed(cfg: dict, frame: pl.DataFrame, parameters: Mapping[str, Any], table_columns: Sequence[str]) -> bool:
    """Whether ``KeyedChecks`` evaluates ``cfg``: a ``KEYED`` expectation on the table's rows, over columns of the
    table itself (not derived ones), that the Polars engine supports (same semantics)."""
    return cfg.get("type") in KEYED and (cfg.get("meta") or {}).get("frame", "rows") == "rows" \
        and set(columns_of(cfg.get("kwargs") or {})) <= set(table_columns) and supports(cfg, frame, parameters)


def _row_wise(cfg: dict, probe: pl.DataFrame, polars_parameters: Mapping[str, Any] | None) -> bool:
    """Whether the engine that runs ``cfg`` judges each row alone (its outcomes on batches merge); with the
    Polars engine, an expectation it cannot run counts as not (so GX is not imported to ask)."""
    if polars_parameters is not None:
        return supports(cfg, probe, polars_parameters) and cfg["type"] in ROW_WISE
    return _gx_row_wise(cfg["type"])


def _gx_row_wise(expectation_type: str) -> bool:
    """Whether GX judges each row alone for this expectation type (a map expectation not comparing rows)."""
    return is_map_expectation(expectation_type) and expectation_type not in CROSS_ROW


def _add_derived_columns(frame: pl.DataFrame, settings: SuiteSettings,
                         streamed: Sequence[str]) -> tuple[pl.DataFrame, dict[str, str], dict[str, str]]:
    """The suite's derived columns (Polars SQL expressions) added to ``frame``, the error of each that failed,
    and those computed from a ``streamed`` column (``{name: sql}``: all-null placeholders here, computed per
    batch)."""
    derived_errors: dict[str, str] = {}
    streamed_derived: dict[str, str] = {}
    additions = []
    for name, sql in settings.derived_columns.items():
        try:
            dtype = frame.head(0).select(pl.sql_expr(sql).alias(name)).dtypes[0]  # resolve columns / types first
        except Exception as exc:  # noqa: BLE001 - reported on the expectations that use it
            derived_errors[name] = f"derived column {name} = {sql!r} failed: {exc}"
            continue
        if set(pl.sql_expr(sql).meta.root_names()) & set(streamed):
            streamed_derived[name] = sql
            additions.append(pl.lit(None, dtype=dtype).alias(name))
        else:
            additions.append(pl.sql_expr(sql).alias(name))
    if additions:
        frame = frame.with_columns(additions)
    return frame, derived_errors, streamed_derived


def _derived_frames(frame: pl.DataFrame, settings: SuiteSettings,
                    tables: dict[str, Any]) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The suite's derived frames (Polars SQL queries over the table), and the error of each that failed."""
    frames: dict[str, pl.DataFrame] = {}
    frame_errors: dict[str, str] = {}
    for name, fspec in settings.derived_frames.items():
        try:
            derived = pl.SQLContext(frames={"self": frame, **tables}).execute(fspec["sql"], eager=True)
            # a GROUP BY's row order varies from run to run: sorted, the failing rows a report samples do not
            frames[name] = derived.sort(derived.columns, nulls_last=True)
        except Exception as exc:  # noqa: BLE001
            frame_errors[name] = f"derived frame {name} failed: {exc}"
    return frames, frame_errors


def _group_expectations(table: str, configs: list[dict], frame: pl.DataFrame, frames: dict[str, pl.DataFrame],
                        wide: list[str], context: Mapping[str, Any], flags: dict[str, bool],
                        derived_errors: dict[str, str], frame_errors: dict[str, str],
                        outcomes: dict[int, CheckOutcome],
                        polars_parameters: Mapping[str, Any] | None,
                        keyed_columns: Sequence[str] | None = None) -> dict[str, list[tuple[int, dict]]]:
    """Expectations grouped by the frame they run on ("rows"; "streamed": row-wise ones on a ``wide`` (streamed)
    column, run on batches; "streamed-whole": the others on a wide column; or a derived frame; with
    ``polars_parameters``, those the Polars engine supports under ``POLARS_GROUP + group``; given the table's
    ``keyed_columns``, those ``KeyedChecks`` evaluates under ``KEYED_GROUP``); those that cannot
    run (context lacks a flag, missing frame or column) get their outcome in ``outcomes``."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    for i, cfg in enumerate(configs):
        meta = cfg.get("meta") or {}
        target = meta.get("frame", "rows")
        missing_flags = [f for f in meta.get("requires") or () if not flags.get(f, bool(context.get(f)))]
        if missing_flags:
            outcomes[i] = outcome_stub(cfg, target, success=True, skipped=f"context lacks {', '.join(missing_flags)}")
            continue
        if target != "rows" and target not in frames:
            outcomes[i] = outcome_stub(cfg, target, success=False,
                                        error=frame_errors.get(target, f"unknown derived frame {target!r}"))
            continue
        available = frames[target].columns if target != "rows" else frame.columns
        cols = columns_of(cfg.get("kwargs") or {})
        broken = [c for c in cols if c in derived_errors]
        if broken:
            outcomes[i] = outcome_stub(cfg, target, success=False, error=derived_errors[broken[0]])
            continue
        absent = [c for c in cols if c not in available]
        if absent:
            if meta.get("optional"):
                outcomes[i] = outcome_stub(cfg, target, success=True, skipped=f"no column {', '.join(absent)} (optional)")
            else:
                where = table if target == "rows" else f"derived frame {target}"
                outcomes[i] = outcome_stub(cfg, target, success=False,
                                            observed_value=f"column {', '.join(absent)} missing from {where}")
            continue
        on_wide = target == "rows" and any(c in wide for c in cols)
        if keyed_columns is not None and polars_parameters is not None \
                and _keyed(cfg, frame, polars_parameters, keyed_columns):
            groups.setdefault(KEYED_GROUP, []).append((i, cfg))
        elif polars_parameters is not None and supports(cfg, frame if target == "rows" else frames[target],
                                                      polars_parameters):
            group = ("streamed" if cfg["type"] in ROW_WISE else "streamed-whole") if on_wide else target
            groups.setdefault(POLARS_GROUP + group, []).append((i, cfg))
        elif on_wide:
            groups.setdefault("streamed" if _gx_row_wise(cfg["type"]) else "streamed-whole", []).append((i, cfg))
        else:
            groups.setdefault(target, []).append((i, cfg))
    return groups


def _run_groups(groups: dict[str, list[tuple[int, dict]]], frame: pl.DataFrame, frames: dict[str, pl.DataFrame],
                settings: SuiteSettings, parameters: dict[str, Any]) -> dict[int, CheckOutcome]:
    """Run the groups of expectations on the rows (streamed columns: placeholders) and derived frames through GX."""
    outcomes: dict[int, CheckOutcome] = {}
    if "rows" in groups:
        outcomes.update(run_group(groups["rows"], partial(to_pandas, frame), settings.index_column, parameters, "rows"))
    for name, derived in frames.items():
        if name in groups:
            index = settings.derived_frames[name].get("index_column")
            outcomes.update(run_group(groups[name], partial(to_pandas, derived), index, parameters, name))
    return outcomes


def _run_streamed_passes(groups: dict[str, list[tuple[int, dict]]], batches: Batches, schema: pl.DataFrame,
                         derived: dict[str, str], settings: SuiteSettings,
                         parameters: dict[str, Any]) -> dict[int, CheckOutcome]:
    """The expectations on streamed columns, in two passes over the rows: those on a text column (or a derived
    column computed from one) in batches of ``BATCH_ROWS`` rows, the others in batches of ``NARROW_BATCH_ROWS``
    (narrow columns: larger batches, fewer evaluations).  Each pass reads the index column and the columns its
    expectations (and their derived columns) name."""
    text = set(settings.text_columns)

    def roots(cfg: dict) -> set[str]:
        cols = columns_of(cfg.get("kwargs") or {})
        return {r for c in cols for r in (pl.sql_expr(derived[c]).meta.root_names() if c in derived else [c])}

    passes: dict[bool, dict[str, list[tuple[int, dict]]]] = {True: {}, False: {}}
    for key in STREAMED:
        for i, cfg in groups.get(key, []):
            passes[bool(roots(cfg) & text)].setdefault(key, []).append((i, cfg))
    outcomes: dict[int, CheckOutcome] = {}
    for on_text, chosen in passes.items():
        if not chosen:
            continue
        needed = {settings.index_column} | {c for entries in chosen.values() for _, cfg in entries for c in roots(cfg)}
        columns = [c for c in schema.columns if c in needed]
        named = {c for entries in chosen.values() for _, cfg in entries for c in columns_of(cfg.get("kwargs") or {})}
        computed = {name: sql for name, sql in derived.items() if name in named}
        rows = BATCH_ROWS if on_text else NARROW_BATCH_ROWS
        outcomes.update(_run_streamed_groups(chosen, partial(_of_rows, batches, rows), schema.select(columns), columns,
                                             computed, settings, parameters))
    return outcomes


def _of_rows(batches: Batches, rows: int, columns: Sequence[str]) -> Iterable[pl.DataFrame]:
    return batches(columns, rows)


def _run_streamed_groups(groups: dict[str, list[tuple[int, dict]]], batches: Callable[[Sequence[str]], Iterable[pl.DataFrame]],
                         empty: pl.DataFrame, columns: list[str], derived: dict[str, str], settings: SuiteSettings,
                         parameters: dict[str, Any]) -> dict[int, CheckOutcome]:
    """The expectations on streamed columns: the row-wise ones on each batch of ``columns`` (with the
    ``derived`` columns computed from them; ``empty``: their schema, for a table without rows), merged; the
    others once, on the whole columns."""

    def run(batch: pl.DataFrame, group: str) -> dict[int, CheckOutcome]:
        batch = batch.with_columns(pl.sql_expr(sql).alias(name) for name, sql in derived.items())
        out = run_polars(groups.get(POLARS_GROUP + group, []), batch, settings.index_column, parameters, "rows")
        if group in groups:
            out.update(run_group(groups[group], partial(to_pandas, batch), settings.index_column, parameters, "rows"))
        return out

    outcomes: dict[int, CheckOutcome] = {}
    if any(key in groups for key in ("streamed", POLARS_GROUP + "streamed")):
        mostly = {i: (cfg.get("kwargs") or {}).get("mostly") for key in ("streamed", POLARS_GROUP + "streamed")
                  for i, cfg in groups.get(key, [])}
        for batch in batches(columns):
            for i, o in run(batch, "streamed").items():
                outcomes[i] = merge_chunk(outcomes[i], o, mostly[i]) if i in outcomes else o
        if not outcomes:  # no rows
            outcomes = run(empty, "streamed")
    if any(key in groups for key in ("streamed-whole", POLARS_GROUP + "streamed-whole")):
        outcomes.update(run(pl.concat([empty, *batches(columns)]), "streamed-whole"))
    return outcomes


def validate_table(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None = None,
                   *, context: Mapping[str, Any] | None = None,
                   storage_options: Mapping[str, str] | None = None, engine: str | None = None) -> SuiteResult:
    """Read ``table`` (one partition, or the whole table) from the warehouse and validate it:
    the GX suite plus its custom cross-table checks against the same partition of the other
    tables (only the columns those checks need are read).  Only the columns that must be seen together are
    read whole, the others are streamed (see the module's docstring); with the Polars engine, the
    expectations comparing rows and the cross-table checks run out of core (``keyed.KeyedChecks``: a scratch
    DuckDB under a fixed memory limit), so no column is held whole unless a derived frame aggregates it.

    ``context`` as for ``validate_frame``, plus ``versions`` (``{other table: Delta version}`` to read
    for the cross-table checks, e.g. the corpus version a mixture was built from); ``partition`` is
    added to it unless the table is global (not partitioned).  Raises ``FileNotFoundError`` if the
    table does not exist."""
    if not table_exists(table_uri(warehouse_root, table), storage_options):
        raise FileNotFoundError(f"no Delta table {table_uri(warehouse_root, table)}")
    started = time.perf_counter()
    partitioned = is_partitioned(warehouse_root, table, storage_options)
    part = dict(partition) if (partition and partitioned) else None
    version = table_version(warehouse_root, table, storage_options)  # every read sees the same rows
    schema = table_schema(warehouse_root, table, storage_options, version)

    def read(columns: Sequence[str]) -> pl.DataFrame:
        return read_table(warehouse_root, table, part, storage_options=storage_options, version=version,
                          placeholders=[c for c in schema.columns if c not in columns])

    def batches(columns: Sequence[str], rows: int) -> Iterable[pl.DataFrame]:
        return iter_table_batches(warehouse_root, table, part, columns, rows, storage_options, version)

    versions = (context or {}).get("versions") or {}
    ctx = {"partition": part, **(context or {})}
    if check_engine(engine) == "polars":
        release_memory()  # what the asset's allocators kept (the checks run after it, in its process)
        with KeyedChecks(warehouse_root, table, part, version, schema, storage_options, versions) as keyed:
            result = _validate(table, schema, read, batches, ctx, None, engine, keyed)
    else:
        others: dict[str, pl.DataFrame] = {}
        for name in SuiteSettings.of(suite_spec(table)).custom_checks:
            check = CUSTOM_CHECKS.get(name)
            for other, columns in (check.needs.items() if check else ()):
                if other not in others and table_exists(table_uri(warehouse_root, other), storage_options):
                    others[other] = read_table(warehouse_root, other, part, columns=columns,
                                               storage_options=storage_options, version=versions.get(other))
        result = _validate(table, schema, read, batches, ctx, others, engine)
    result.partition = part
    result.seconds = time.perf_counter() - started
    return result


def release_memory() -> None:
    """Hand memory freed but kept by the allocators back to the OS (glibc's arenas, Arrow's pool): the checks
    of an asset run in its process after it, and would otherwise add their memory on top of that."""
    import ctypes
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - best effort
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
