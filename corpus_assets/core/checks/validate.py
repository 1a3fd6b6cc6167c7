"""Validate a frame, or a partition of a warehouse table, against its table's suite.

Memory: a table's text columns (the suite's ``text_columns``: ~5 kB a row of a shard's documents, GBs at
1M rows) are never held whole.  The rest of the table (a few hundred bytes a row) is validated as one
frame in which each text column is an all-null placeholder of its dtype (column-set and type expectations
still see it); the expectations that name a text column, or a derived column computed from one, run on
batches of ``TEXT_BATCH_ROWS`` rows (the index column and the columns they need: for a warehouse table
streamed from its Parquet pages), and each one's outcomes on the batches are merged (``merge_chunk``) into
its outcome on the whole table, so every row's full text is checked.  An expectation on a text column that
compares rows (uniqueness; none in the suites) gets the whole column.
"""
from __future__ import annotations

import os
import time
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Sequence

import polars as pl

from corpus_assets.core.checks.cross_table import CUSTOM_CHECKS, run_custom_checks
from corpus_assets.core.checks.gx_engine import is_map_expectation, merge_chunk, run_group, to_pandas
from corpus_assets.core.checks.polars_engine import ROW_WISE, run_polars, supports
from corpus_assets.core.checks.results import CheckOutcome, SuiteResult
from corpus_assets.core.checks.suites import SuiteSettings, columns_of, outcome_stub, suite_spec
from corpus_assets.core.checks.tables import is_partitioned, iter_table_batches, read_table, table_uri, table_version
from corpus_assets.core.lake.delta_tables import table_exists

TEXT_BATCH_ROWS = 10_000  # rows of text validated at a time (~50 MB of a shard's documents' text)
ENGINES = ("polars", "gx")
ENGINE_VARIABLE = "CORPUS_CHECK_ENGINE"
POLARS_GROUP = "polars:"  # group key prefix of the expectations the Polars engine evaluates
# GX map expectations that compare rows, so their outcomes on row slices do not merge
CROSS_ROW = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique",
                       "expect_multicolumn_values_to_be_unique"})
TEXT_GROUPS = ("text", "text-whole", POLARS_GROUP + "text", POLARS_GROUP + "text-whole")

