"""Materialize per-shard assets through Dagster from a plain process (the `corpus` CLI, tests).

Each shard is one Dagster run, recorded in the Dagster instance ($DAGSTER_HOME) so the UI shows it.
Runs execute in a pool of worker processes, each running its runs in-process: the pool gives the
parallelism, and every worker imports Dagster and loads the models once, not once per step.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import dagster as dg

DEFAULT_DAGSTER_HOME = ".dagster"


def ensure_dagster_home() -> str:
    """Use $DAGSTER_HOME, else ./.dagster (created), so CLI runs and `corpus ui` share one instance."""
    home = os.environ.get("DAGSTER_HOME") or str(Path(DEFAULT_DAGSTER_HOME).resolve())
    Path(home).mkdir(parents=True, exist_ok=True)
    (Path(home) / "dagster.yaml").touch()  # an empty file: default settings, without the warning
    os.environ["DAGSTER_HOME"] = home
    return home


def ingest_job() -> dg.JobDefinition:
    """Job factories for `dg.reconstructable` (they must be importable by module path)."""
    from corpus_assets.definitions import defs

    return defs.resolve_job_def("ingest_shard")


def dedup_job() -> dg.JobDefinition:
    from corpus_assets.definitions import defs

    return defs.resolve_job_def("deduplicate")


def corpus_job() -> dg.JobDefinition:
    from corpus_assets.definitions import defs

    return defs.resolve_job_def("publish_corpus")


JOB_FACTORIES = {"ingest_shard": ingest_job, "deduplicate": dedup_job, "publish_corpus": corpus_job}


@dataclass
class RunOutcome:
    partition: str
    success: bool
    seconds: float
    run_id: str = ""
    error: str = ""
    metadata: dict[str, dict] = field(default_factory=dict)  # asset name -> materialization metadata


def _metadata_values(metadata) -> dict:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def run_partition(partition: str | None, asset_names: list[str], run_config: dict,
                  job_name: str = "ingest_shard") -> RunOutcome:
    """Materialize `asset_names` of a job for one shard (or, for a global job, None) as one Dagster run
    in this process."""
    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    tags = {"corpus/launched_by": "cli"}
    if partition is not None:
        tags["dagster/partition"] = partition
    result = dg.execute_job(
        dg.reconstructable(JOB_FACTORIES[job_name]), instance=instance, run_config=run_config, tags=tags,
        asset_selection=[dg.AssetKey(name) for name in asset_names],
    )
    metadata = {event.asset_key.to_user_string(): _metadata_values(event.materialization.metadata)
                for event in result.get_asset_materialization_events()}
    error = "" if result.success else _first_failure(result)
    return RunOutcome(partition or job_name, result.success, time.perf_counter() - started, result.run_id, error, metadata)


def _first_failure(result) -> str:
    """The root cause of a failed run's first failed step, in one line."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            lines = error.message.strip().splitlines() or ["error"]
            return f"{event.step_key}: {lines[0][:300]}"
    return "run failed"


def cli_run_config(ops: dict[str, dict] | None = None) -> dict:
    """Run config for runs launched by the CLI: in-process steps, quiet console, `ops` = {asset: config}."""
    config: dict = {
        "execution": {"config": {"in_process": {}}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    if ops:
        config["ops"] = {name: {"config": values} for name, values in ops.items() if values}
    return config


def _set_environment(env: dict[str, str]) -> None:
    os.environ.update(env)


@contextmanager
def worker_pool(workers: int, env: dict[str, str] | None = None) -> Iterator[ProcessPoolExecutor]:
    """Worker processes with `env` set (e.g. CORPUS_WAREHOUSE); reuse one pool for several phases so
    each worker imports Dagster, GX and the models once."""
    context = multiprocessing.get_context("spawn")  # no forking of a process that holds threads and sockets
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context, initializer=_set_environment,
                             initargs=(env or {},)) as pool:
        yield pool


def run_partitions(partitions: list[str | None], asset_names: list[str], run_config: dict, workers: int,
                   env: dict[str, str] | None = None, job_name: str = "ingest_shard",
                   on_done: Callable[[int, int, RunOutcome], None] = lambda i, n, o: None,
                   pool: ProcessPoolExecutor | None = None) -> list[RunOutcome]:
    """Run every partition (None: the run of a global job), `workers` at a time, in `pool` or a new
    pool; return outcomes in completion order."""
    if not partitions:
        return []
    if pool is None:
        with worker_pool(min(workers, len(partitions)), env) as own_pool:
            return run_partitions(partitions, asset_names, run_config, workers, env, job_name, on_done, own_pool)
    outcomes: list[RunOutcome] = []
    futures = {pool.submit(run_partition, key, asset_names, run_config, job_name): key for key in partitions}
    for future in as_completed(futures):
        try:
            outcome = future.result()
        except Exception as exc:  # a worker crash is reported like a failed run
            outcome = RunOutcome(futures[future] or job_name, False, 0.0, error=f"{type(exc).__name__}: {exc}")
        outcomes.append(outcome)
        on_done(len(outcomes), len(partitions), outcome)
    return outcomes


def register_partitions(instance: dg.DagsterInstance, keys: Iterable[str]) -> list[str]:
    """Add the keys that are not yet registered; return those added."""
    from corpus_assets.defs.sources.partitions import warc_shards

    known = set(instance.get_dynamic_partitions(warc_shards.name))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(warc_shards.name, new)
    return new


def materialized_partitions(instance: dg.DagsterInstance, asset_name: str) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey(asset_name)))
