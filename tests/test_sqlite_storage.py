"""The CLI's Dagster storage (`cli/sqlite_storage.py`) writes what Dagster's own SQLite classes read; the
workers' instance (`cli/instance.worker_instance_ref`) changes only Dagster's defaults."""
import logging
import sqlite3
import time

import dagster as dg
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from corpus_assets.cli.instance import dagster_home, worker_instance_ref
from corpus_assets.cli.sqlite_storage import OPEN_RUN_DATABASES, FastSqliteEventLogStorage


def log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(error_info=None, level=logging.INFO, user_message=message, run_id=run_id,
                         timestamp=time.time(), step_key=None, job_name="a_job", dagster_event=None)


def alembic_revision(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("select version_num from alembic_version").fetchone()[0]


def test_run_databases_copied_from_the_template_read_like_dagsters_own(tmp_path):
    storage = FastSqliteEventLogStorage(str(tmp_path))
    runs = [f"run{i}" for i in range(OPEN_RUN_DATABASES + 3)]
    for run_id in runs:
        storage.store_event(log_entry(run_id, f"hello from {run_id}"))
        storage.store_event(log_entry(run_id, "second"))
    assert len(storage._engines) == OPEN_RUN_DATABASES + 1  # the last few runs and the index stay open
    storage.dispose()

    dagsters = SqliteEventLogStorage(str(tmp_path))
    assert sorted(dagsters.get_all_run_ids()) == runs  # no template or partial file among the runs
    for run_id in runs:
        assert [e.user_message for e in dagsters.get_logs_for_run(run_id)] == [f"hello from {run_id}", "second"]
    revisions = {alembic_revision(tmp_path / f"{run_id}.db") for run_id in runs}
    assert revisions == {alembic_revision(tmp_path / "index.db")}  # the head revision: nothing to migrate


def test_the_cli_instance_history_opens_with_dagsters_default_storage(sample_warehouse):
    instance = dg.DagsterInstance.from_config(str(dagster_home(str(sample_warehouse))))
    assert type(instance._run_storage).__name__ == "SqliteRunStorage"  # Dagster's, not the CLI's
    runs = instance.get_runs()
    assert len(runs) >= 6 and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    for run in runs:
        events = {entry.dagster_event_type for entry in instance.all_logs(run.run_id) if entry.dagster_event_type}
        assert dg.DagsterEventType.RUN_SUCCESS in events
    corpus = instance.fetch_materializations(dg.AssetKey("corpus"), limit=100).records
    assert {record.partition_key for record in corpus} == set(instance.get_dynamic_partitions("warc_shards"))
    instance.dispose()


def test_workers_replace_only_dagsters_default_storage_and_compute_logs(tmp_path):
    default = worker_instance_ref(str(tmp_path))
    assert default.storage_data.class_name == "FastSqliteStorage"
    assert default.compute_logs_data.class_name == "NoOpComputeLogManager"
    (tmp_path / "dagster.yaml").write_text(
        f"event_log_storage:\n  module: dagster._core.storage.event_log\n  class: SqliteEventLogStorage\n"
        f"  config:\n    base_dir: {tmp_path / 'events'}\n"
        f"compute_logs:\n  module: dagster._core.storage.local_compute_log_manager\n"
        f"  class: LocalComputeLogManager\n  config:\n    base_dir: {tmp_path / 'logs'}\n")
    configured = worker_instance_ref(str(tmp_path))
    assert configured.storage_data == InstanceRef.from_dir(str(tmp_path)).storage_data  # configured: as it is
    assert configured.compute_logs_data == InstanceRef.from_dir(str(tmp_path)).compute_logs_data
    instance = dg.DagsterInstance.from_ref(default)
    assert type(instance.compute_log_manager).__name__ == "NoOpComputeLogManager"
    instance.dispose()


READ_ONCE_SCRIPT = """
import json, sqlite3, sys
import dagster as dg
from alembic.script import base
from corpus_assets.cli.instance import worker_instance_ref

reads = []
read_revisions = base.ScriptDirectory._load_revisions
base.ScriptDirectory._load_revisions = lambda self: (reads.append(self.dir), read_revisions(self))[1]
home = sys.argv[1]
instance = dg.DagsterInstance.from_ref(worker_instance_ref(home))
instance.event_log_storage._open("a_run")
count = len(reads)
print(json.dumps({"reads": count, "head": base.ScriptDirectory(reads[0]).get_current_head()}))
"""


def test_a_worker_reads_dagsters_migration_scripts_once_and_stamps_every_database_at_their_head(tmp_path):
    import json
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run([sys.executable, "-c", READ_ONCE_SCRIPT, str(home)], capture_output=True, text=True,
                          check=True)
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["reads"] == 1  # Dagster's run, event log and schedule storages share one directory's scripts
    databases = [home / "history" / "runs.db", home / "history" / "runs" / "index.db",
                 home / "history" / "runs" / "a_run.db", home / "schedules" / "schedules.db"]
    assert {alembic_revision(path) for path in databases} == {state["head"]}
