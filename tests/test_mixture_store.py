"""The `mixtures` table is created empty before a build writes, so no build's commit is a creation race."""
from concurrent.futures import ThreadPoolExecutor

import polars as pl
from deltalake import DeltaTable

from corpus_assets.core.mixtures.store import _create_table, build_versions, mixtures_uri


def test_concurrent_builds_create_the_table_empty_and_claim_no_commit(tmp_path):
    rows = pl.DataFrame({"doc_id": ["a"], "mixture": ["m"]})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _create_table(str(tmp_path), rows, None), range(8)))
    table = DeltaTable(mixtures_uri(str(tmp_path)))
    # racing creators may each commit a creation (delta-rs retries the loser), but none is a build's commit
    assert build_versions(str(tmp_path), "m") == []
    assert table.metadata().partition_columns == ["mixture"]
    assert table.to_pyarrow_table().num_rows == 0
