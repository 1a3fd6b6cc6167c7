r"""The suites' expectations evaluated in Polars, with Great Expectations' pandas semantics.

Why: in a pipeline run the GX machinery costs more than the data it checks (importing GX ~3-4 CPU-s
per worker process; ~7 ms of metric graph and pydantic per expectation, ~1 CPU-s for the signals
suite whatever the row count). The suites stay the GX 1.x JSON files; this module evaluates the
expectation types they use (`SUPPORTED`) as Polars expressions over every row, and reports the same
outcome GX's pandas engine reports for the frame `gx_engine.to_pandas` would give it: success,
observed value, element / missing / unexpected counts, the first `SAMPLE_SIZE` failing index values
and values. `tests/test_check_engines.py` runs both engines on good and deliberately broken frames of
every table and requires identical outcomes.

Semantics copied from GX 1.x on pandas: a map expectation ignores missing values (null, and NaN in
a float column: pandas cannot tell them apart) except `not_be_null`; `be_unique` and
`compound_columns_to_be_unique` flag every row of a duplicated value; a column pair is skipped when
both values are missing; `be_of_type` compares the pandas dtype the column converts to, and on an
object column (lists, structs) checks each value's Python type. Regexes: pandas runs a pattern on
Arrow's RE2 unless it needs Python's `re` (`$`, `\s \d \w \b`, look-arounds, back references);
Rust's regex crate (Polars) shares RE2's syntax and semantics, so the RE2 ones run in Polars after the
same `\Z` -> `\z` rewrite pandas makes, and the others run in Python `re` per value, as in pandas.

Anything else (an expectation type or keyword not listed, an unresolved `$PARAMETER`, a column dtype
without a known pandas counterpart) returns `None` from `supports`, and the caller runs that
expectation in GX: never a silent approximation.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

import polars as pl

from corpus_assets.core.checks.results import SAMPLE_SIZE, CheckOutcome, jsonable, shorten
from corpus_assets.core.checks.suites import outcome_stub

# expectation type -> the keywords this engine understands (anything else: GX)
SUPPORTED: dict[str, frozenset[str]] = {
    "expect_table_columns_to_match_set": frozenset({"column_set", "exact_match"}),
    "expect_table_row_count_to_equal": frozenset({"value"}),
    "expect_column_values_to_be_of_type": frozenset({"column", "type_"}),
    "expect_column_values_to_be_in_type_list": frozenset({"column", "type_list"}),
    "expect_column_values_to_not_be_null": frozenset({"column"}),
    "expect_column_values_to_be_between": frozenset({"column", "min_value", "max_value"}),
    "expect_column_values_to_be_in_set": frozenset({"column", "value_set"}),
    "expect_column_values_to_be_unique": frozenset({"column"}),
    "expect_column_values_to_match_regex": frozenset({"column", "regex"}),
    "expect_column_values_to_not_match_regex_list": frozenset({"column", "regex_list"}),
    "expect_column_value_lengths_to_be_between": frozenset({"column", "min_value", "max_value"}),
    "expect_column_unique_value_count_to_be_between": frozenset({"column", "min_value", "max_value"}),
    "expect_column_pair_values_to_be_equal": frozenset({"column_A", "column_B"}),
    "expect_compound_columns_to_be_unique": frozenset({"column_list"}),
}

# the types that judge each row alone: their outcome on a frame is the merge (`gx_engine.merge_chunk`) of their
# outcomes on its row slices (a type check on a scalar dtype reports the same dtype on every slice)
ROW_WISE = frozenset(SUPPORTED) - {"expect_table_columns_to_match_set", "expect_table_row_count_to_equal",
                                   "expect_column_values_to_be_unique", "expect_column_unique_value_count_to_be_between",
                                   "expect_compound_columns_to_be_unique"}

_INTEGERS = {pl.Int8: "int8", pl.Int16: "int16", pl.Int32: "int32", pl.Int64: "int64",
             pl.UInt8: "uint8", pl.UInt16: "uint16", pl.UInt32: "uint32", pl.UInt64: "uint64"}


def pandas_type_name(dtype: pl.DataType) -> str | None:
    """`dtype.type.__name__` of the pandas column `to_pandas` makes of a Polars column of `dtype`
    ("object_" for the columns it turns into Python objects); None when unknown here."""
    for polars_type, name in _INTEGERS.items():
        if dtype == polars_type:
            return name
    if dtype == pl.Float64:
        return "float64"
    if dtype == pl.Float32:
        return "float32"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.String:
        return "str"
    if isinstance(dtype, pl.Datetime):
        return "Timestamp" if dtype.time_zone else "datetime64"
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct)) or dtype == pl.Null:
        return "object_"
    return None


def _object_value_type(dtype: pl.DataType) -> str | None:
    """Python type of the values of an object column (what GX's per-value type check sees)."""
    if isinstance(dtype, (pl.List, pl.Array)):
        return "list"
    if isinstance(dtype, pl.Struct):
        return "dict"
    return None if dtype != pl.Null else "NoneType"


_NATIVE = {"bool": "bool", "int": "int", "long": "int", "float": "float", "bytes": "bytes", "complex": "complex",
           "str": "str", "string_types": "str", "list": "list", "dict": "dict", "none": "NoneType"}


def _as_pandas_shows(values: list, dtype: pl.DataType) -> list:
    """`values` with null replaced by what pandas holds there (NaN, <NA>, NaT), as GX reports them."""
    if not any(v is None for v in values):
        return values
    name = pandas_type_name(dtype)
    if name in ("str", "float64", "float32"):
        missing: Any = float("nan")
    elif name in ("Timestamp", "datetime64"):
        missing = "NaT"
    elif name == "object_":
        missing = None
    else:  # nullable integers and booleans
        missing = "<NA>"
    return [missing if v is None else v for v in values]


def _accepted_types(type_name: str) -> set[str]:
    """Type names GX's pandas check accepts for `type_name` (numpy's scalar type, pandas' class, the
    native Python type)."""
    import numpy as np

    accepted: set[str] = set()
    try:
        accepted.add(np.dtype(type_name).type.__name__)
    except TypeError:
        accepted.add(type_name)  # a pandas class such as Timestamp / Int64Dtype: its own name
    native = _NATIVE.get(type_name.lower())
    if native:
        accepted.add(native)
    return accepted


def _resolve(value: Any, parameters: Mapping[str, Any]) -> tuple[bool, Any]:
    if isinstance(value, Mapping) and set(value) == {"$PARAMETER"}:
        name = value["$PARAMETER"]
        return (name in parameters), parameters.get(name)
    return True, value


_PYTHON_ONLY = re.compile(r"(?<!\\)(?:\\\\)*(?:\\[sSdDwWbB]|\\[1-9]|\$|\(\?[=!<])")
_END_ANCHOR = re.compile(r"(?<!\\)((?:\\\\)*)\\Z")


def _needs_python_regex(pattern: str) -> bool:
    return bool(_PYTHON_ONLY.search(pattern))


def _missing(column: str, dtype: pl.DataType) -> pl.Expr:
    """What pandas counts as missing: null, and NaN in a float column."""
    expr = pl.col(column).is_null()
    return expr | pl.col(column).is_nan() if dtype.is_float() else expr


def _numeric_bounds(kwargs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    bounds = [_resolve(kwargs.get(k), parameters)[1] for k in ("min_value", "max_value")]
    return any(b is not None for b in bounds) and all(b is None or isinstance(b, (int, float)) for b in bounds)


def _set_matches(dtype: pl.DataType, values: Any) -> bool:
    """A value set of the column's kind (strings for a string column, ...), so `is_in` compares like pandas."""
    if not isinstance(values, (list, tuple, set)):
        return False
    if dtype == pl.String:
        return all(isinstance(v, str) for v in values)
    if dtype == pl.Boolean:
        return all(isinstance(v, bool) for v in values)
    return dtype.is_numeric() and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _scalar(dtype: pl.DataType | None) -> bool:
    return dtype is not None and pandas_type_name(dtype) != "object_"


def _typed(dtype: pl.DataType | None) -> bool:
    """A column whose type GX's pandas type check can judge here (scalar, or values of a known Python type)."""
    return dtype is not None and (_scalar(dtype) or _object_value_type(dtype) is not None)


# expectation type -> does this engine evaluate it on a column of this dtype (schema, kwargs, parameters)
_RULES: dict[str, Callable[[pl.DataType | None, Mapping[str, pl.DataType], Mapping[str, Any], Mapping[str, Any]], bool]] = {
    "expect_table_columns_to_match_set": lambda d, s, k, p: True,
    "expect_table_row_count_to_equal": lambda d, s, k, p: True,
    "expect_column_values_to_not_be_null": lambda d, s, k, p: True,
    "expect_column_values_to_be_of_type": lambda d, s, k, p: _typed(d),
    "expect_column_values_to_be_in_type_list": lambda d, s, k, p: _typed(d),
    "expect_column_values_to_be_between": lambda d, s, k, p: _numeric_bounds(k, p) and d is not None and d.is_numeric(),
    "expect_column_value_lengths_to_be_between": lambda d, s, k, p: _numeric_bounds(k, p) and d == pl.String,
    "expect_column_unique_value_count_to_be_between": lambda d, s, k, p: _numeric_bounds(k, p) and _scalar(d),
    "expect_column_values_to_be_in_set": lambda d, s, k, p: d is not None and _set_matches(d, _resolve(k.get("value_set"), p)[1]),
    "expect_column_values_to_match_regex": lambda d, s, k, p: d == pl.String,
    "expect_column_values_to_not_match_regex_list": lambda d, s, k, p: d == pl.String,
    "expect_column_values_to_be_unique": lambda d, s, k, p: _scalar(d),
    "expect_column_pair_values_to_be_equal": lambda d, s, k, p: _comparable(s[k["column_A"]], s[k["column_B"]]),
    "expect_compound_columns_to_be_unique": lambda d, s, k, p: all(_scalar(s[c]) for c in k["column_list"]),
}


def _comparable(a: pl.DataType, b: pl.DataType) -> bool:
    return _scalar(a) and _scalar(b) and (a == b or (a.is_numeric() and b.is_numeric()))


def supports(cfg: Mapping[str, Any], frame: pl.DataFrame, parameters: Mapping[str, Any]) -> bool:
    """Whether this engine evaluates `cfg` on `frame` (else GX does)."""
    kind = cfg.get("type")
    kwargs = cfg.get("kwargs") or {}
    if kind not in SUPPORTED or not set(kwargs) <= SUPPORTED[kind]:
        return False
    if (cfg.get("meta") or {}).get("row_condition") or not all(_resolve(v, parameters)[0] for v in kwargs.values()):
        return False
    schema = frame.schema
    named = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k) is not None]
    named += list(kwargs.get("column_list") or ())
    if any(name not in schema or pandas_type_name(schema[name]) is None for name in named):
        return False
    column = kwargs.get("column")
    return _RULES[kind](schema.get(column) if column else None, schema, kwargs, parameters)


