"""Spot checks of synthetic sources: a seeded sample in the rating-sheet format, and the rating gate.

A person reads the sample (`doc_id,url,lang,title,excerpt,rating,note`, the sheet `corpus rate` uses) and
rates each document 0-5; the ratings land in `quality_ratings` (`doc_id, rater, rating, ...`). A source
with `min_spot_check_rating` is then built only if the mean of all ratings of the documents its
predicate matches (its pool, not only this build's draw: a new seed must not discard earlier ratings)
reaches the minimum; no ratings at all fail the build too.
"""
from __future__ import annotations

import hashlib

import polars as pl

from corpus_assets.core.mixtures.errors import MixtureBuildError
from corpus_assets.core.mixtures.spec import MixtureSpec

SHEET_COLUMNS = ["doc_id", "url", "lang", "title", "excerpt", "rating", "note"]
EXCERPT_CHARS = 1500


def spot_check_doc_ids(rows: pl.DataFrame, spec: MixtureSpec, n: int) -> dict[str, list[str]]:
    """Per synthetic source of the mixture's rows: up to `n` distinct doc_ids, the first by the hex MD5 of
    `seed␟mixture␟spot-check␟source␟doc_id` (reproducible; independent of the build's row order)."""
    sample: dict[str, list[str]] = {}
    synthetic = rows.filter(pl.col("synthetic"))
    for source in synthetic["source"].unique(maintain_order=True).to_list():
        doc_ids = synthetic.filter(pl.col("source") == source)["doc_id"].unique().to_list()
        prefix = "\x1f".join([str(spec.seed), spec.order_name, "spot-check", source, ""])
        doc_ids.sort(key=lambda doc_id: (hashlib.md5((prefix + doc_id).encode()).hexdigest(), doc_id))
        sample[source] = doc_ids[:n]
    return sample


def rating_sheet(documents: pl.DataFrame, doc_ids: list[str]) -> pl.DataFrame:
    """The rating sheet for `doc_ids`, in that order, from corpus rows (`doc_id`, `text` and, when
    present, `url`, `lang`, `title`): the first 1,500 characters as the excerpt, empty rating and note."""
    missing = [column for column in ("url", "lang", "title") if column not in documents.columns]
    documents = documents.with_columns(pl.lit(None, pl.String).alias(column) for column in missing)
    order = pl.DataFrame({"doc_id": doc_ids, "_order": list(range(len(doc_ids)))}, schema={"doc_id": pl.String,
                                                                                           "_order": pl.Int64})
    return (order.join(documents, on="doc_id", how="left").sort("_order")
            .select("doc_id", "url", "lang", "title",
                    pl.col("text").str.slice(0, EXCERPT_CHARS).alias("excerpt"),
                    pl.lit(None, pl.String).alias("rating"), pl.lit(None, pl.String).alias("note")))


def enforce_min_spot_check_rating(mixture: str, stage: str, source: str, minimum: float, pool_doc_ids: pl.Series,
                                  ratings: pl.DataFrame) -> dict:
    """The spot-check figures of a synthetic source; raises when its mean rating is below `minimum` or
    none of its documents has been rated."""
    rated = ratings.select("doc_id", pl.col("rating").cast(pl.Float64)).join(
        pl.DataFrame({"doc_id": pool_doc_ids.unique()}), on="doc_id", how="semi")
    if rated.is_empty():
        raise MixtureBuildError(
            f"mixture {mixture}, stage {stage}, source {source}: requires a mean spot-check rating of at least "
            f"{minimum:g} but none of its documents has been rated (export a sample with `corpus mix spot-check`)")
    mean = float(rated["rating"].mean())  # type: ignore[arg-type]
    figures = {"min_rating": minimum, "mean_rating": round(mean, 4), "ratings": rated.height,
               "documents_rated": rated["doc_id"].n_unique()}
    if mean < minimum:
        raise MixtureBuildError(
            f"mixture {mixture}, stage {stage}, source {source}: mean spot-check rating {mean:.2f} over "
            f"{rated.height} ratings is below its min_spot_check_rating {minimum:g}")
    return figures
