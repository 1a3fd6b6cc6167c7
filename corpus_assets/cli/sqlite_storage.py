"""Dagster's default SQLite storage with connections kept open: what the CLI's workers write runs with.

Dagster's SQLite event log creates a SQLAlchemy engine, opens a connection and disposes of both for
every statement (~1,300 times in one `corpus materialize` of a 3,000-record file), and creates each
run's database by running Alembic against an empty file (~0.1 CPU-s a run). The run storage also opens
an engine per statement. Together that was most of the ~5 CPU-s Dagster cost per invocation
(benchmarks/results/profile_breakdown.txt).

`FastSqliteStorage` writes the same files in the same layout and schema (`history/runs.db`,
`history/runs/<run_id>.db`, `history/runs/index.db`, `schedules/schedules.db`), so the UI, the
`dagster` CLI and any process using Dagster's own classes read them as before. Only how this process
connects differs:
- one engine per database file, its pooled connections reused (the last few run databases only, so a
  worker that runs thousands of shards holds a bounded number of files open);
- a new run's database is a copy of an empty one this process initialised once (same schema, same
  Alembic revision, WAL mode) instead of a fresh Alembic run;
- commits are not synced to disk one by one (`_no_sync_per_commit`);
- Alembic reads Dagster's migration scripts once per process (`_migration_scripts_read_once`), not once
  per database created or checked (9 times when a worker opens a fresh instance: ~0.35 CPU-s).
`worker_instance` uses it only where the instance's storage is Dagster's default SQLite storage: a
configured one (Postgres, a custom class) is left as it is.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from alembic.script import ScriptDirectory
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS, create_db_conn_string
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from sqlalchemy.engine import Connection, Engine

OPEN_RUN_DATABASES = 4  # run databases whose engine stays open (the current run's, and a few before it)


def _open_engine(conn_string: str) -> Engine:
    # pooled (SQLAlchemy's default for a file): a connection is reused, never shared at once; Dagster
    # serialises its statements with a lock, which may hand a connection to another thread
    engine = db.create_engine(conn_string, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                         "check_same_thread": False})
    db.event.listen(engine, "connect", _no_sync_per_commit)
    return engine


def _no_sync_per_commit(dbapi_connection, _record) -> None:
    """In WAL mode (Dagster's), NORMAL syncs at checkpoints instead of at each of a run's ~40 commits: the
    database stays consistent after a crash; an OS crash or power loss may forget the last events."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


_SCRIPT_DIRECTORIES: dict[tuple, ScriptDirectory] = {}
_scripts_lock = threading.Lock()
_scripts_read_once = False


def _migration_scripts_read_once() -> None:
    """Make `ScriptDirectory.from_config` (what Dagster's schema check and stamp, and Alembic's `stamp`, call)
    return one directory per configuration (the options it is built from) in this process: Alembic executes
    every migration script of the directory (Dagster has ~50) to build each new directory's revision map, ~0.1
    CPU-s a time, and Dagster's run, event log and schedule storages each name their own, identical, alembic.ini.
    The scripts Dagster ships do not change while a process runs. Idempotent."""
    global _scripts_read_once
    with _scripts_lock:
        if _scripts_read_once:
            return
        read = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]

        def from_config_read_once(cls, config):
            key = tuple(tuple(sorted(item for item in (config.get_section(section) or {}).items() if item[0] != "here"))
                        for section in (config.config_ini_section, "post_write_hooks"))  # values come interpolated
            with _scripts_lock:
                if key not in _SCRIPT_DIRECTORIES:
                    _SCRIPT_DIRECTORIES[key] = read(cls, config)
                return _SCRIPT_DIRECTORIES[key]

        ScriptDirectory.from_config = classmethod(from_config_read_once)  # type: ignore[method-assign,assignment]
        _scripts_read_once = True


class FastSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run SQLite event log; engines kept open, new run databases copied from a template."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._template_dir: str | None = None
        self._tables: set[str] = set()
        self._engines_lock = threading.RLock()  # `_open` is also reached from has_table, outside `_db_lock`
        super().__init__(base_dir, inst_data)

    def _open(self, shard: str) -> Engine:
        with self._engines_lock:
            return self._opened(shard)

    def _opened(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        path = self.path_for_shard(shard)
        if shard != INDEX_SHARD_NAME and not os.path.exists(path):
            self._copy_template(path)
            self._initialized_dbs.add(shard)
        engine = self._engines[shard] = _open_engine(self.conn_string_for_shard(shard))
        if shard not in self._initialized_dbs:  # an existing database: Dagster's check (and migration stamp)
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        runs = [key for key in self._engines if key != INDEX_SHARD_NAME]
        for key in runs[:-OPEN_RUN_DATABASES]:
            self._engines.pop(key).dispose()
        return engine

    def _copy_template(self, path: str) -> None:
        """An empty, initialised run database at `path` (written aside, then renamed: a reader never sees half)."""
        if self._template_dir is None:  # under _engines_lock
            self._template_dir = tempfile.mkdtemp(prefix="corpus-dagster-")
            template = db.create_engine(create_db_conn_string(self._template_dir, "template"),
                                        poolclass=db.pool.NullPool)
            self._initdb(template)
            template.dispose()  # closes the last connection: the WAL is checkpointed into the file
        partial = f"{path}.{os.getpid()}.partial"
        shutil.copyfile(os.path.join(self._template_dir, "template.db"), partial)
        os.replace(partial, path)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._open(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Asked inside index transactions (so without `_db_lock`, on a second pooled connection); a table,
        once there, stays."""
        if table_name not in self._tables:
            engine = self._open(INDEX_SHARD_NAME)
            with engine.connect() as conn:
                if engine.dialect.has_table(conn, table_name):
                    self._tables.add(table_name)
        return table_name in self._tables

    def dispose(self) -> None:
        super().dispose()
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        if self._template_dir is not None:
            shutil.rmtree(self._template_dir, ignore_errors=True)
            self._template_dir = None


class FastSqliteRunStorage(SqliteRunStorage):
    """Dagster's SQLite run storage with one engine kept open."""

    _engine: Engine | None = None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        if self._engine is None:
            self._engine = _open_engine(self._conn_string)
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class FastSqliteStorage(DagsterSqliteStorage):
    """`DagsterSqliteStorage` (the default `storage`), built from the classes above."""

    def __init__(self, base_dir: str, inst_data=None):  # noqa: D107 - Dagster's, with the faster parts
        _migration_scripts_read_once()
        self.base_dir = base_dir
        self._run_storage = FastSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = FastSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # Dagster's names its own class here
        return cls.from_local(inst_data=inst_data, **config_value)


def faster_storage(ref):
    """The instance ref `ref` with `FastSqliteStorage` in place of Dagster's default SQLite storage (same
    config); any other storage unchanged."""
    from dagster._serdes import ConfigurableClassData

    data = ref.storage_data
    if data is None or (data.module_name, data.class_name) != ("dagster._core.storage.sqlite_storage",
                                                               "DagsterSqliteStorage"):
        return ref
    return ref._replace(storage_data=ConfigurableClassData(__name__, FastSqliteStorage.__name__, data.config_yaml))
