"""Files that ship inside the package: GX suites, SQL views, the default filter config, word lists,
the bundled sample crawl, the example mixture specs, the rating rubric and the starter ratings. Found with
importlib.resources, so an installed wheel works like a checkout (the top-level `expectations/`, `sql/`,
`configs/`, `mixtures/`, `data/sample-crawl`, `data/ratings` and `docs/rating-rubric.md` are links to these)."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_path(*parts: str) -> Path:
    """A file or folder of the installed package (a regular folder install, not a zip)."""
    return Path(str(files("corpus_assets").joinpath(*parts)))


def default_filter_config() -> Path:
    return package_path("configs", "filters.yaml")


def bundled_sample_crawl() -> Path:
    return package_path("data", "sample-crawl")


def packaged_mixtures() -> Path:
    """The example mixture specs (the specs folder when neither `--mixtures` nor $CORPUS_MIXTURES says otherwise)."""
    return package_path("mixtures")


def bundled_synthetic_qa() -> Path:
    """The small synthetic Q&A set `corpus demo` imports (made by scripts/make_synthetic_sample.py)."""
    return package_path("data", "synthetic", "synthetic-qa.jsonl")


def rating_rubric() -> Path:
    """The rating rubric (`docs/rating-rubric.md` links here), shown beside each document on the rating page."""
    return package_path("data", "ratings", "rating-rubric.md")


def starter_ratings() -> Path:
    """The starter rating set of the bundled sample (`data/ratings/` links here), imported by `corpus demo`."""
    return package_path("data", "ratings", "starter-ratings.csv")
