"""Named cross-table checks (Polars anti-joins against documents / signals / decisions / corpus), reported
in the same result format as the GX expectations.  These run on frames in memory (``validate_frame``, the GX
engine); for a warehouse table ``keyed.KeyedChecks`` evaluates the same checks out of core, in DuckDB, with
the same outcomes."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import polars as pl

from corpus_assets.core.checks.results import SAMPLE_SIZE, CheckOutcome, SuiteResult, jsonable
from corpus_assets.core.checks.suites import SuiteSettings, suite_spec


@dataclass(frozen=True)
class CustomCheck:
    """A named check the engine implements in Polars; ``needs`` maps other tables to the columns read, ``uses``
    names the columns of the checked table it reads (the only ones it is given: validation reads them whole)."""

    name: str
    description: str
    needs: dict[str, tuple[str, ...]]
    uses: tuple[str, ...]
    run: Callable[[pl.DataFrame, Mapping[str, pl.DataFrame]], CheckOutcome]


def _custom_outcome(check: CustomCheck, success: bool, **fields: Any) -> CheckOutcome:
    return CheckOutcome(name=check.name, expectation_type="custom_check", success=success,
                        description=check.description, frame="cross-table", **fields)


def _ids(frame: pl.DataFrame, column: str = "doc_id") -> list[Any]:
    if column not in frame.columns:
        return []
    return jsonable(frame.get_column(column).head(SAMPLE_SIZE).to_list())


def _anti(left: pl.DataFrame, right: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    # cast keys to the left side's types so e.g. Int32 vs Int64 offsets still match
    right = right.select([pl.col(k).cast(left.schema[k]) for k in keys]).unique()
    return left.join(right, on=keys, how="anti", nulls_equal=True, maintain_order="left")  # stable sample ids


_PROVENANCE = ("doc_id", "url", "warc_path", "warc_record_offset", "warc_record_length")


def _rows_trace_to_documents(frame: pl.DataFrame, others: Mapping[str, pl.DataFrame]) -> CheckOutcome:
    check = CUSTOM_CHECKS["rows_trace_to_documents"]
    documents = others["documents"]
    keys = [k for k in _PROVENANCE if k in frame.columns and k in documents.columns]
    orphans = _anti(frame.select(keys), documents, keys)
    return _custom_outcome(check, orphans.height == 0, column="doc_id", kwargs={"keys": keys},
                           observed_value=f"{orphans.height} of {frame.height} rows without a documents row "
                                          f"with the same {', '.join(keys)}",
                           element_count=frame.height, unexpected_count=orphans.height, unexpected_ids=_ids(orphans))


def _rows_are_kept_decisions(frame: pl.DataFrame, others: Mapping[str, pl.DataFrame]) -> CheckOutcome:
    check = CUSTOM_CHECKS["rows_are_kept_decisions"]
    kept = others["decisions"].filter(pl.col("keep").fill_null(False)).select("doc_id")
    stray = _anti(frame.select("doc_id"), kept, ["doc_id"])
    return _custom_outcome(check, stray.height == 0, column="doc_id",
                           observed_value=f"{stray.height} of {frame.height} rows not kept by decisions",
                           element_count=frame.height, unexpected_count=stray.height, unexpected_ids=_ids(stray))


def _doc_ids_match(other: str) -> Callable[[pl.DataFrame, Mapping[str, pl.DataFrame]], CheckOutcome]:
    def run(frame: pl.DataFrame, others: Mapping[str, pl.DataFrame]) -> CheckOutcome:
        check = CUSTOM_CHECKS[f"doc_ids_match_{other}"]
        mine, theirs = frame.select("doc_id"), others[other].select("doc_id")
        missing = _anti(theirs, mine, ["doc_id"])  # in the upstream table, not here
        extra = _anti(mine, theirs, ["doc_id"])  # here, not upstream
        bad = missing.height + extra.height
        return _custom_outcome(check, bad == 0, column="doc_id",
                               observed_value={"rows": frame.height, f"{other}_rows": theirs.height,
                                               f"missing_from_{other}": missing.height,
                                               f"not_in_{other}": extra.height},
                               element_count=max(frame.height, theirs.height), unexpected_count=bad,
                               unexpected_ids=(_ids(extra) + _ids(missing))[:SAMPLE_SIZE])
    return run


def _doc_ids_exist_in(other: str) -> Callable[[pl.DataFrame, Mapping[str, pl.DataFrame]], CheckOutcome]:
    def run(frame: pl.DataFrame, others: Mapping[str, pl.DataFrame]) -> CheckOutcome:
        check = CUSTOM_CHECKS[f"doc_ids_exist_in_{other}"]
        unknown = _anti(frame.select("doc_id").unique(maintain_order=True), others[other], ["doc_id"])
        return _custom_outcome(check, unknown.height == 0, column="doc_id",
                               observed_value=f"{unknown.height} doc_ids not in {other}",
                               element_count=frame.height, unexpected_count=unknown.height, unexpected_ids=_ids(unknown))
    return run


def _rows_carry_their_scores(frame: pl.DataFrame, others: Mapping[str, pl.DataFrame]) -> CheckOutcome:
    check = CUSTOM_CHECKS["rows_carry_their_quality_scores"]
    keys = ["doc_id", "quality_score", "model_version"]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        return _custom_outcome(check, False, column="quality_score", observed_value=f"no column(s) {missing}",
                               element_count=frame.height, unexpected_count=frame.height, unexpected_ids=_ids(frame))
    stray = _anti(frame.select(keys), others["quality_scores"], keys)
    return _custom_outcome(check, stray.height == 0, column="quality_score",
                           observed_value=f"{stray.height} of {frame.height} rows whose score or model version is "
                                          "not their quality_scores row",
                           element_count=frame.height, unexpected_count=stray.height, unexpected_ids=_ids(stray))


CUSTOM_CHECKS: dict[str, CustomCheck] = {c.name: c for c in [
    CustomCheck("rows_trace_to_documents",
                "every row's doc_id + URL + WARC path/offset/length exists in documents (same partition)",
                {"documents": _PROVENANCE}, _PROVENANCE, _rows_trace_to_documents),
    CustomCheck("rows_are_kept_decisions", "every row is a document that decisions keeps (same partition)",
                {"decisions": ("doc_id", "keep")}, ("doc_id",), _rows_are_kept_decisions),
    CustomCheck("doc_ids_match_documents", "exactly the documents of the partition have a row here (1:1 doc_ids)",
                {"documents": ("doc_id",)}, ("doc_id",), _doc_ids_match("documents")),
    CustomCheck("doc_ids_match_signals", "exactly the signal rows of the partition have decisions (1:1 doc_ids)",
                {"signals": ("doc_id",)}, ("doc_id",), _doc_ids_match("signals")),
    CustomCheck("rows_carry_their_quality_scores", "one score per row: every row's quality_score and "
                "model_version are those of its quality_scores row (same partition)",
                {"quality_scores": ("doc_id", "quality_score", "model_version")}, ("doc_id", "quality_score", "model_version"),
                _rows_carry_their_scores),
    CustomCheck("doc_ids_exist_in_documents", "every doc_id exists in documents",
                {"documents": ("doc_id",)}, ("doc_id",), _doc_ids_exist_in("documents")),
    CustomCheck("doc_ids_exist_in_corpus", "every doc_id of the mixture is a corpus document "
                "(of the corpus version the build read, when the context gives it)",
                {"corpus": ("doc_id",)}, ("doc_id",), _doc_ids_exist_in("corpus")),
]}


def unknown_check(name: str) -> CheckOutcome:
    """The failed outcome of a suite's custom check that no code implements."""
    return CheckOutcome(name=name, expectation_type="custom_check", success=False, frame="cross-table",
                        error=f"unknown custom check {name!r}")


