"""Validate a frame, or a partition of a warehouse table, against its table's suite."""
from __future__ import annotations

import os
import time
from functools import partial
from typing import Any, Mapping

import polars as pl

from corpus_assets.core.checks.cross_table import CUSTOM_CHECKS, run_custom_checks
from corpus_assets.core.checks.gx_engine import is_map_expectation, merge_chunk, run_group, to_pandas
from corpus_assets.core.checks.polars_engine import run_polars, supports
from corpus_assets.core.checks.results import CheckOutcome, SuiteResult
from corpus_assets.core.checks.suites import SuiteSettings, columns_of, outcome_stub, suite_spec
from corpus_assets.core.checks.tables import is_partitioned, read_table, table_uri
from corpus_assets.core.lake.delta_tables import table_exists

TEXT_CHUNK_ROWS = 20_000  # rows of text converted to pandas at a time
ENGINES = ("polars", "gx")
ENGINE_VARIABLE = "CORPUS_CHECK_ENGINE"
POLARS_GROUP = "polars:"  # group key prefix of the expectations the Polars engine evaluates


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
    not given are reported as skipped.
    """
    started = time.perf_counter()
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
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
    frame, derived_errors = _add_derived_columns(frame, settings)
    frames, frame_errors = _derived_frames(frame, settings, dict(context.get("tables") or {}))
    text_columns = [c for c in settings.text_columns if c in frame.columns]
    use_polars = check_engine(engine) == "polars"
    groups = _group_expectations(table, configs, frame, frames, text_columns, context, flags,
                                 derived_errors, frame_errors, outcomes, parameters if use_polars else None)
    for key, chosen in groups.items():  # every row, text included: Polars needs no slices
        if key.startswith(POLARS_GROUP):
            name = key.removeprefix(POLARS_GROUP)
            index = settings.index_column if name == "rows" else settings.derived_frames[name].get("index_column")
            outcomes.update(run_polars(chosen, frame if name == "rows" else frames[name], index, parameters, name))
    outcomes.update(_run_groups(groups, frame, frames, text_columns, settings, parameters))

    ordered = [outcomes[i] for i in range(len(configs))]
    result = SuiteResult(table, all(o.success for o in ordered), ordered, partition, frame.height,
                         time.perf_counter() - started)
    custom = run_custom_checks(table, frame, others or {}, checks=settings.custom_checks)
    return result.merged(custom) if custom.outcomes else result


def _add_derived_columns(frame: pl.DataFrame, settings: SuiteSettings) -> tuple[pl.DataFrame, dict[str, str]]:
    """The suite's derived columns (Polars SQL expressions) added to ``frame``, and the error of each that failed."""
    derived_errors: dict[str, str] = {}
    additions = []
    for name, sql in settings.derived_columns.items():
        try:
            frame.head(0).select(pl.sql_expr(sql).alias(name))  # resolve columns / types first
            additions.append(pl.sql_expr(sql).alias(name))
        except Exception as exc:  # noqa: BLE001 - reported on the expectations that use it
            derived_errors[name] = f"derived column {name} = {sql!r} failed: {exc}"
    if additions:
        frame = frame.with_columns(additions)
    return frame, derived_errors


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
                        text_columns: list[str], context: Mapping[str, Any], flags: dict[str, bool],
                        derived_errors: dict[str, str], frame_errors: dict[str, str],
                        outcomes: dict[int, CheckOutcome],
                        polars_parameters: Mapping[str, Any] | None) -> dict[str, list[tuple[int, dict]]]:
    """Expectations grouped by the frame they run on ("rows", "text", "text-whole" or a derived frame; with
    ``polars_parameters``, those the Polars engine supports under ``POLARS_GROUP + frame``); those that
    cannot run (context lacks a flag, missing frame or column) get their outcome in ``outcomes``."""
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
        if polars_parameters is not None and supports(cfg, frame if target == "rows" else frames[target],
                                                      polars_parameters):
            groups.setdefault(POLARS_GROUP + target, []).append((i, cfg))
            continue
        if target == "rows" and any(c in text_columns for c in cols):
            group = "text" if is_map_expectation(cfg["type"]) else "text-whole"
        else:
            group = target
        groups.setdefault(group, []).append((i, cfg))
    return groups


