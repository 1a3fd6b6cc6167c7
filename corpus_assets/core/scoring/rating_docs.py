"""The `corpus` documents to rate: a seeded selection (`sheets.select_for_rating`) over the table, reading
only the few columns the selection needs, then the text of the chosen documents alone."""
from __future__ import annotations

from collections.abc import Collection

import polars as pl

from corpus_assets.core.lake.delta_tables import table_exists
from corpus_assets.core.scoring.sheets import select_for_rating

SELECTION_COLUMNS = ["doc_id", "url_host", "lang"]
TEXT_COLUMNS = ["doc_id", "url", "title", "text"]


def _dataset(uri: str, storage_options: dict[str, str] | None):
    from deltalake import DeltaTable

    if not table_exists(uri, storage_options):
        raise ValueError(f"no corpus table at {uri}: run `corpus materialize` (or `corpus demo`) first")
    return DeltaTable(uri, storage_options=storage_options or None).to_pyarrow_dataset()


def has_scores(corpus_uri: str, storage_options: dict[str, str] | None = None) -> bool:
    """Whether `corpus` carries a `quality_score` column (once a quality model has scored it)."""
    return "quality_score" in _dataset(corpus_uri, storage_options).schema.names


def select_documents(corpus_uri: str, n: int, strategy: str = "stratified", seed: int = 0,
                     exclude: Collection[str] = (), storage_options: dict[str, str] | None = None) -> pl.DataFrame:
    """`n` corpus documents to rate, in sheet order (doc_id, url_host, lang[, quality_score], url, title, text),
    leaving out the doc ids of `exclude` (those already rated). Raises ValueError with one line."""
    import pyarrow.dataset as ds

    dataset = _dataset(corpus_uri, storage_options)
    columns = SELECTION_COLUMNS + (["quality_score"] if "quality_score" in dataset.schema.names else [])
    # one row per doc_id, whatever the order of the table's files (a corpus may hold a doc_id twice)
    candidates = (pl.DataFrame(pl.from_arrow(dataset.to_table(columns=columns))).sort(columns, nulls_last=True)
                  .unique("doc_id", keep="first", maintain_order=True))
    total = candidates.height
    if exclude:
        candidates = candidates.filter(~pl.col("doc_id").is_in(list(exclude)))
    if not candidates.height:
        raise ValueError(f"nothing to rate: the corpus has {total} documents and all of them are rated"
                         if total else "nothing to rate: the corpus table is empty")
    picked = select_for_rating(candidates, n, strategy, seed)
    texts = pl.DataFrame(pl.from_arrow(dataset.to_table(columns=TEXT_COLUMNS,
                                                        filter=ds.field("doc_id").isin(picked["doc_id"].to_list()))))
    texts = texts.sort("doc_id", "url").unique("doc_id", keep="first")
    return picked.join(texts, on="doc_id", how="left", maintain_order="left")
