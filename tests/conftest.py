"""Shared fixtures and the test tiers.

Tiers: `make test-fast` runs `pytest -m "not slow"` (under a minute, for every edit); `make test` runs
everything (what CI runs, once more in random order). Mark a test `@pytest.mark.slow` (a module:
`pytestmark = pytest.mark.slow`) when it spawns worker processes, a server or a subprocess that imports
Dagster, builds a warehouse, a wheel or a venv, or takes more than ~2 s on an idle machine (`pytest
--durations=20 -m "not slow"` lists the candidates). A test that requests `sample_warehouse`, directly or
through another fixture (sample_corpus, bootstrap_model, warehouse_with_synthetic, ...), is marked slow
here without saying so. Markers are strict: a misspelt one is an error.

End-to-end tests run Dagster in the test process (`dg.materialize` on one shard, or `corpus materialize
--workers 0`, which runs the CLI's runs one after the other in this process) unless worker processes
are what the test is about; those are few and say so.
"""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["mixture_fixtures"]  # fixtures by parameter name, no imports that shadow them (ruff F811)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "sample_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def no_shared_dagster_home():
    """No test inherits a Dagster instance: each warehouse gets its own (`<warehouse>/_dagster`)."""
    previous = os.environ.pop("DAGSTER_HOME", None)
    yield
    if previous is not None:
        os.environ["DAGSTER_HOME"] = previous


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory):
    """The whole bundled sample materialized once through Dagster (the CLI), shared read-only by tests."""
    from corpus_assets.cli import main

    warehouse = tmp_path_factory.mktemp("sample") / "warehouse"
    assert main(["materialize", "--warehouse", str(warehouse), "--workers", "0"]) == 0  # in this process
    return warehouse


@pytest.fixture(scope="session")
def sample_corpus(sample_warehouse):
    """The sample's `corpus` table as a Polars frame (the columns the quality model reads)."""
    import polars as pl
    from deltalake import DeltaTable

    columns = ["doc_id", "url", "url_host", "lang", "title", "text", "n_chars"]
    return pl.from_arrow(DeltaTable(str(sample_warehouse / "corpus")).to_pyarrow_table(columns=columns)).sort("doc_id")


@pytest.fixture(scope="session")
def bootstrap_model(sample_corpus):
    """A quality model trained with real fastText on the sample's bootstrap labels (default settings)."""
    from corpus_assets.core.scoring.labels import build_labels
    from corpus_assets.core.scoring.training import train_quality_model

    return train_quality_model(build_labels(sample_corpus, None))