def _regex_hits(series: pl.Series, pattern: str) -> pl.Series:
    """Boolean per non-null value: does `pattern` occur in it (pandas `str.contains` semantics)."""
    if _needs_python_regex(pattern):
        compiled = re.compile(pattern)
        return pl.Series([v is not None and compiled.search(v) is not None for v in series], dtype=pl.Boolean)
    return series.str.contains(_END_ANCHOR.sub(r"\1\\z", pattern))


def map_outcome(cfg: Mapping[str, Any], frame_name: str, element_count: int, missing_count: int,
                unexpected_count: int, ids: Sequence[Any], sample: Sequence[Any]) -> CheckOutcome:
    """A column map expectation's outcome as GX reports it: `ids` are the index values (as pandas shows
    them) of the first `SAMPLE_SIZE` failing rows, listed once each, `sample` their values."""
    unique_ids: list[Any] = []
    for key in ids:
        if key not in unique_ids:
            unique_ids.append(key)
    outcome = outcome_stub(cfg, frame_name, success=unexpected_count == 0, observed_value=None,
                           element_count=element_count, missing_count=missing_count, unexpected_count=unexpected_count)
    outcome.unexpected_ids = jsonable(unique_ids[:SAMPLE_SIZE])
    outcome.unexpected_values = jsonable([shorten(v) if isinstance(v, str) else v for v in sample][:SAMPLE_SIZE])
    return outcome


