"""The sensor and the schedule register new WARC shards incrementally."""
import json

import dagster as dg

from corpus_assets.defs.sources.discovery import daily_crawl_check, new_warc_files_sensor
from corpus_assets.defs.sources.partitions import warc_shards
from corpus_assets.defs.sources.cc_source import CommonCrawlSource
from warc_fixtures import copy_sample


def evaluate_sensor(instance, source):
    context = dg.build_sensor_context(instance=instance, resources={"cc_source": source})
    return new_warc_files_sensor(context)


def test_sensor_registers_only_new_files_of_a_second_crawl(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    src = copy_sample(tmp_path / "src")
    first = CommonCrawlSource(uri=str(src), crawls=["CC-SAMPLE-2026-03"])
    result = evaluate_sensor(instance, first)
    keys = [f"CC-SAMPLE-2026-03/{i:05d}" for i in range(4)]
    assert [r.partition_key for r in result.run_requests] == keys
    assert list(result.dynamic_partitions_requests[0].partition_keys) == keys
    instance.add_dynamic_partitions(warc_shards.name, keys)  # what the daemon does with the request

    assert evaluate_sensor(instance, first).skip_reason is not None  # nothing new: no runs

    both = CommonCrawlSource(uri=str(src), crawls=["CC-SAMPLE-2026-03", "CC-SAMPLE-2026-07"])
    result = evaluate_sensor(instance, both)
    assert [r.partition_key for r in result.run_requests] == ["CC-SAMPLE-2026-07/00000", "CC-SAMPLE-2026-07/00001"]


def test_shard_size_groups_files_and_all_crawls_is_the_default(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    source = CommonCrawlSource(uri=str(copy_sample(tmp_path / "src")), shard_size=3)
    keys = [r.partition_key for r in evaluate_sensor(instance, source).run_requests]
    assert keys == ["CC-SAMPLE-2026-03/00000-00002", "CC-SAMPLE-2026-03/00003",
                    "CC-SAMPLE-2026-07/00000-00001"]


def test_daily_schedule_registers_and_requests_new_shards(tmp_path):
    with dg.instance_for_test() as instance:
        check_schedule(instance, tmp_path)


def check_schedule(instance, tmp_path):
    source = CommonCrawlSource(uri=str(copy_sample(tmp_path / "src")), crawls=["CC-SAMPLE-2026-07"])
    # contexts closed by `with`: an open one leaves the instance's state storage as the process's current
    # one, and the next test in this process that loads the definitions fails on its dead instance
    with dg.build_schedule_context(instance=instance, resources={"cc_source": source}) as context:
        requests = daily_crawl_check(context)
    assert [r.partition_key for r in requests] == ["CC-SAMPLE-2026-07/00000", "CC-SAMPLE-2026-07/00001"]
    assert instance.get_dynamic_partitions(warc_shards.name) == ["CC-SAMPLE-2026-07/00000", "CC-SAMPLE-2026-07/00001"]
    with dg.build_schedule_context(instance=instance, resources={"cc_source": source}) as context:
        assert isinstance(daily_crawl_check(context), dg.SkipReason)


def test_sensor_cursor_remembers_the_files_it_has_seen(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    source = CommonCrawlSource(uri=str(copy_sample(tmp_path / "src")), crawls=["CC-SAMPLE-2026-07"])
    result = evaluate_sensor(instance, source)
    assert json.loads(result.cursor) == {"CC-SAMPLE-2026-07": 2}
    # the same listing under the cursor: nothing to plan, even before the daemon registered the partitions
    context = dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"cc_source": source})
    again = new_warc_files_sensor(context)
    assert again.skip_reason is not None and not again.run_requests
