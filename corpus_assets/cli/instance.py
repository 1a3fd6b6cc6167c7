"""The Dagster instance of a warehouse: its runs, partitions and materialization metadata live with it.

A local warehouse keeps its instance in `<warehouse>/_dagster`, so `corpus ui --warehouse W` shows W's
history only. `$DAGSTER_HOME`, when set, wins (a shared, e.g. Postgres-backed, deployment).
An object-store warehouse uses `./.dagster` unless `$DAGSTER_HOME` says otherwise.
"""
from __future__ import annotations

import os
from pathlib import Path

from corpus_assets.cli.common import is_local

INSTANCE_FOLDER = "_dagster"
# the project's instance settings: no telemetry banner in the middle of the CLI's output, and concurrency
# pools of one slot (the global dedup step is the only asset in a pool: it never runs twice at once)
INSTANCE_CONFIG = """telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""


def dagster_home(warehouse_root: str) -> Path:
    explicit = os.environ.get("DAGSTER_HOME")
    if explicit:
        return Path(explicit).resolve()
    if is_local(warehouse_root):
        return Path(warehouse_root.removeprefix("file://"), INSTANCE_FOLDER)
    return Path(".dagster").resolve()


def prepare_dagster_home(warehouse_root: str) -> Path:
    """Create the instance folder (with the project's settings when it has none) and return it."""
    home = dagster_home(warehouse_root)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    return home


def documents_written(instance) -> dict[str, int]:
    """{"crawl/shard": rows the latest `documents` run of that shard reported writing}."""
    import dagster as dg

    counts: dict[str, int] = {}
    cursor = None
    while True:  # newest first, so the first record seen per shard is its latest
        page = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("documents")),
                                               limit=1000, cursor=cursor, ascending=False)
        for record in page.records:
            written = record.asset_materialization.metadata.get("documents_written")
            if record.partition_key and written is not None:
                counts.setdefault(record.partition_key, int(written.value))
        if not page.has_more:
            return counts
        cursor = page.cursor


def worker_instance_ref(home: str):
    """How the CLI's workers open the instance in `home`: Dagster's default SQLite storage with connections
    kept open (`sqlite_storage`), and, unless dagster.yaml configures `compute_logs`, no capture of each
    run's raw stdout/stderr: that starts a `tail` and a Python watchdog process per stream and run (~0.5 CPU-s per
    `corpus materialize`), while what the steps log is in the event log anyway (`--verbose` prints it)."""
    from dagster._core.instance.ref import InstanceRef
    from dagster._serdes import ConfigurableClassData

    from corpus_assets.cli.sqlite_storage import faster_storage

    ref = faster_storage(InstanceRef.from_dir(home))
    if ref.compute_logs_data == InstanceRef.config_defaults(home)["compute_logs"]:  # not configured
        ref = ref._replace(compute_logs_data=ConfigurableClassData(
            "dagster._core.storage.noop_compute_log_manager", "NoOpComputeLogManager", "{}\n"))
    return ref


def open_instance(warehouse_root: str):
    """The warehouse's Dagster instance, opened in this process without touching $DAGSTER_HOME."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(prepare_dagster_home(warehouse_root)))
