r"""The Great Expectations runtime: one ephemeral context per process, pandas batches, merged slices.

Large partitions: what goes to pandas
-------------------------------------
GX's pandas engine needs a pandas frame; a real shard is tens of thousands of documents of
~5 kB text each, so the whole table is never converted in one piece:

* derived columns and derived frames are computed in Polars first (Rust, no copy of the
  text), so GX sees one boolean per row (``n_chars_matches_text``) or one row per cluster
  instead of the raw material;
* the *narrow* batch - every expectation that does not name a text column - gets all
  columns except the ``text_columns``, which are all-null placeholders of the same dtype
  (so column-set and type expectations still see them; ``validate_table`` does not even
  read them): converting it costs about what the numeric columns weigh;
* expectations on a text column or on a derived column computed from one (the corpus PII
  regex list, ``text``/``title`` type checks, ``n_chars_matches_text``) run on the batches
  of ``validate.BATCH_ROWS`` rows that ``validate`` streams (``index_column``, the
  text columns and what the derived ones need); per-row (map) results are merged by
  ``merge_chunk``, so every row's full text is checked (a sample would defeat the PII
  check) while at most one batch of text is held as pandas at a time.  Strings convert to
  pandas' pyarrow-backed ``str`` dtype, so GX's ``str.contains`` runs RE2 over Arrow
  buffers (~0.3 s per pattern for 170 MB of text) - provided the pattern avoids what
  pandas hands to Python ``re`` instead (``\s \d \w \b``, ``$``, look-arounds: ~25x
  slower); the suite's patterns are written that way (``\Z`` for end of text, explicit
  whitespace classes).  An expectation on a text column that compares rows (none today)
  runs on the whole text column in one batch.

Measured (this machine, sample partitions of 24-38 rows): GX import + context once per
process 3.6 s (the context alone 15 ms); ``validate_table`` per partition documents 0.4 s,
signals 1.2 s (133 checks), decisions 0.2 s, corpus 0.45 s.  Synthetic 40k-row partitions
(the sample replicated): documents 1.0 s, signals 2.3 s, decisions 0.7 s, corpus (29k rows,
170 MB text) 3.7 s, peak RSS ~650 MB.

Results
-------
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import polars as pl

from corpus_assets.core.checks.results import SAMPLE_SIZE, CheckOutcome, jsonable, shorten
from corpus_assets.core.checks.suites import outcome_stub

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)


class _GxRuntime:
    def __init__(self) -> None:
        started = time.perf_counter()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

        imported = time.perf_counter()
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
                                   progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
        self.gx = gx
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        source = self.context.data_sources.add_pandas("corpus_assets_frames")
        self.batch_definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")
        self.pid = os.getpid()
        self.import_seconds = imported - started
        self.setup_seconds = time.perf_counter() - started
        self.lock = threading.Lock()
        log.debug("GX runtime ready in %.2fs (import %.2fs)", self.setup_seconds, self.import_seconds)


_RUNTIME: _GxRuntime | None = None
_RUNTIME_LOCK = threading.Lock()


def gx_runtime() -> _GxRuntime:
    """The process-wide ephemeral GX context + pandas batch definition (created on first use).

    ``.setup_seconds`` (import + context) tells what the first call paid."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None or _RUNTIME.pid != os.getpid():
            _RUNTIME = _GxRuntime()
        return _RUNTIME