def as_pandas_shows(values: list, dtype: pl.DataType) -> list:
    """`values` (of a column of `dtype`) with null replaced by what pandas holds there, as GX reports them."""
    return _as_pandas_shows(values, dtype)


class _Evaluator:
    def __init__(self, frame: pl.DataFrame, index_column: str | None, parameters: Mapping[str, Any], frame_name: str):
        self.frame = frame
        self.index_column = index_column if index_column in frame.columns else None
        self.parameters = parameters
        self.frame_name = frame_name

    def arg(self, kwargs: Mapping[str, Any], key: str) -> Any:
        return _resolve(kwargs.get(key), self.parameters)[1]

    # -- results -------------------------------------------------------------------------------

    def aggregate(self, cfg, success: bool, observed: Any) -> CheckOutcome:
        return outcome_stub(cfg, self.frame_name, success=bool(success), observed_value=jsonable(observed))

    def map_result(self, cfg, unexpected: pl.Series, missing: pl.Series | None,
                   values: pl.Series | Callable[[list[int]], list]) -> CheckOutcome:
        """`unexpected`/`missing`: a boolean per row (missing rows are never unexpected);
        `values`: the column GX lists failing values of, or a function giving them for row positions."""
        missing_count = int(missing.sum()) if missing is not None else 0
        rows = unexpected.fill_null(False)
        unexpected_count = int(rows.sum())
        positions = rows.arg_true().head(SAMPLE_SIZE).to_list() if unexpected_count else []
        if isinstance(values, pl.Series):
            sample = _as_pandas_shows(values.gather(positions).to_list(), values.dtype) if positions else []
        else:
            sample = values(positions) if positions else []
        if self.index_column is not None:
            index = self.frame.get_column(self.index_column)
            ids = _as_pandas_shows(index.gather(positions).to_list(), index.dtype) if positions else []
        else:
            ids = positions
        return map_outcome(cfg, self.frame_name, self.frame.height, missing_count, unexpected_count, ids, sample)

    def column_map(self, cfg, column: str, bad_if_present: pl.Expr) -> CheckOutcome:
        """A column map expectation: `bad_if_present` judged on the rows whose value is not missing."""
        dtype = self.frame.schema[column]
        judged = self.frame.select(_missing(column, dtype).alias("missing"), bad_if_present.alias("bad"))
        missing = judged.get_column("missing")
        unexpected = judged.get_column("bad").fill_null(False) & ~missing
        return self.map_result(cfg, unexpected, missing, self.frame.get_column(column))

    # -- expectation types ----------------------------------------------------------------------

    def evaluate(self, cfg: Mapping[str, Any]) -> CheckOutcome:
        method = getattr(self, "_" + cfg["type"].removeprefix("expect_"), None)
        if method is None:
            raise ValueError(f"unsupported expectation {cfg['type']}")
        return method(cfg, cfg.get("kwargs") or {})

    def _within(self, value: pl.Expr, kwargs: Mapping[str, Any]) -> pl.Expr:
        low, high = self.arg(kwargs, "min_value"), self.arg(kwargs, "max_value")
        inside = pl.lit(True)
        if low is not None:
            inside = inside & (value >= low)
        if high is not None:
            inside = inside & (value <= high)
        return inside

    def _table_columns_to_match_set(self, cfg, kwargs) -> CheckOutcome:
        expected = set(self.arg(kwargs, "column_set") or [])
        actual = list(self.frame.columns)
        exact = self.arg(kwargs, "exact_match")
        success = set(actual) == expected if exact is None or exact else expected <= set(actual)
        return self.aggregate(cfg, success, sorted(actual))

    def _table_row_count_to_equal(self, cfg, kwargs) -> CheckOutcome:
        return self.aggregate(cfg, self.frame.height == self.arg(kwargs, "value"), self.frame.height)

    def _column_values_to_be_of_type(self, cfg, kwargs) -> CheckOutcome:
        return self._types(cfg, kwargs["column"], [self.arg(kwargs, "type_")])

    def _column_values_to_be_in_type_list(self, cfg, kwargs) -> CheckOutcome:
        return self._types(cfg, kwargs["column"], list(self.arg(kwargs, "type_list") or []))

    def _types(self, cfg, column: str, names: list) -> CheckOutcome:
        """GX's pandas type check: the column's dtype, or each value's Python type in an object column."""
        given = [n for n in names if n is not None]
        dtype = self.frame.schema[column]
        observed = pandas_type_name(dtype)
        if not given:
            return self.aggregate(cfg, True, observed)
        accepted = set().union(*(_accepted_types(n) for n in given))
        if observed != "object_" or given in (["object"], ["object_"], ["O"]):
            return self.aggregate(cfg, observed in accepted, observed)
        return self.column_map(cfg, column, pl.lit(_object_value_type(dtype) not in accepted))

    def _column_values_to_not_be_null(self, cfg, kwargs) -> CheckOutcome:
        column = kwargs["column"]
        missing = self.frame.select(_missing(column, self.frame.schema[column])).to_series()
        outcome = self.map_result(cfg, missing, None, self.frame.get_column(column))
        outcome.missing_count = None
        return outcome

    def _column_values_to_be_between(self, cfg, kwargs) -> CheckOutcome:
        return self.column_map(cfg, kwargs["column"], ~self._within(pl.col(kwargs["column"]), kwargs))

    def _column_value_lengths_to_be_between(self, cfg, kwargs) -> CheckOutcome:
        return self.column_map(cfg, kwargs["column"], ~self._within(pl.col(kwargs["column"]).str.len_chars(), kwargs))

    def _column_values_to_be_in_set(self, cfg, kwargs) -> CheckOutcome:
        column = kwargs["column"]
        values = pl.Series(list(self.arg(kwargs, "value_set")), dtype=self.frame.schema[column], strict=False)
        return self.column_map(cfg, column, ~pl.col(column).is_in(values.implode()))  # the set, not row by row

    def _column_values_to_be_unique(self, cfg, kwargs) -> CheckOutcome:
        column = kwargs["column"]
        present = ~_missing(column, self.frame.schema[column])
        keyed = self.frame.select(pl.when(present).then(pl.col(column)).alias("v"), present.alias("p"))
        return self.column_map(cfg, column, pl.lit(keyed.select(pl.col("v").is_duplicated() & pl.col("p")).to_series()))

    def _column_values_to_match_regex(self, cfg, kwargs) -> CheckOutcome:
        bad = ~_regex_hits(self.frame.get_column(kwargs["column"]), self.arg(kwargs, "regex"))
        return self.column_map(cfg, kwargs["column"], pl.lit(bad.fill_null(False)))

    def _column_values_to_not_match_regex_list(self, cfg, kwargs) -> CheckOutcome:
        series = self.frame.get_column(kwargs["column"])
        bad = pl.Series([False] * self.frame.height, dtype=pl.Boolean)
        for pattern in self.arg(kwargs, "regex_list"):  # every pattern over every row's full text
            bad = bad | _regex_hits(series, pattern).fill_null(False)
        return self.column_map(cfg, kwargs["column"], pl.lit(bad))

    def _column_unique_value_count_to_be_between(self, cfg, kwargs) -> CheckOutcome:
        column = kwargs["column"]
        present = self.frame.select(pl.col(column).filter(~_missing(column, self.frame.schema[column])))
        count = present.select(pl.col(column).n_unique()).item()
        low, high = self.arg(kwargs, "min_value"), self.arg(kwargs, "max_value")
        return self.aggregate(cfg, (low is None or count >= low) and (high is None or count <= high), count)

    def _column_pair_values_to_be_equal(self, cfg, kwargs) -> CheckOutcome:
        a, b = kwargs["column_A"], kwargs["column_B"]
        frame = self.frame
        judged = frame.select(_missing(a, frame.schema[a]).alias("ma"), _missing(b, frame.schema[b]).alias("mb"),
                              (pl.col(a) == pl.col(b)).alias("eq"))
        both = judged.get_column("ma") & judged.get_column("mb")  # skipped, as GX's default ignore_row_if
        one = judged.get_column("ma") ^ judged.get_column("mb")
        unexpected = ~both & (one | ~judged.get_column("eq").fill_null(False))
        pair = frame.select(a, b)
        return self.map_result(cfg, unexpected, both, lambda rows: pair[rows].rows())

    def _compound_columns_to_be_unique(self, cfg, kwargs) -> CheckOutcome:
        columns = list(kwargs["column_list"])
        frame = self.frame
        skip = frame.select(pl.all_horizontal([_missing(c, frame.schema[c]) for c in columns])).to_series()
        keyed = frame.select(pl.struct(columns).alias("k")).with_columns(pl.Series("skip", skip))
        dup = keyed.select(pl.when(~pl.col("skip")).then(pl.col("k")).alias("k"), pl.col("skip")).select(
            pl.col("k").is_duplicated() & ~pl.col("skip")).to_series()
        chosen = frame.select(columns)
        return self.map_result(cfg, dup, skip, lambda rows: chosen[rows].rows(named=True))


def run_polars(configs: Sequence[tuple[int, dict]], frame: pl.DataFrame, index_column: str | None,
               parameters: Mapping[str, Any], frame_name: str) -> dict[int, CheckOutcome]:
    """Evaluate `configs` (each one `supports`) on `frame`; outcomes keyed by config position. An
    expectation that raises becomes an error outcome, as in GX."""
    evaluator = _Evaluator(frame, index_column, parameters, frame_name)
    out: dict[int, CheckOutcome] = {}
    for i, cfg in configs:
        try:
            out[i] = evaluator.evaluate(cfg)
        except Exception as exc:  # noqa: BLE001 - reported on the expectation, the others still run
            out[i] = outcome_stub(cfg, frame_name, success=False, error=f"{type(exc).__name__}: {exc}")
    return out
