"""Do two warehouses hold the same per-document results? (A speed-up must not change a value.)

    python benchmarks/compare_warehouses.py WAREHOUSE_BEFORE WAREHOUSE_AFTER

Compares `signals`, `dedup_signatures`, `minhash_bands`, `boilerplate_lines` and `host_line_counts` row by row
(sorted by their keys): same rows, same columns, same values, floats within 1e-9. Exit status 1 when one differs.
Make both with the same `corpus materialize --select documents,signals,dedup_signatures,minhash_bands,
boilerplate_lines,host_line_counts --workers 0` (one shard after the other: boilerplate counts depend on the order).
"""
from __future__ import annotations

import sys

import polars as pl
from polars.testing import assert_frame_equal

KEYS = {"signals": ["doc_id"], "dedup_signatures": ["doc_id"], "minhash_bands": ["doc_id", "band"],
        "boilerplate_lines": ["crawl", "shard", "url_host", "line_hash"],
        "host_line_counts": ["crawl", "shard", "url_host", "line_hash"]}


def main(before: str, after: str) -> int:
    same = True
    for table, keys in KEYS.items():
        x = pl.read_delta(f"{before}/{table}").sort(keys)
        y = pl.read_delta(f"{after}/{table}")
        try:
            assert_frame_equal(x, y.select(x.columns).sort(keys), check_exact=False, rel_tol=0, abs_tol=1e-9)
            print(f"{table}: {x.height} rows, {x.width} columns: identical")
        except AssertionError as error:
            same = False
            print(f"{table}: DIFFERENT: {str(error)[:500]}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
