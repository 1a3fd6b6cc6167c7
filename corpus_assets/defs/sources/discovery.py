"""Incremental ingestion: a sensor and a daily schedule register new WARC shards and request runs."""

import dagster as dg

from corpus_assets.defs.phases import INGEST, phase_selection
from corpus_assets.defs.sources.partitions import warc_shards
from corpus_assets.defs.sources.cc_source import CommonCrawlSource

# a new shard needs the ingest phase first; `dedup_clusters` and `corpus` follow by automation
SHARD_ASSETS = phase_selection(INGEST)


def new_shard_keys(cc_source: CommonCrawlSource, instance: dg.DagsterInstance) -> list[str]:
    known = set(instance.get_dynamic_partitions(warc_shards.name))
    return [shard.key for shard in cc_source.planned_shards() if shard.key not in known]


@dg.sensor(target=SHARD_ASSETS, minimum_interval_seconds=600, default_status=dg.DefaultSensorStatus.STOPPED)
def new_warc_files_sensor(context: dg.SensorEvaluationContext, cc_source: CommonCrawlSource):
    """Registers the configured crawls' new WARC files as partitions and requests a run for each."""
    keys = new_shard_keys(cc_source, context.instance)
    if not keys:
        return dg.SensorResult(skip_reason="no new WARC files in the configured crawls")
    context.log.info(f"registering {len(keys)} new shards: {keys[:5]}{' …' if len(keys) > 5 else ''}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=key, partition_key=key) for key in keys],
        dynamic_partitions_requests=[warc_shards.build_add_request(keys)],
    )


@dg.schedule(cron_schedule="0 4 * * *", target=SHARD_ASSETS, default_status=dg.DefaultScheduleStatus.STOPPED)
def daily_crawl_check(context: dg.ScheduleEvaluationContext, cc_source: CommonCrawlSource):
    """Once a day, re-checks the configured crawls (even with the sensor off) and runs new shards."""
    keys = new_shard_keys(cc_source, context.instance)
    if not keys:
        return dg.SkipReason("no new WARC files in the configured crawls")
    context.instance.add_dynamic_partitions(warc_shards.name, keys)
    return [dg.RunRequest(run_key=key, partition_key=key) for key in keys]