def _collected(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def run_custom_checks(table: str, frame: pl.DataFrame | pl.LazyFrame,
                      others: Mapping[str, pl.DataFrame | pl.LazyFrame],
                      checks: Iterable[str] | None = None) -> SuiteResult:
    """Run the suite's custom cross-table checks (or ``checks``) on ``frame`` against ``others``.

    A check whose other table is not in ``others`` is reported as skipped; one that raises is
    reported as an error.  Same result type as the GX expectations."""
    started = time.perf_counter()
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    groups = SuiteSettings.of(suite_spec(table)).custom_checks
    if checks is None:
        checks = list(groups)
    outcomes = []
    for name in checks:
        check = CUSTOM_CHECKS.get(name)
        if check is None:
            outcomes.append(unknown_check(name))
            continue
        lacking = [t for t in check.needs if t not in others or others[t] is None]
        if lacking:
            outcomes.append(_custom_outcome(check, True, skipped=f"needs table {', '.join(lacking)}"))
            continue
        try:
            tables = {t: _collected(others[t]) for t in check.needs}
            outcomes.append(check.run(frame.select([c for c in check.uses if c in frame.columns]), tables))
        except Exception as exc:  # noqa: BLE001 - a broken check is a failed check, not a crash
            outcomes.append(_custom_outcome(check, False, error=f"{type(exc).__name__}: {exc}"))
    for outcome in outcomes:
        outcome.check = groups.get(outcome.name)
    return SuiteResult(table, all(o.success for o in outcomes), outcomes, None, frame.height,
                       time.perf_counter() - started)


def check_corpus_traceability(corpus: pl.DataFrame | pl.LazyFrame, documents: pl.DataFrame | pl.LazyFrame,
                              decisions: pl.DataFrame | pl.LazyFrame | None = None) -> SuiteResult:
    """Corpus rows trace back to documents (doc_id + WARC provenance) and, given decisions, are kept ones."""
    others = {"documents": documents, **({"decisions": decisions} if decisions is not None else {})}
    return run_custom_checks("corpus", corpus, others,
                             checks=["rows_trace_to_documents"] + (["rows_are_kept_decisions"] if decisions is not None else []))