def _run_groups(groups: dict[str, list[tuple[int, dict]]], frame: pl.DataFrame, frames: dict[str, pl.DataFrame],
                text_columns: list[str], settings: SuiteSettings, parameters: dict[str, Any]) -> dict[int, CheckOutcome]:
    """Run each group of expectations through GX; text columns only where needed, in chunks for map expectations."""
    outcomes: dict[int, CheckOutcome] = {}
    if "rows" in groups:
        narrow = frame.with_columns([pl.lit(None, dtype=frame.schema[c]).alias(c) for c in text_columns])
        outcomes.update(run_group(groups["rows"], lambda: to_pandas(narrow), settings.index_column, parameters, "rows"))
    text_keep = ([settings.index_column] if settings.index_column in frame.columns else []) + text_columns
    if "text-whole" in groups:
        outcomes.update(run_group(groups["text-whole"], lambda: to_pandas(frame.select(text_keep)),
                                   settings.index_column, parameters, "rows"))
    if "text" in groups:
        merged: dict[int, CheckOutcome] = {}
        mostly = {i: (cfg.get("kwargs") or {}).get("mostly") for i, cfg in groups["text"]}
        slices = frame.select(text_keep).iter_slices(TEXT_CHUNK_ROWS) if frame.height else [frame.select(text_keep)]
        for piece in slices:
            part = run_group(groups["text"], partial(to_pandas, piece), settings.index_column, parameters, "rows")
            for i, o in part.items():
                merged[i] = merge_chunk(merged[i], o, mostly[i]) if i in merged else o
        outcomes.update(merged)
    for name, derived in frames.items():
        if name in groups:
            index = settings.derived_frames[name].get("index_column")
            outcomes.update(run_group(groups[name], partial(to_pandas, derived), index, parameters, name))
    return outcomes


def validate_table(warehouse_root: str | os.PathLike[str], table: str, partition: Mapping[str, str] | None = None,
                   *, context: Mapping[str, Any] | None = None,
                   storage_options: Mapping[str, str] | None = None, engine: str | None = None) -> SuiteResult:
    """Read ``table`` (one partition, or the whole table) from the warehouse and validate it:
    the GX suite plus its custom cross-table checks against the same partition of the other
    tables (only the columns those checks need are read).

    ``context`` as for ``validate_frame``, plus ``versions`` (``{other table: Delta version}`` to read
    for the cross-table checks, e.g. the corpus version a mixture was built from); ``partition`` is
    added to it unless the table is global (not partitioned).  Raises ``FileNotFoundError`` if the
    table does not exist."""
    if not table_exists(table_uri(warehouse_root, table), storage_options):
        raise FileNotFoundError(f"no Delta table {table_uri(warehouse_root, table)}")
    started = time.perf_counter()
    partitioned = is_partitioned(warehouse_root, table, storage_options)
    part = dict(partition) if (partition and partitioned) else None
    frame = read_table(warehouse_root, table, part, storage_options=storage_options)
    others: dict[str, pl.DataFrame] = {}
    versions = (context or {}).get("versions") or {}
    for name in SuiteSettings.of(suite_spec(table)).custom_checks:
        check = CUSTOM_CHECKS.get(name)
        for other, columns in (check.needs.items() if check else ()):
            if other not in others and table_exists(table_uri(warehouse_root, other), storage_options):
                others[other] = read_table(warehouse_root, other, part, columns=columns, storage_options=storage_options,
                                           version=versions.get(other))
    ctx = {"partition": part, **(context or {})}
    result = validate_frame(table, frame, ctx, others=others, engine=engine)
    result.partition = part
    result.seconds = time.perf_counter() - started
    return result
