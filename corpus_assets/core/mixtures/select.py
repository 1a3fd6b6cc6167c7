"""Deterministic selection of a mixture's rows by token budget.

Per stage, DuckDB assigns each corpus document to the first source (in spec order) whose `where` it
matches, and orders each source's documents by the hex MD5 of `seed␟mixture␟stage␟doc_id` (␟ = U+001F;
ties, which need an MD5 collision, by doc_id). Only `doc_id`, `n_tokens` and the order come back to
Python: no text. Then, for a source with target `T = weight / sum(weights) * stage budget` tokens and
a pool of `P` tokens:

- `floor(T / P)` full copies of the pool (`copy` 0, 1, ...), then a last partial copy that takes the
  documents in order, skipping any that would overshoot the remaining tokens, and finally the smallest
  document left if that lands closer to the target (never for a source with a `max_share`): a source
  lands within about half a small document of its target;
- more than `max_epochs` copies needed: the build fails naming the source, its tokens and the tokens
  needed, unless `allow_shortfall` (then all `max_epochs` copies are taken and the shortfall recorded);
- a synthetic source whose share of the stage's tokens ends above `max_share` is cut back to the cap
  (the rounding of the other sources can push it over by a hair); it never exceeds it;
- every source's share of the stage's tokens must then be within 1 percentage point of its
  normalised weight (not checked in a stage with a recorded shortfall, whose shares are reported).

A source that is not `synthetic: true` is real data: documents whose `synthetic` column is true are
left out of it (and counted in the manifest), so generated text only ever enters through a declared,
capped synthetic source.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from corpus_assets.core.mixtures.errors import MixtureBuildError
from corpus_assets.core.mixtures.predicate import as_condition
from corpus_assets.core.mixtures.spec import MixtureSpec, SourceSpec, StageSpec
from corpus_assets.core.mixtures.spotcheck import enforce_min_spot_check_rating

SHARE_TOLERANCE = 0.01  # 1 percentage point
ORDER_SEPARATOR = "\x1f"
ROW_SCHEMA = {"mixture": pl.String, "spec_hash": pl.String, "stage": pl.String, "source": pl.String,
              "doc_id": pl.String, "copy": pl.Int32, "n_tokens": pl.Int64, "synthetic": pl.Boolean}


@dataclass
class SourceResult:
    """What one source of one stage contributed (the manifest's per-source figures)."""

    stage: str
    source: str
    synthetic: bool
    weight: float  # normalised within the stage
    max_epochs: int
    max_share: float | None
    target_tokens: float
    pool_documents: int
    pool_tokens: int
    overlap_documents: int  # matched this source's predicate but went to an earlier source
    synthetic_excluded: int  # synthetic documents its predicate matched, left out of a real source
    tokens: int = 0
    documents: int = 0  # distinct documents
    rows: int = 0  # occurrences (documents x copies)
    copies: int = 0  # highest copy + 1
    repeated_rows: int = 0  # rows with copy > 0
    shortfall_tokens: float = 0.0
    capped: bool = False  # cut back to max_share
    share: float = 0.0
    spot_check: dict | None = None


@dataclass
class StageResult:
    name: str
    token_budget: int
    sources: list[SourceResult]
    empty_documents: int  # matched a source but have no tokens (left out)

    @property
    def tokens(self) -> int:
        return sum(source.tokens for source in self.sources)

    @property
    def rows(self) -> int:
        return sum(source.rows for source in self.sources)


@dataclass
class Selection:
    rows: pl.DataFrame  # ROW_SCHEMA, in stage, source, copy, document order
    stages: list[StageResult] = field(default_factory=list)


def select_mixture(con: duckdb.DuckDBPyConnection, spec: MixtureSpec, input_view: str = "mixture_input",
                   ratings: pl.DataFrame | None = None) -> Selection:
    """Select the rows of `spec` from `input_view` (`doc_id`, `synthetic`, `n_tokens` and the columns the
    predicates use). `ratings` (`doc_id`, `rating`) are needed when a source sets `min_spot_check_rating`."""
    frames, stages = [], []
    for stage_index, stage in enumerate(spec.plan()):
        check_predicates(con, spec, stage_index, stage, input_view)
        candidates, synthetic_excluded = _candidates(con, spec, stage, input_view)
        results, stage_frames = _select_stage(spec, stage_index, stage, candidates, synthetic_excluded, ratings)
        stages.append(StageResult(stage.name, stage.token_budget, results,
                                  empty_documents=candidates.filter(pl.col("n_tokens") <= 0).height))
        frames.extend(stage_frames)
    rows = pl.concat(frames) if frames else pl.DataFrame(schema=ROW_SCHEMA)
    rows = rows.with_columns(mixture=pl.lit(spec.name), spec_hash=pl.lit(spec.spec_hash)).select(list(ROW_SCHEMA))
    return Selection(rows.cast(ROW_SCHEMA), stages)  # type: ignore[arg-type]


def check_predicates(con: duckdb.DuckDBPyConnection, spec: MixtureSpec, stage_index: int, stage: StageSpec,
                      input_view: str) -> None:
    for source_index, source in enumerate(stage.sources):
        where_field = spec.field_path(stage_index, source_index, "where")
        try:
            kind = con.sql(f"SELECT {as_condition(source.where)} AS matched FROM {input_view}").types[0]
        except duckdb.Error as exc:
            problem = str(exc).strip().splitlines()[0]
            raise MixtureBuildError(f"{spec.origin}: {where_field}: {problem}") from None
        if str(kind) != "BOOLEAN":
            raise MixtureBuildError(f"{spec.origin}: {where_field}: must be a boolean predicate, it is {kind}")


def _candidates(con: duckdb.DuckDBPyConnection, spec: MixtureSpec, stage: StageSpec,
                input_view: str) -> tuple[pl.DataFrame, list[int]]:
    """The stage's documents with their source index, in selection order; and per source, the synthetic
    documents its predicate matched that a real source leaves out."""
    conditions = [as_condition(source.where) if source.synthetic else
                  f"({as_condition(source.where)} AND NOT coalesce(synthetic, false))" for source in stage.sources]
    first_match = " ".join(f"WHEN {condition} THEN {i}" for i, condition in enumerate(conditions))
    matches = ", ".join(f"coalesce({condition}, false) AS matches_{i}" for i, condition in enumerate(conditions))
    query = f"""
        SELECT doc_id, n_tokens, CASE {first_match} END AS src, {matches},
               md5(concat_ws(chr(31), $seed, $mixture, $stage, doc_id)) AS order_key
        FROM {input_view}
        WHERE {' OR '.join(conditions)}
        ORDER BY src, order_key, doc_id"""
    params = {"seed": str(spec.seed), "mixture": spec.order_name, "stage": stage.name}
    candidates = con.execute(query, params).pl().drop("order_key")
    excluded = ", ".join(f"count(*) FILTER (WHERE {'false' if source.synthetic else as_condition(source.where)})"
                         for source in stage.sources)
    counts = con.sql(f"SELECT {excluded} FROM {input_view} WHERE coalesce(synthetic, false)").fetchone()
    return candidates, [int(count) for count in counts]  # type: ignore[union-attr]


def _select_stage(spec: MixtureSpec, stage_index: int, stage: StageSpec, candidates: pl.DataFrame,
                  synthetic_excluded: list[int], ratings: pl.DataFrame | None
                  ) -> tuple[list[SourceResult], list[pl.DataFrame]]:
    weights = stage.normalised_weights()
    pools, results = [], []
    for source_index, source in enumerate(stage.sources):
        pool = candidates.filter((pl.col("src") == source_index) & (pl.col("n_tokens") > 0))
        overlap = candidates.filter((pl.col("src") < source_index) & pl.col(f"matches_{source_index}")).height
        _check_ratings_given(spec, stage_index, source_index, source, ratings)
        pools.append(pool.select("doc_id", "n_tokens"))
        results.append(SourceResult(
            stage=stage.name, source=source.name, synthetic=source.synthetic, weight=weights[source.name],
            max_epochs=source.max_epochs, max_share=source.max_share,
            target_tokens=weights[source.name] * stage.token_budget, pool_documents=pool.height,
            pool_tokens=int(pool["n_tokens"].sum()), overlap_documents=overlap,
            synthetic_excluded=synthetic_excluded[source_index]))
        if ratings is not None and source.min_spot_check_rating is not None:
            results[-1].spot_check = enforce_min_spot_check_rating(
                spec.name, stage.name, source.name, source.min_spot_check_rating, pool["doc_id"], ratings)
    takes = [_take(spec, stage, result, pool, result.target_tokens) for result, pool in zip(results, pools)]
    _enforce_caps(spec, stage, results, pools, takes)
    frames = [_rows_of(stage, result, pool, take) for result, pool, take in zip(results, pools, takes)]
    _record_shares(spec, stage, results)
    return results, frames


def _check_ratings_given(spec: MixtureSpec, stage_index: int, source_index: int, source: SourceSpec,
                         ratings: pl.DataFrame | None) -> None:
    if source.min_spot_check_rating is not None and ratings is None:
        raise MixtureBuildError(
            f"{spec.origin}: {spec.field_path(stage_index, source_index, 'min_spot_check_rating')}: "
            f"source {source.name!r} requires spot-check ratings, but no ratings table was given")


@dataclass
class _Take:
    full_copies: int
    partial: np.ndarray  # bool mask over the pool, in order: the last, partial copy


def _take(spec: MixtureSpec, stage: StageSpec, result: SourceResult, pool: pl.DataFrame, target: float) -> _Take:
    tokens = pool["n_tokens"].to_numpy()
    pool_tokens = result.pool_tokens
    if pool_tokens * result.max_epochs < target:
        needed = math.ceil(target)
        if not spec.allow_shortfall:
            hint = (f"; its predicate matched {result.synthetic_excluded:,} synthetic documents, which only a "
                    "source with `synthetic: true` takes" if result.synthetic_excluded else "")
            raise MixtureBuildError(
                f"{spec.origin}: stage {stage.name}, source {result.source}: has {pool_tokens:,} tokens "
                f"in {result.pool_documents:,} documents; {result.max_epochs} epoch(s) give "
                f"{pool_tokens * result.max_epochs:,} but its share needs {needed:,} (raise max_epochs, lower its "
                f"weight or the token_budget, or set allow_shortfall: true){hint}")
        result.shortfall_tokens = target - pool_tokens * result.max_epochs
        return _Take(result.max_epochs, np.zeros(len(tokens), dtype=bool))
    result.shortfall_tokens = 0.0
    full_copies = int(target // pool_tokens) if pool_tokens else 0
    full_copies = min(full_copies, result.max_epochs)
    remainder = target - full_copies * pool_tokens
    return _Take(full_copies, fill_in_order(tokens, remainder, may_overshoot=result.max_share is None))


def fill_in_order(tokens: np.ndarray, limit: float, may_overshoot: bool = True) -> np.ndarray:
    """Mask of the documents taken in order up to `limit` tokens: the longest prefix that fits, then any
    later document that still fits in the gap (a big document does not end the fill); then, if
    `may_overshoot`, the smallest document left when taking it lands closer to `limit` than stopping."""
    mask = np.zeros(len(tokens), dtype=bool)
    if limit <= 0 or not len(tokens):
        return mask
    cumulative = np.cumsum(tokens)
    prefix = int(np.searchsorted(cumulative, limit, side="right"))
    mask[:prefix] = True
    gap = limit - (cumulative[prefix - 1] if prefix else 0)
    for index in np.nonzero(tokens[prefix:] <= gap)[0] + prefix:
        if tokens[index] <= gap:
            mask[index] = True
            gap -= tokens[index]
            if gap < 1:
                break
    if may_overshoot and gap >= 1 and not mask.all():
        left = np.nonzero(~mask)[0]
        smallest = left[np.argmin(tokens[left])]  # argmin: the first in order among equals
        if tokens[smallest] - gap < gap:
            mask[smallest] = True
    return mask


def _taken_tokens(take: _Take, pool: pl.DataFrame) -> int:
    tokens = pool["n_tokens"].to_numpy()
    return int(take.full_copies * tokens.sum() + tokens[take.partial].sum())


def _enforce_caps(spec: MixtureSpec, stage: StageSpec, results: list[SourceResult], pools: list[pl.DataFrame],
                  takes: list[_Take]) -> None:
    for _ in range(len(results) + 1):  # each pass can only lower a synthetic source; a few passes settle
        totals = [_taken_tokens(take, pool) for take, pool in zip(takes, pools)]
        changed = False
        for i, result in enumerate(results):
            if result.max_share is None or result.max_share >= 1 or not sum(totals):
                continue
            if totals[i] / sum(totals) > result.max_share:
                others = sum(totals) - totals[i]
                allowed = math.floor(result.max_share * others / (1 - result.max_share))
                takes[i] = _take(spec, stage, result, pools[i], min(allowed, result.target_tokens))
                result.capped = changed = True
                totals[i] = _taken_tokens(takes[i], pools[i])
        if not changed:
            break
    totals = [_taken_tokens(take, pool) for take, pool in zip(takes, pools)]
    for result, total in zip(results, totals):
        if result.max_share is not None and sum(totals) and total / sum(totals) > result.max_share:  # type: ignore[arg-type]
            raise MixtureBuildError(f"{spec.origin}: stage {stage.name}, source {result.source}: share "
                                    f"{total / sum(totals):.2%} exceeds max_share {result.max_share:.2%}")


def _rows_of(stage: StageSpec, result: SourceResult, pool: pl.DataFrame, take: _Take) -> pl.DataFrame:
    copies = [pool.with_columns(copy=pl.lit(copy, pl.Int32)) for copy in range(take.full_copies)]
    copies.append(pool.filter(pl.Series(take.partial)).with_columns(copy=pl.lit(take.full_copies, pl.Int32)))
    rows = pl.concat(copies).with_columns(stage=pl.lit(stage.name), source=pl.lit(result.source),
                                         synthetic=pl.lit(result.synthetic))
    result.tokens = int(rows["n_tokens"].sum())
    result.rows = rows.height
    result.documents = rows["doc_id"].n_unique()
    result.copies = int(rows["copy"].max()) + 1 if rows.height else 0  # type: ignore[arg-type]
    result.repeated_rows = rows.filter(pl.col("copy") > 0).height
    return rows


def _record_shares(spec: MixtureSpec, stage: StageSpec, results: list[SourceResult]) -> None:
    total = sum(result.tokens for result in results)
    for result in results:
        result.share = result.tokens / total if total else 0.0
    if any(result.shortfall_tokens for result in results):
        return  # allowed shortfall: the shares are reported, not enforced
    for result in results:
        if abs(result.share - result.weight) > SHARE_TOLERANCE:
            raise MixtureBuildError(
                f"{spec.origin}: stage {stage.name}, source {result.source}: share {result.share:.2%} is more than "
                f"1 pp from its weight {result.weight:.2%} ({result.tokens:,} of {total:,} tokens); its documents "
                "are too large for this budget: raise the token_budget")
