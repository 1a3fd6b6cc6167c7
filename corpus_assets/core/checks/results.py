"""What validating a table produced: one `CheckOutcome` per expectation, gathered in a `SuiteResult`.

``SuiteResult`` holds one ``CheckOutcome`` per expectation (and per custom check):
type/name, column, success, observed value, unexpected / element counts, up to
``SAMPLE_SIZE`` failing ``doc_id`` s (GX ``SUMMARY`` result format with
``unexpected_index_column_names``) and failing values, skip reason or error.
``to_metadata()`` is JSON-serialisable (Dagster asset-check metadata), ``to_rows()`` /
``format_results()`` print tables, ``write_report()`` writes a static HTML page.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

SAMPLE_SIZE = 10  # failing ids and values kept per check
VALUE_CHARS = 120  # failing values are truncated to this many characters in results


@dataclass
class CheckOutcome:
    """The result of one expectation (or custom check) on one batch."""

    name: str  # "expect_column_values_to_be_between(lang_score)" / custom check name
    expectation_type: str  # GX expectation type, or "custom_check"
    success: bool
    column: str | None = None
    description: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    frame: str = "rows"  # rows | <derived frame> | cross-table
    check: str | None = None  # the check group (Dagster asset check) it belongs to
    observed_value: Any = None
    element_count: int | None = None
    missing_count: int | None = None
    unexpected_count: int | None = None
    unexpected_ids: list[Any] = field(default_factory=list)  # <= SAMPLE_SIZE failing index values
    unexpected_values: list[Any] = field(default_factory=list)  # <= SAMPLE_SIZE failing values
    skipped: str | None = None  # reason; a skipped check counts as a success
    error: str | None = None  # exception raised while evaluating; counts as a failure

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        if self.error:
            return "error"
        return "passed" if self.success else "failed"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name, "type": self.expectation_type, "column": self.column, "status": self.status,
            "success": self.success, "observed_value": self.observed_value, "element_count": self.element_count,
            "unexpected_count": self.unexpected_count, "unexpected_ids": self.unexpected_ids,
            "unexpected_values": self.unexpected_values, "description": self.description, "frame": self.frame,
            "kwargs": self.kwargs,
        }
        if self.skipped:
            out["skipped"] = self.skipped
        if self.error:
            out["error"] = self.error
        return jsonable(out)


@dataclass
class SuiteResult:
    """Every expectation of a table's suite (plus its custom checks) on one batch."""

    table: str
    success: bool
    outcomes: list[CheckOutcome]
    partition: dict[str, str] | None = None
    row_count: int | None = None
    seconds: float = 0.0

    @property
    def failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def statistics(self) -> dict[str, int]:
        """Counts by status: evaluated (= passed + failed + errors) and skipped."""
        counts = {"evaluated": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
        key = {"passed": "passed", "failed": "failed", "error": "errors", "skipped": "skipped"}
        for o in self.outcomes:
            counts[key[o.status]] += 1
        counts["evaluated"] = counts["passed"] + counts["failed"] + counts["errors"]
        return counts

    def outcome(self, name_or_type: str, column: str | None = None) -> CheckOutcome:
        """The outcome with this name (or expectation type [+ column]); KeyError if none."""
        for o in self.outcomes:
            if o.name == name_or_type or (o.expectation_type == name_or_type and (column is None or o.column == column)):
                return o
        raise KeyError(f"{self.table}: no outcome {name_or_type!r}" + (f" on {column!r}" if column else ""))

    def of_check(self, check: str) -> "SuiteResult":
        """The outcomes of one check group, as a result of their own."""
        outcomes = [o for o in self.outcomes if o.check == check]
        return SuiteResult(self.table, all(o.success for o in outcomes), outcomes, self.partition, self.row_count,
                           self.seconds)

    def merged(self, other: "SuiteResult") -> "SuiteResult":
        return SuiteResult(self.table, self.success and other.success, self.outcomes + other.outcomes,
                           self.partition, self.row_count if self.row_count is not None else other.row_count,
                           self.seconds + other.seconds)

    def to_metadata(self, include_passed: bool = True) -> dict[str, Any]:
        """JSON-serialisable summary + per-check results (for Dagster asset-check metadata).

        Failing / erroring checks carry every detail (observed value, counts, failing ids and
        values, kwargs); passed and skipped ones only name and status (``include_passed=False``
        leaves them out)."""
        results = []
        for o in self.outcomes:
            if o.success and not include_passed:
                continue
            if o.success:
                results.append({"name": o.name, "status": o.status, **({"skipped": o.skipped} if o.skipped else {})})
            else:
                results.append(o.to_dict())
        return jsonable({
            "table": self.table,
            "partition": self.partition,
            "success": self.success,
            "rows": self.row_count,
            **self.statistics,
            "seconds": round(self.seconds, 3),
            "failed_checks": [o.name for o in self.failures],
            "results": results,
        })

    def to_rows(self, only_failures: bool = False) -> list[dict[str, Any]]:
        """One flat dict per check, for printing as a table."""
        rows = []
        for o in self.outcomes:
            if only_failures and o.success:
                continue
            rows.append({
                "check": f"{o.check}/{o.name}" if o.check else o.name,
                "status": o.status,
                "observed": shorten(o.error or o.skipped or observed_text(o)),
                "unexpected": "" if o.unexpected_count is None else f"{o.unexpected_count}/{o.element_count}",
                "sample_ids": ", ".join(map(str, o.unexpected_ids[:3])) + (" ..." if len(o.unexpected_ids) > 3 else ""),
            })
        return rows


def observed_text(o: CheckOutcome) -> str:
    if o.observed_value is not None:
        return json.dumps(jsonable(o.observed_value), ensure_ascii=False) if not isinstance(o.observed_value, str) \
            else o.observed_value
    if o.unexpected_values:
        return "e.g. " + ", ".join(repr(v) for v in o.unexpected_values[:3])
    return ""


def shorten(value: Any, limit: int = VALUE_CHARS) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def jsonable(value: Any) -> Any:
    """Plain JSON types (numpy / pandas scalars, datetimes, NaN) all the way down."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)  # numpy array
    if callable(tolist):
        return jsonable(tolist())
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return isoformat()
    return str(value)
