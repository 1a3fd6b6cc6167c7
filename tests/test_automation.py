"""Automation at crawl scale: one new shard costs one dedup run and corpus runs for the new and the
affected shards only (evaluated on the real definitions, over an instance holding 50 shards)."""
import dagster as dg
import pytest

from corpus_assets.definitions import defs
from corpus_assets.defs.corpus.publishing import publish_after_dedup
from corpus_assets.defs.phases import DEDUP_POOL
from corpus_assets.defs.sources.partitions import warc_shards

INGEST = ["documents", "signals", "decisions", "dedup_signatures", "minhash_bands", "boilerplate_lines"]


def report(instance, asset, partition=None, **metadata):
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=partition, metadata=metadata))


def requested(result) -> dict[str, int]:
    return {name: result.get_num_requested(dg.AssetKey(name)) for name in ("dedup_clusters", "corpus")}


def publish_requests(instance, cursor=None) -> tuple[set[str], str | None]:
    result = publish_after_dedup(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
    if isinstance(result, dg.SkipReason):
        return set(), cursor
    return {request.partition_key for request in result.run_requests}, result.cursor


@pytest.mark.slow  # evaluates automation over 50 shards' records (~25 s)
def test_one_new_shard_costs_one_dedup_run_and_corpus_runs_for_new_and_affected_shards(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        shards = [f"CC-TEST/{i:05d}" for i in range(50)]
        instance.add_dynamic_partitions(warc_shards.name, shards)
        start = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for shard in shards:
            for asset in INGEST:
                report(instance, asset, shard)
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=start.cursor)
        assert first.get_num_requested(dg.AssetKey("dedup_clusters")) == 1  # 50 shards, one dedup run
        assert first.get_num_requested(dg.AssetKey("corpus")) == 0
        report(instance, "dedup_clusters", affected_partitions=dg.MetadataValue.json([]))
        published, cursor = publish_requests(instance)
        assert published == set(shards)
        for shard in shards:
            report(instance, "corpus", shard)

        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert requested(quiet) == {"dedup_clusters": 0, "corpus": 0}
        assert publish_requests(instance, cursor) == (set(), cursor)

        new = "CC-TEST/00050"
        instance.add_dynamic_partitions(warc_shards.name, [new])
        for asset in INGEST:
            report(instance, asset, new)
        after_new = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
        # one dedup run, and no corpus run before dedup has absorbed the shard
        assert requested(after_new) == {"dedup_clusters": 1, "corpus": 0}
        assert publish_requests(instance, cursor) == (set(), cursor)

        report(instance, "dedup_clusters", affected_partitions=dg.MetadataValue.json(["CC-TEST/00007"]))
        published, cursor = publish_requests(instance, cursor)
        assert published == {new, "CC-TEST/00007"}


def test_rerun_decisions_republishes_that_shard_after_the_next_dedup_run(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        shards = [f"CC-TEST/{i:05d}" for i in range(3)]
        instance.add_dynamic_partitions(warc_shards.name, shards)
        for shard in shards:
            for asset in INGEST:
                report(instance, asset, shard)
        report(instance, "dedup_clusters", affected_partitions=dg.MetadataValue.json([]))
        for shard in shards:
            report(instance, "corpus", shard)
        _, cursor = publish_requests(instance)
        report(instance, "decisions", "CC-TEST/00001")  # a stricter filter config
        assert publish_requests(instance, cursor) == (set(), cursor)  # not before dedup has seen it
        report(instance, "dedup_clusters", affected_partitions=dg.MetadataValue.json([]))
        assert publish_requests(instance, cursor)[0] == {"CC-TEST/00001"}


def test_dedup_runs_one_at_a_time():
    dedup = defs.resolve_assets_def("dedup_clusters")
    assert dedup.op.pool == DEDUP_POOL
