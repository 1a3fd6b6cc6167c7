import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory):
    """Every test session gets its own Dagster instance directory."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory):
    """The whole bundled sample materialized once through Dagster (the CLI), shared read-only by tests."""
    from corpus_assets.cli import main

    warehouse = tmp_path_factory.mktemp("sample") / "warehouse"
    assert main(["materialize", "--warehouse", str(warehouse), "--workers", "2"]) == 0
    return warehouse
