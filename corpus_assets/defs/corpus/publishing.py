"""When to (re)publish `corpus` partitions: after `dedup_clusters` has absorbed a shard, for

* the shards whose inputs (documents, decisions, dedup signatures, boilerplate lines) changed after
  their corpus was published, new shards included, and
* the shards whose documents changed representative in a dedup run (its `affected_partitions`).

So one new shard costs one dedup run and corpus runs for that shard and the affected ones only,
never a run per corpus partition (~900 per crawl) per dedup run.
"""
import dagster as dg

CORPUS = dg.AssetKey("corpus")
DEDUP = dg.AssetKey("dedup_clusters")
# the per-shard inputs of a corpus partition (its partitioned parents in the asset graph)
CORPUS_INPUTS = [dg.AssetKey(name) for name in ("documents", "decisions", "dedup_signatures", "boilerplate_lines")]


def _latest_ids(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, int]:
    return instance.event_log_storage.get_latest_storage_id_by_partition(  # type: ignore[return-value]
        key, dg.DagsterEventType.ASSET_MATERIALIZATION)


def stale_shards(instance: dg.DagsterInstance, before: int | None = None) -> list[str]:
    """Shards whose corpus is missing or older than one of its inputs; with `before`, only inputs
    materialized before that event (storage id)."""
    published = _latest_ids(instance, CORPUS)
    stale = set()
    for key in CORPUS_INPUTS:
        for shard, storage_id in _latest_ids(instance, key).items():
            if storage_id > published.get(shard, -1) and (before is None or storage_id < before):
                stale.add(shard)
    return sorted(stale)


def _run_start_id(instance: dg.DagsterInstance, record: dg.EventLogRecord) -> int:
    """Where a dedup run began reading: its RUN_START event (a reported event: the event itself)."""
    if record.run_id:
        starts = instance.get_records_for_run(record.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
        if starts:
            return starts[0].storage_id
    return record.storage_id


def shards_to_publish(instance: dg.DagsterInstance, after: int | None) -> tuple[list[str], int | None]:
    """(shards to publish, storage id of the newest dedup_clusters materialization) for the dedup runs
    after the one already handled (`after`); ([], None) when there is none."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=DEDUP, after_storage_id=after),
                                              limit=1000, ascending=True).records
    if not records:
        return [], None
    published = _latest_ids(instance, CORPUS)
    shards = set(stale_shards(instance, before=_run_start_id(instance, records[-1])))
    for record in records:
        affected = record.asset_materialization.metadata.get("affected_partitions")  # type: ignore[union-attr]
        for shard in (affected.value if affected is not None else None) or []:  # type: ignore[union-attr]
            if published.get(shard, -1) < record.storage_id:  # type: ignore[arg-type]
                shards.add(shard)  # type: ignore[arg-type]
    return sorted(shards), records[-1].storage_id


@dg.sensor(asset_selection=dg.AssetSelection.assets(CORPUS), minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.STOPPED)
def publish_after_dedup(context: dg.SensorEvaluationContext):
    """Requests `corpus` runs for the shards a dedup run absorbed or changed (see the module docstring)."""
    after = int(context.cursor) if context.cursor else None
    shards, newest = shards_to_publish(context.instance, after)
    if newest is None:
        return dg.SkipReason("no dedup run since the last evaluation")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"{shard}@{newest}", partition_key=shard) for shard in shards],
        cursor=str(newest))
