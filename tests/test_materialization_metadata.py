"""Every asset's materializations report `dagster/row_count`, and per-shard tables report the rows they wrote."""
import dagster as dg
import polars as pl

from corpus_assets.cli.instance import open_instance
from corpus_assets.definitions import defs

# tables whose row count per partition is the rows of the Delta partition (crawl, shard)
PARTITION_TABLES = ["documents", "signals", "quality_scores", "decisions", "dedup_signatures", "minhash_bands",
                    "boilerplate_lines", "host_line_counts", "corpus"]


def test_every_materialization_reports_its_row_count(sample_warehouse):
    instance = open_instance(str(sample_warehouse))
    asset_keys = defs.resolve_asset_graph().get_all_asset_keys()
    missing = []
    for key in asset_keys:
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=500).records
        assert records, key
        missing += [(key.to_user_string(), r.partition_key) for r in records
                    if "dagster/row_count" not in r.asset_materialization.metadata]
    assert not missing
    for table in PARTITION_TABLES:
        rows = pl.read_delta(str(sample_warehouse / table), columns=["crawl", "shard"])
        expected = {f"{crawl}/{shard}": n for crawl, shard, n in rows.group_by("crawl", "shard").len().iter_rows()}
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(table)), limit=500).records
        latest: dict[str, int] = {}
        for record in sorted(records, key=lambda r: r.storage_id):
            latest[record.partition_key] = record.asset_materialization.metadata["dagster/row_count"].value
        assert {key: n for key, n in latest.items() if n} == expected, table
