"""One MinHash setting per warehouse: `dedup_clusters` reads `minhash_config` and refuses a mix."""
import shutil
from pathlib import Path

import polars as pl
import pytest

from corpus_assets.core.dedup.settings import MixedMinHashSettings, check_one_minhash_config
from corpus_assets.defs.dedup.settings import DedupSettings


def frame(rows):
    return pl.DataFrame(rows, schema=["crawl", "shard", "minhash_config"], orient="row")


def test_one_setting_passes_and_is_returned():
    rows = [("C", "00000", "a"), ("C", "00000", "a"), ("C", "00001", "a"), ("C", "00002", None)]
    assert check_one_minhash_config(frame(rows)) == "a"
    assert check_one_minhash_config(frame(rows), expected="a") == "a"
    assert check_one_minhash_config(frame([]), expected="a") is None


def test_two_settings_fail_in_one_line_naming_the_odd_shards():
    rows = [("C", f"{i:05d}", "a") for i in range(6)] + [("C", "00099", "b")]
    with pytest.raises(MixedMinHashSettings) as err:
        check_one_minhash_config(frame(rows), expected="a")
    message = str(err.value)
    assert "\n" not in message and "2 MinHash settings" in message and message.startswith("re-hash C/00099 ")
    assert message.endswith("C/00099 with b; C/00000, C/00001, C/00002 and 3 more with a (current setting)")


def test_a_warehouse_hashed_otherwise_than_the_code_location_is_named():
    with pytest.raises(MixedMinHashSettings, match=r"^re-hash C/00000, C/00001 .*: C/00000, C/00001 with old; no shard with new \(current"):
        check_one_minhash_config(frame([("C", "00000", "old"), ("C", "00001", "old")]), expected="new")


def test_dedup_clusters_fails_when_one_shard_was_hashed_with_other_settings(sample_warehouse, tmp_path):
    from corpus_assets.cli.runner import cli_run_config, run_environment, run_partitions
    from corpus_assets.core.lake.delta_tables import read_partition, replace_partition_frame

    warehouse = tmp_path / "wh"
    shutil.copytree(sample_warehouse, warehouse)
    uri = str(Path(warehouse) / "dedup_signatures")
    crawl, shard = pl.read_delta(uri).select("crawl", "shard").unique().sort("crawl", "shard").row(0)
    partition = {"crawl": crawl, "shard": shard}
    odd = DedupSettings(bands=7, rows=16).hasher().config_id
    rows = read_partition(uri, partition).with_columns(minhash_config=pl.lit(odd))
    replace_partition_frame(uri, rows, partition)
    [outcome] = run_partitions([None], ["dedup_clusters"], cli_run_config({}), workers=0,
                               env=run_environment(str(warehouse)), job_name="deduplicate")
    assert not outcome.success
    assert "MinHash settings" in outcome.error and f"{crawl}/{shard}" in outcome.error and odd in outcome.error
