"""Where the quality model's labels come from.

* **Ratings**, once at least `min_rated_docs` documents are rated (200 by default): a document's label
  is 1 when the mean of its raters' ratings is >= 3 (the rubric's "acceptable"), else 0; a rater who
  rated a document twice counts with their latest rating. The mean rating is kept for Spearman's rho.
* **Bootstrap** until then, as DCLM does: positives are reference-quality text (the bundled WikiText
  excerpt) and pages of allow-listed documentation and news hosts (`reference_hosts.txt`, several
  languages); negatives are random corpus pages of all other hosts, as many as there are positives
  (`negatives_per_positive`), drawn reproducibly from a seed. The bootstrap's labels are defined by
  the host, so its host-only baseline is strong by construction: read the host-grouped AUC for what
  the model learned beyond the host.

Every label set is a Polars frame with `LABEL_COLUMNS`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from corpus_assets.core.scoring.splits import unit_hashes

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
REFERENCE_TEXTS = DATA_DIR / "reference" / "wikitext-2-valid-excerpt.jsonl"
REFERENCE_HOSTS = DATA_DIR / "quality" / "reference_hosts.txt"
REFERENCE_HOST_OF_TEXTS = "reference:wikitext-2"  # the `host` of the bundled reference sections

POSITIVE_RATING = 3
LABEL_COLUMNS = ["doc_id", "lang", "host", "text", "label", "rating", "source"]
#: values of the `source` column
SOURCE_RATING, SOURCE_REFERENCE_TEXT, SOURCE_REFERENCE_HOST, SOURCE_RANDOM_PAGE = (
    "rating", "reference_text", "reference_host", "random_page")


@lru_cache(maxsize=4)
def load_reference_hosts(path: Path = REFERENCE_HOSTS) -> tuple[str, ...]:
    """Allow-listed hosts, lower-cased; entries starting with "." match subdomains."""
    hosts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            hosts.append(line)
    return tuple(hosts)


def load_reference_texts(path: Path = REFERENCE_TEXTS) -> pl.DataFrame:
    """The bundled reference sections as `doc_id, lang, host, text`."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pl.DataFrame({
        "doc_id": [f"ref:{row['id']}" for row in rows],
        "lang": [row["lang"] for row in rows],
        "host": [REFERENCE_HOST_OF_TEXTS] * len(rows),
        "text": [row["text"] for row in rows],
    }, schema={"doc_id": pl.String, "lang": pl.String, "host": pl.String, "text": pl.String})


def host_matches(hosts: pl.Series, allow_list: tuple[str, ...]) -> pl.Series:
    """True where a host is on the allow-list (exactly, or under a ".suffix" entry)."""
    exact = [h for h in allow_list if not h.startswith(".")]
    suffixes = [h for h in allow_list if h.startswith(".")]
    lower = hosts.fill_null("").str.to_lowercase()
    hit = lower.is_in(exact)
    for suffix in suffixes:
        hit = hit | lower.str.ends_with(suffix) | (lower == suffix[1:])
    return hit


@dataclass(frozen=True)
class LabelSettings:
    min_rated_docs: int = 200
    negatives_per_positive: float = 1.0
    reference_hosts: tuple[str, ...] = field(default_factory=load_reference_hosts)
    seed: int = 0


@dataclass(frozen=True)
class LabelSet:
    frame: pl.DataFrame  # LABEL_COLUMNS
    source: str  # "ratings" or "bootstrap"

    def counts_by_lang(self) -> dict[str, dict[str, int]]:
        """{lang: {"positive": n, "negative": n}}"""
        grouped = self.frame.group_by("lang").agg(
            pl.col("label").sum().alias("positive"), (1 - pl.col("label")).sum().alias("negative"))
        return {row["lang"]: {"positive": int(row["positive"]), "negative": int(row["negative"])}
                for row in grouped.sort("lang").iter_rows(named=True)}


