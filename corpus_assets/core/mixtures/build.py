"""Build one mixture: pin the corpus version, count tokens, select rows, write down what happened.

The asset and the CLI call `build_mixture` and store its rows (the `mixtures` table, partitioned by
mixture) and its manifest; everything they need to say is in `MixtureBuild`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from corpus_assets.core.mixtures.inputs import CorpusSnapshot
from corpus_assets.core.mixtures.manifest import build_manifest
from corpus_assets.core.mixtures.select import check_predicates, select_mixture
from corpus_assets.core.mixtures.spec import MixtureSpec
from corpus_assets.core.mixtures.token_counts import prepare_mixture_input


@dataclass
class MixtureBuild:
    spec: MixtureSpec
    rows: pl.DataFrame  # mixture, spec_hash, stage, source, doc_id, copy, n_tokens, synthetic
    manifest: dict[str, Any]
    token_counts: dict[str, int]  # documents counted now / taken from the cache


def build_mixture(spec: MixtureSpec, corpus: CorpusSnapshot, *, ratings: pl.DataFrame | None = None,
                  token_cache_uri: str | None = None, other_inputs: dict[str, dict[str, Any]] | None = None,
                  quality: dict[str, Any] | None = None, storage_options: dict[str, str] | None = None) -> MixtureBuild:
    """Select the rows of `spec` from the pinned `corpus`.

    `ratings`: the `quality_ratings` rows (`doc_id, rating, ...`), needed when a source sets
    `min_spot_check_rating`. `other_inputs`: {table: {"delta_version": N}} for the other tables the
    caller read (quality_ratings, quality_models...), recorded in the manifest. `quality`: the quality
    model version and thresholds in force; when the corpus has a `model_version` column, the versions
    found among the selected documents are added to it.
    """
    for stage_index, stage in enumerate(spec.plan()):
        check_predicates(corpus.con, spec, stage_index, stage, "corpus")
    counts = prepare_mixture_input(corpus.con, spec, token_cache_uri, storage_options)
    selection = select_mixture(corpus.con, spec, "mixture_input", ratings)
    inputs = {"corpus": {"delta_version": corpus.version, "columns_defaulted": corpus.defaulted,
                         "duplicate_doc_id_rows": corpus.duplicate_rows}, **(other_inputs or {})}
    manifest = build_manifest(spec, selection, inputs, _quality_in_force(corpus, selection.rows, quality))
    return MixtureBuild(spec, selection.rows, manifest, counts)


def _quality_in_force(corpus: CorpusSnapshot, rows: pl.DataFrame, quality: dict[str, Any] | None) -> dict | None:
    if "model_version" not in corpus.columns:
        return quality
    corpus.con.register("mixture_selected_ids", rows.select("doc_id").unique())
    versions = [value for (value,) in corpus.con.sql(
        "SELECT DISTINCT model_version FROM corpus SEMI JOIN mixture_selected_ids USING (doc_id) "
        "ORDER BY model_version NULLS LAST").fetchall()]
    return {**(quality or {}), "model_versions_in_rows": versions}
