"""Incremental ingestion: a sensor and a daily schedule register new WARC shards and request runs."""
import json

import dagster as dg

from corpus_assets.defs.phases import INGEST, phase_selection
from corpus_assets.defs.sources.partitions import warc_shards
from corpus_assets.defs.sources.cc_source import CommonCrawlSource

# a new shard needs the ingest phase first; `dedup_clusters` follows by automation, `corpus` by the
# publish_after_dedup sensor
SHARD_ASSETS = phase_selection(INGEST)


def new_shard_keys(cc_source: CommonCrawlSource, instance: dg.DagsterInstance,
                   files_seen: dict[str, int] | None = None) -> tuple[list[str], dict[str, int]]:
    """(keys of shards not registered yet, files listed per crawl); nothing is new when the listed
    file counts equal `files_seen` (the sensor's cursor)."""
    shards = cc_source.planned_shards()
    files: dict[str, int] = {}
    for shard in shards:
        files[shard.crawl] = max(files.get(shard.crawl, 0), shard.end + 1)
    if files_seen is not None and files == files_seen:
        return [], files
    known = set(instance.get_dynamic_partitions(warc_shards.name))  # type: ignore[arg-type]
    return [shard.key for shard in shards if shard.key not in known], files


@dg.sensor(target=SHARD_ASSETS, minimum_interval_seconds=600, default_status=dg.DefaultSensorStatus.STOPPED)
def new_warc_files_sensor(context: dg.SensorEvaluationContext, cc_source: CommonCrawlSource):
    """Registers the configured crawls' new WARC files as partitions and requests a run for each.
    Its cursor holds the number of files seen per crawl."""
    seen = json.loads(context.cursor) if context.cursor else None
    keys, files = new_shard_keys(cc_source, context.instance, seen)
    cursor = json.dumps(files, sort_keys=True)
    if not keys:
        return dg.SensorResult(skip_reason="no new WARC files in the configured crawls", cursor=cursor)
    context.log.info(f"registering {len(keys)} new shards: {keys[:5]}{' …' if len(keys) > 5 else ''}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=key, partition_key=key) for key in keys],
        dynamic_partitions_requests=[warc_shards.build_add_request(keys)],
        cursor=cursor,
    )


@dg.schedule(cron_schedule="0 4 * * *", target=SHARD_ASSETS, default_status=dg.DefaultScheduleStatus.STOPPED)
def daily_crawl_check(context: dg.ScheduleEvaluationContext, cc_source: CommonCrawlSource):
    """Once a day, re-checks the configured crawls (even with the sensor off) and runs new shards."""
    keys, _ = new_shard_keys(cc_source, context.instance)
    if not keys:
        return dg.SkipReason("no new WARC files in the configured crawls")
    context.instance.add_dynamic_partitions(warc_shards.name, keys)  # type: ignore[arg-type]
    return [dg.RunRequest(run_key=key, partition_key=key) for key in keys]