TextBatches = Callable[[Sequence[str]], Iterable[pl.DataFrame]]  # columns -> the table's rows of them, in batches


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
    not given are reported as skipped.  The text columns are validated in slices, as ``validate_table``
    validates them (see the module's docstring).
    """
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    whole = frame
    text = [c for c in SuiteSettings.of(suite_spec(table)).text_columns if c in frame.columns]

    def batches(columns: Sequence[str]) -> Iterable[pl.DataFrame]:
        return whole.select(columns).iter_slices(TEXT_BATCH_ROWS)

    narrow = frame.with_columns(pl.lit(None, dtype=frame.schema[c]).alias(c) for c in text)
    return _validate(table, narrow, batches, context, others, engine)


def _validate(table: str, frame: pl.DataFrame, text_batches: TextBatches, context: Mapping[str, Any] | None,
              others: Mapping[str, pl.DataFrame | pl.LazyFrame] | None, engine: str | None) -> SuiteResult:
    """``validate_frame`` of a table whose text columns in ``frame`` are all-null placeholders: the
    expectations that need them run on ``text_batches``."""
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
    text_columns = [c for c in settings.text_columns if c in frame.columns]
    frame, derived_errors, text_derived = _add_derived_columns(frame, settings, text_columns)
    wide = text_columns + list(text_derived)
    # derived frames aggregate the other columns: one naming a text column fails, never reads placeholders
    frames, frame_errors = _derived_frames(frame.drop(wide), settings, dict(context.get("tables") or {}))
    use_polars = check_engine(engine) == "polars"
    groups = _group_expectations(table, configs, frame, frames, wide, context, flags,
                                 derived_errors, frame_errors, outcomes, parameters if use_polars else None)
    for key, chosen in groups.items():
        if key.startswith(POLARS_GROUP) and key not in TEXT_GROUPS:
            name = key.removeprefix(POLARS_GROUP)
            index = settings.index_column if name == "rows" else settings.derived_frames[name].get("index_column")
            outcomes.update(run_polars(chosen, frame if name == "rows" else frames[name], index, parameters, name))
    outcomes.update(_run_groups(groups, frame, frames, settings, parameters))
    if any(key in groups for key in TEXT_GROUPS):
        needed = [settings.index_column] + text_columns + [c for sql in text_derived.values()
                                                           for c in pl.sql_expr(sql).meta.root_names()]
        columns = [c for c in frame.columns if c in needed and c not in text_derived]
        outcomes.update(_run_text_groups(groups, text_batches, frame.select(columns).clear(), columns, text_derived,
                                         settings, parameters))

    ordered = [outcomes[i] for i in range(len(configs))]
    result = SuiteResult(table, all(o.success for o in ordered), ordered, partition, frame.height,
                         time.perf_counter() - started)
    custom = run_custom_checks(table, frame, others or {}, checks=settings.custom_checks)
    return result.merged(custom) if custom.outcomes else result


def _add_derived_columns(frame: pl.DataFrame, settings: SuiteSettings,
                         text_columns: Sequence[str]) -> tuple[pl.DataFrame, dict[str, str], dict[str, str]]:
    """The suite's derived columns (Polars SQL expressions) added to ``frame``, the error of each that failed,
    and those computed from a text column (``{name: sql}``: all-null placeholders here, computed per batch)."""
    derived_errors: dict[str, str] = {}
    text_derived: dict[str, str] = {}
    additions = []
    for name, sql in settings.derived_columns.items():
        try:
            dtype = frame.head(0).select(pl.sql_expr(sql).alias(name)).dtypes[0]  # resolve columns / types first
        except Exception as exc:  # noqa: BLE001 - reported on the expectations that use it
            derived_errors[name] = f"derived column {name} = {sql!r} failed: {exc}"
            continue
        if set(pl.sql_expr(sql).meta.root_names()) & set(text_columns):
            text_derived[name] = sql
            additions.append(pl.lit(None, dtype=dtype).alias(name))
        else:
            additions.append(pl.sql_expr(sql).alias(name))
    if additions:
        frame = frame.with_columns(additions)
    return frame, derived_errors, text_derived


def _derived_frames(frame: pl.DataFrame, settings: SuiteSettings,
                    tables: dict[str, Any]) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The suite's derived frames (Polars SQL queries over the table), and the error of each that failed."""
    frames: dict[str, pl.DataFrame] = {}
    frame_errors: dict[str, str] = {}
    for name, fspec in settings.derived_frames.items():
        try:
            frames[name] = pl.SQLContext(frames={"self": frame, **tables}).execute(fspec["sql"], eager=True)
        except Exception as exc:  # noqa: BLE001
            frame_errors[name] = f"derived frame {name} failed: {exc}"
    return frames, frame_errors


def _group_expectations(table: str, configs: list[dict], frame: pl.DataFrame, frames: dict[str, pl.DataFrame],
                        wide: list[str], context: Mapping[str, Any], flags: dict[str, bool],
                        derived_errors: dict[str, str], frame_errors: dict[str, str],
                        outcomes: dict[int, CheckOutcome],
                        polars_parameters: Mapping[str, Any] | None) -> dict[str, list[tuple[int, dict]]]:
    """Expectations grouped by the frame they run on ("rows"; "text": row-wise ones on a ``wide`` column, run on
    batches; "text-whole": the others on a wide column; or a derived frame; with ``polars_parameters``, those
    the Polars engine supports under ``POLARS_GROUP + group``); those that cannot run (context lacks a flag,
    missing frame or column) get their outcome in ``outcomes``."""
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
        if polars_parameters is not None and supports(cfg, frame if target == "rows" else frames[target],
                                                      polars_parameters):
            group = ("text" if cfg["type"] in ROW_WISE else "text-whole") if on_wide else target
            groups.setdefault(POLARS_GROUP + group, []).append((i, cfg))
        elif on_wide:
            row_wise = is_map_expectation(cfg["type"]) and cfg["type"] not in CROSS_ROW
            groups.setdefault("text" if row_wise else "text-whole", []).append((i, cfg))
        else:
            groups.setdefault(target, []).append((i, cfg))
    return groups


def _run_groups(groups: dict[str, list[tuple[int, dict]]], frame: pl.DataFrame, frames: dict[str, pl.DataFrame],
                settings: SuiteSettings, parameters: dict[str, Any]) -> dict[int, CheckOutcome]:
    """Run the groups of expectations on the rows (text columns: placeholders) and derived frames through GX."""
    outcomes: dict[int, CheckOutcome] = {}
    if "rows" in groups:
        outcomes.update(run_group(groups["rows"], partial(to_pandas, frame), settings.index_column, parameters, "rows"))
    for name, derived in frames.items():
        if name in groups:
            index = settings.derived_frames[name].get("index_column")
            outcomes.update(run_group(groups[name], partial(to_pandas, derived), index, parameters, name))
    return outcomes


def _run_text_groups(groups: dict[str, list[tuple[int, dict]]], text_batches: TextBatches, empty: pl.DataFrame,
                     columns: list[str], text_derived: dict[str, str], settings: SuiteSettings,
                     parameters: dict[str, Any]) -> dict[int, CheckOutcome]:
    """The expectations on text columns: the row-wise ones on each batch of ``columns`` (``empty``: their
    schema, for a table without rows), merged; the others once, on the whole columns."""

    def run(batch: pl.DataFrame, group: str) -> dict[int, CheckOutcome]:
        batch = batch.with_columns(pl.sql_expr(sql).alias(name) for name, sql in text_derived.items())
        out = run_polars(groups.get(POLARS_GROUP + group, []), batch, settings.index_column, parameters, "rows")
        if group in groups:
            out.update(run_group(groups[group], partial(to_pandas, batch), settings.index_column, parameters, "rows"))
        return out

    outcomes: dict[int, CheckOutcome] = {}
    if any(key in groups for key in ("text", POLARS_GROUP + "text")):
        mostly = {i: (cfg.get("kwargs") or {}).get("mostly") for key in ("text", POLARS_GROUP + "text")
                  for i, cfg in groups.get(key, [])}
        for batch in text_batches(columns):
            for i, o in run(batch, "text").items():
                outcomes[i] = merge_chunk(outcomes[i], o, mostly[i]) if i in outcomes else o
        if not outcomes:  # no rows
            outcomes = run(empty, "text")
    if any(key in groups for key in ("text-whole", POLARS_GROUP + "text-whole")):
        outcomes.update(run(pl.concat([empty, *text_batches(columns)]), "text-whole"))
    return outcomes


def validate_table(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None = None,
                   *, context: Mapping[str, Any] | None = None,
                   storage_options: Mapping[str, str] | None = None, engine: str | None = None) -> SuiteResult:
    """Read ``table`` (one partition, or the whole table) from the warehouse and validate it:
    the GX suite plus its custom cross-table checks against the same partition of the other
    tables (only the columns those checks need are read).  The text columns are streamed, never read whole
    (see the module's docstring).

    ``context`` as for ``validate_frame``, plus ``versions`` (``{other table: Delta version}`` to read
    for the cross-table checks, e.g. the corpus version a mixture was built from); ``partition`` is
    added to it unless the table is global (not partitioned).  Raises ``FileNotFoundError`` if the
    table does not exist."""
    if not table_exists(table_uri(warehouse_root, table), storage_options):
        raise FileNotFoundError(f"no Delta table {table_uri(warehouse_root, table)}")
    started = time.perf_counter()
    partitioned = is_partitioned(warehouse_root, table, storage_options)
    part = dict(partition) if (partition and partitioned) else None
    version = table_version(warehouse_root, table, storage_options)  # both reads see the same rows
    text = SuiteSettings.of(suite_spec(table)).text_columns
    frame = read_table(warehouse_root, table, part, storage_options=storage_options, version=version,
                       placeholders=text)

    def batches(columns: Sequence[str]) -> Iterable[pl.DataFrame]:
        return iter_table_batches(warehouse_root, table, part, columns, TEXT_BATCH_ROWS, storage_options, version)

    others: dict[str, pl.DataFrame] = {}
    versions = (context or {}).get("versions") or {}
    for name in SuiteSettings.of(suite_spec(table)).custom_checks:
        check = CUSTOM_CHECKS.get(name)
        for other, columns in (check.needs.items() if check else ()):
            if other not in others and table_exists(table_uri(warehouse_root, other), storage_options):
                others[other] = read_table(warehouse_root, other, part, columns=columns, storage_options=storage_options,
                                           version=versions.get(other))
    ctx = {"partition": part, **(context or {})}
    result = _validate(table, frame, batches, ctx, others, engine)
    result.partition = part
    result.seconds = time.perf_counter() - started
    return result