@lru_cache(maxsize=None)
def is_map_expectation(expectation_type: str) -> bool:
    """Per-row expectations, whose results over row slices can be merged by adding counts."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        impl = get_expectation_impl(expectation_type)
    except Exception:  # unknown type: GX reports it when the suite runs
        return False
    return issubclass(impl, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation))


_INT_NULLABLE: dict | None = None


def to_pandas(frame: pl.DataFrame) -> "pd.DataFrame":
    """pandas frame whose dtypes keep the Polars types GX checks (nullable ints/bools stay ints/bools,
    strings pyarrow-backed ``str``, lists as Python lists, tz-aware timestamps)."""
    import pandas as pd
    import pyarrow as pa

    global _INT_NULLABLE
    if _INT_NULLABLE is None:
        _INT_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
                         pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                         pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}
    columns: dict[str, pd.Series] = {}
    for series in frame.iter_columns():
        dtype = series.dtype
        if isinstance(dtype, (pl.List, pl.Array)):
            columns[series.name] = pd.Series(series.to_list(), dtype=object, name=series.name)
        elif isinstance(dtype, pl.Struct):
            columns[series.name] = pd.Series(series.to_list(), dtype=object, name=series.name)
        elif (dtype.is_integer() or dtype == pl.Boolean) and series.null_count():
            columns[series.name] = series.to_pandas(types_mapper=_INT_NULLABLE.get)
        else:
            columns[series.name] = series.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(frame.height), copy=False)


def _run_gx(configs: Sequence[tuple[int, dict]], pdf: "pd.DataFrame", index_column: str | None,
            parameters: Mapping[str, Any], frame_name: str) -> dict[int, CheckOutcome]:
    """Validate ``pdf`` against the given expectation configs; outcomes keyed by config position."""
    runtime = gx_runtime()
    expectations = []
    for i, cfg in configs:
        item = {k: v for k, v in cfg.items() if k in ("type", "kwargs", "meta", "notes", "description", "severity")}
        item["meta"] = {**(cfg.get("meta") or {}), "_position": i}
        expectations.append(item)
    suite = runtime.gx.ExpectationSuite(name=f"batch-{frame_name}", expectations=expectations)
    if len(suite.expectations) != len(expectations):
        raise ValueError("Great Expectations rejected an expectation configuration (see the log)")
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE,
                                     "return_unexpected_index_query": False}
    if index_column and index_column in pdf.columns:
        result_format["unexpected_index_column_names"] = [index_column]
    with runtime.lock:
        batch = runtime.batch_definition.get_batch(batch_parameters={"dataframe": pdf})
        validation = batch.validate(suite, result_format=result_format,
                                    expectation_parameters=dict(parameters) or None)
    by_position = {i: cfg for i, cfg in configs}
    out: dict[int, CheckOutcome] = {}
    for res in validation.results:
        position: int = (res.expectation_config.meta or {})["_position"]  # set on every config by _run_gx
        cfg = by_position[position]
        out[position] = _outcome_from_gx(cfg, res, index_column, frame_name)
    return out


def run_group(configs: Sequence[tuple[int, dict]], make_pdf: Callable[[], "pd.DataFrame"], index_column: str | None,
               parameters: Mapping[str, Any], frame_name: str) -> dict[int, CheckOutcome]:
    """``_run_gx``, but a crash of the whole batch becomes an error outcome on each of its checks."""
    try:
        return _run_gx(configs, make_pdf(), index_column, parameters, frame_name)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the other batches still run
        log.exception("expectations: validating %s failed", frame_name)
        return {i: outcome_stub(cfg, frame_name, success=False, error=f"{type(exc).__name__}: {exc}")
                for i, cfg in configs}


def _outcome_from_gx(cfg: Mapping[str, Any], res: Any, index_column: str | None, frame_name: str) -> CheckOutcome:
    result = dict(res.result or {})
    ids: list[Any] = []
    values: list[Any] = []
    for item in result.get("partial_unexpected_index_list") or ():
        key = item.get(index_column) if isinstance(item, Mapping) else item
        if key not in ids:
            ids.append(key)
    for value in result.get("partial_unexpected_list") or ():
        values.append(shorten(value) if isinstance(value, str) else value)
    error = _exception_message(res.exception_info)
    outcome = outcome_stub(cfg, frame_name, success=bool(res.success) and error is None,
                            observed_value=result.get("observed_value"),
                            element_count=result.get("element_count"), missing_count=result.get("missing_count"),
                            unexpected_count=result.get("unexpected_count"), error=error)
    outcome.unexpected_ids = jsonable(ids[:SAMPLE_SIZE])
    outcome.unexpected_values = jsonable(values[:SAMPLE_SIZE])
    outcome.observed_value = jsonable(outcome.observed_value)
    return outcome


def _exception_message(info: Any) -> str | None:
    if not info:
        return None
    if isinstance(info, Mapping) and "raised_exception" in info:
        return (info.get("exception_message") or "exception raised") if info.get("raised_exception") else None
    if isinstance(info, Mapping):  # {metric id: {exception_message, ...}}
        messages = [str(v.get("exception_message")) for v in info.values()
                    if isinstance(v, Mapping) and (v.get("raised_exception", True) and v.get("exception_message"))]
        return "; ".join(messages) or None
    return str(info)


def merge_chunk(a: CheckOutcome, b: CheckOutcome, mostly: float | None) -> CheckOutcome:
    """Combine one expectation's outcomes over two consecutive row slices of the same batch into its outcome
    over both: counts added, the failing ids and values of the first ``SAMPLE_SIZE`` failing rows."""
    merged = replace(a)
    if b.error and b.error not in (a.error or "").split("; "):  # an error every batch raises: reported once
        merged.error = "; ".join(e for e in (a.error, b.error) if e)
    if a.unexpected_count is not None and b.unexpected_count is not None:
        merged.element_count = (a.element_count or 0) + (b.element_count or 0)
        if a.missing_count is not None or b.missing_count is not None:  # None: not reported (not_be_null)
            merged.missing_count = (a.missing_count or 0) + (b.missing_count or 0)
        merged.unexpected_count = a.unexpected_count + b.unexpected_count
        room = max(0, SAMPLE_SIZE - a.unexpected_count)  # b's failing rows still among the first SAMPLE_SIZE
        # ids are listed once each: b's first `room` rows are its first `room` ids unless those rows repeat an id
        b_ids = b.unexpected_ids if b.unexpected_count <= room else b.unexpected_ids[:room]
        merged.unexpected_ids = (a.unexpected_ids + [i for i in b_ids if i not in a.unexpected_ids])[:SAMPLE_SIZE]
        merged.unexpected_values = (a.unexpected_values + b.unexpected_values[:room])[:SAMPLE_SIZE]
        nonnull = merged.element_count - (merged.missing_count or 0)
        if mostly is None or nonnull == 0:
            ok = merged.unexpected_count == 0
        else:
            ok = (nonnull - merged.unexpected_count) / nonnull >= mostly
        merged.success = ok and not merged.error
    else:
        merged.success = a.success and b.success and not merged.error
        if a.success and not b.success:
            merged.observed_value = b.observed_value
    return merged