def _documents(docs: pl.DataFrame) -> pl.DataFrame:
    """`doc_id, lang, host, text` from corpus rows (`url_host` is the corpus' host column)."""
    missing = {"doc_id", "lang", "url_host", "text"} - set(docs.columns)
    if missing:
        raise ValueError(f"documents lack column(s) {sorted(missing)}")
    return docs.select("doc_id", "lang", pl.col("url_host").alias("host"), "text")


def rated_documents(ratings: pl.DataFrame) -> pl.DataFrame:
    """Per document: mean rating over raters (each rater's latest rating) and the number of raters."""
    latest = (ratings.sort("rated_at").group_by("doc_id", "rater", maintain_order=True).last())
    return latest.group_by("doc_id").agg(pl.col("rating").cast(pl.Float64).mean().alias("rating"),
                                         pl.len().alias("raters"))


def rated_documents_text(corpus: pl.DataFrame, documents: pl.DataFrame, rated_ids: set[str]) -> pl.DataFrame:
    """The texts ratings are learned from: `corpus` rows, plus rated documents the filters dropped
    (in `documents` only), with their text PII-masked as `corpus` text is. Ratings of dropped pages
    are the poor pages a model most needs to see."""
    from corpus_assets.core.privacy.pii import mask_pii_column

    columns = ["doc_id", "lang", "url_host", "text"]
    dropped = documents.filter(pl.col("doc_id").is_in(sorted(rated_ids)) & ~pl.col("doc_id").is_in(corpus["doc_id"].implode()))
    masked = mask_pii_column(dropped.select(columns)).select("doc_id", "lang", "url_host", pl.col("text_masked").alias("text"))
    return pl.concat([corpus.select(columns), masked])


def labels_from_ratings(ratings: pl.DataFrame, docs: pl.DataFrame) -> pl.DataFrame:
    """Rated documents with label = mean rating >= 3 (documents no longer in `docs` are left out)."""
    rated = rated_documents(ratings)
    return (_documents(docs).join(rated, on="doc_id", how="inner")
            .with_columns((pl.col("rating") >= POSITIVE_RATING).cast(pl.Int8).alias("label"),
                          pl.lit(SOURCE_RATING).alias("source"))
            .select(LABEL_COLUMNS).sort("doc_id"))


def bootstrap_labels(docs: pl.DataFrame, settings: LabelSettings, reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Reference text and allow-listed hosts' pages (1) against random pages of other hosts (0)."""
    reference = load_reference_texts() if reference is None else reference
    pages = _documents(docs)
    allowed = host_matches(pages["host"], settings.reference_hosts)
    positives = pl.concat([
        reference.with_columns(pl.lit(SOURCE_REFERENCE_TEXT).alias("source")),
        pages.filter(allowed).with_columns(pl.lit(SOURCE_REFERENCE_HOST).alias("source")),
    ])
    others = pages.filter(~allowed)
    n_negatives = min(others.height, round(positives.height * settings.negatives_per_positive))
    order = unit_hashes(others["doc_id"].to_list(), f"quality-negatives-{settings.seed}")
    negatives = (others.with_columns(pl.Series("_key", order)).sort("_key").head(n_negatives).drop("_key")
                 .with_columns(pl.lit(SOURCE_RANDOM_PAGE).alias("source")))
    return (pl.concat([positives.with_columns(pl.lit(1, pl.Int8).alias("label")),
                       negatives.with_columns(pl.lit(0, pl.Int8).alias("label"))])
            .with_columns(pl.lit(None, pl.Float64).alias("rating"))
            .select(LABEL_COLUMNS).sort("doc_id"))


def build_labels(docs: pl.DataFrame, ratings: pl.DataFrame | None, settings: LabelSettings = LabelSettings()) -> LabelSet:
    """Ratings when enough documents are rated, else the bootstrap."""
    if ratings is not None and ratings.height:
        from_ratings = labels_from_ratings(ratings, docs)
        if from_ratings.height >= settings.min_rated_docs:
            return LabelSet(from_ratings, "ratings")
    return LabelSet(bootstrap_labels(docs, settings), "bootstrap")
