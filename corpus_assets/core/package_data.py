"""Files that ship inside the package: GX suites, SQL views, the default filter config, word lists,
the bundled sample crawl, the example mixture specs. Found with importlib.resources, so an installed wheel
works like a checkout (the top-level `expectations/`, `sql/`, `configs/`, `mixtures/` and
`data/sample-crawl` folders are links to these)."""
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
