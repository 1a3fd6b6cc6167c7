"""Run Dagster jobs for shards from a plain process (the `corpus` CLI, tests, benchmarks).

Each shard is one Dagster run, recorded in the warehouse's Dagster instance so the UI shows it.
Runs execute in a pool of worker processes, each running its runs in-process: the pool gives the
parallelism, and every worker imports Dagster, opens the instance and loads the models once, not once
per run or step. The launching process never imports Dagster (~1.5-2 CPU-s saved per command): what
needs the instance there (registering partitions, reading what is materialized) is submitted to the
pool with `in_worker`. A worker ends with `os._exit` once its instance is closed and its output
flushed, skipping the interpreter's teardown of Dagster's objects (~1 CPU-s per worker). Before its
first run a process moves what its imports and the definitions made out of the garbage collector's
sight (`gc.freeze`): those objects live as long as the process, and each full collection would walk
them again (~0.17 CPU-s each; the checks of every asset start with one, `validate.release_memory`).
With 0 workers the runs execute one after the other in the calling process (a debugger sees them,
and tests skip the start-up of worker processes).
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from corpus_assets.core.work_env import environment_set, work_settings_for_children

if TYPE_CHECKING:  # pragma: no cover
    import dagster as dg


def job_named(name: str) -> "dg.JobDefinition":
    """The code location's job `name`; how a worker (or Dagster's multiprocess executor) rebuilds it."""
    from corpus_assets.definitions import defs

    return defs.resolve_job_def(name)


@dataclass
class RunOutcome:
    partition: str
    success: bool
    seconds: float
    run_id: str = ""
    error: str = ""  # "<step>: <first line of the root cause>" of the first failed step
    metadata: dict[str, dict] = field(default_factory=dict)  # asset name -> materialization metadata

    @property
    def failed_step(self) -> str:
        return self.error.split(":", 1)[0] if self.error else ""


def _metadata_values(metadata) -> dict:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def run_partition(partition: str | None, asset_names: list[str], run_config: dict,
                  job_name: str = "ingest_shard") -> RunOutcome:
    """Materialize `asset_names` of a job for one partition (a shard or a mixture; None for a global job)
    as one Dagster run in this process, in the instance of $DAGSTER_HOME."""
    import dagster as dg

    started = time.perf_counter()
    instance = worker_instance()
    tags = {"corpus/launched_by": "cli"}
    if partition is not None:
        tags["dagster/partition"] = partition
    job = dg.build_reconstructable_job(__name__, job_named.__name__, reconstructable_args=(job_name,))
    freeze_start_up_objects(job_name)
    result = dg.execute_job(
        job, instance=instance, run_config=run_config, tags=tags,
        asset_selection=[dg.AssetKey(name) for name in asset_names], raise_on_error=False,
    )
    metadata = {event.asset_key.to_user_string(): _metadata_values(event.materialization.metadata)  # type: ignore[union-attr]
                for event in result.get_asset_materialization_events()}
    error = "" if result.success else first_failure(result)
    return RunOutcome(partition or job_name, result.success, time.perf_counter() - started, result.run_id, error, metadata)


_start_up_frozen = False


def freeze_start_up_objects(job_name: str) -> None:
    """Once per process: import the definitions, collect, and freeze what is left (modules, definitions,
    caches) so later full collections skip it; objects made after still get collected."""
    global _start_up_frozen
    if _start_up_frozen:
        return
    import gc

    job_named(job_name)
    gc.collect()
    gc.freeze()
    _start_up_frozen = True


def first_failure(result) -> str:
    """The root cause of a failed run's first failed step (or failed blocking check), in one line."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            lines = error.message.strip().splitlines() or ["error"]
            return f"{event.step_key}: {lines[0][:300]}"
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                return f"{evaluation.asset_key.to_user_string()}: check {evaluation.check_name} failed"
    return "run failed"


def cli_run_config(ops: dict[str, dict] | None = None, log_level: str = "CRITICAL") -> dict:
    """Run config for runs launched by the CLI: in-process steps, a quiet console unless asked,
    `ops` = {asset: config}."""
    config: dict = {
        "execution": {"config": {"in_process": {}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    if ops:
        config["ops"] = {name: {"config": values} for name, values in ops.items() if values}
    return config


_INSTANCES: dict[str, Any] = {}  # $DAGSTER_HOME -> this process's instance of it (see worker_instance)


def worker_instance() -> "dg.DagsterInstance":
    """The instance of $DAGSTER_HOME, opened once per process and home (not once per run), as
    `instance.worker_instance_ref` says."""
    home = os.environ.get("DAGSTER_HOME", "")
    if home not in _INSTANCES:
        import dagster as dg

        from corpus_assets.cli.instance import worker_instance_ref

        path = os.path.expanduser(home)
        if not (os.path.isabs(path) and os.path.isdir(path)):  # Dagster's own error says what is wrong
            return dg.DagsterInstance.get()
        _INSTANCES[home] = dg.DagsterInstance.from_ref(worker_instance_ref(path))
    return _INSTANCES[home]


def _exit_now() -> None:
    """Registered first, so it runs last among the exit handlers: close the instances, flush, and end
    the worker without tearing down its modules."""
    for instance in _INSTANCES.values():
        instance.dispose()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _set_environment(env: dict[str, str]) -> None:
    os.environ.update(env)
    atexit.register(_exit_now)


def in_worker(instance_function: Callable[..., Any], *args: Any) -> Any:
    """`instance_function(instance, *args)` with this process's instance; submit it to a worker pool so
    the caller needs no Dagster."""
    return instance_function(worker_instance(), *args)


class InProcessPool(Executor):
    """The pool of `workers=0`: each submitted run executes at once in this process, with `env` set
    around it and the previous environment restored after, so nothing leaks into the caller."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        with environment_set(self.env):
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as exc:  # reported like a crashed worker
                future.set_exception(exc)
        return future


@contextmanager
def worker_pool(workers: int, env: dict[str, str] | None = None) -> Iterator[Executor]:
    """Worker processes with `env` set (CORPUS_WAREHOUSE, CORPUS_SOURCE, DAGSTER_HOME); reuse one pool
    for several phases so each worker imports Dagster, GX and the models once. 0 workers: this process."""
    if workers <= 0:
        opened_before = set(_INSTANCES)
        try:
            yield InProcessPool(env or {})
        finally:  # close the instances its runs opened: this process goes on
            for home in set(_INSTANCES) - opened_before:
                _INSTANCES.pop(home).dispose()
        return
    context = multiprocessing.get_context("spawn")  # no forking of a process that holds threads and sockets
    with work_settings_for_children(), ProcessPoolExecutor(  # read once, at process start
            max_workers=max(1, workers), mp_context=context, initializer=_set_environment, initargs=(env or {},)) as pool:
        yield pool


def run_partitions(partitions: list[str | None], asset_names: list[str], run_config: dict, workers: int,
                   env: dict[str, str] | None = None, job_name: str = "ingest_shard",
                   on_done: Callable[[int, int, RunOutcome], None] = lambda i, n, o: None,
                   pool: Executor | None = None) -> list[RunOutcome]:
    """Run every partition (None: the run of a global job), `workers` at a time, in `pool` or a new
    pool (0 workers: one after the other in this process); return outcomes in completion order. A
    failed run never stops the others."""
    if not partitions:
        return []
    if pool is None:
        with worker_pool(min(workers, len(partitions)), env) as own_pool:
            return run_partitions(partitions, asset_names, run_config, workers, env, job_name, on_done, own_pool)
    outcomes: list[RunOutcome] = []
    if isinstance(pool, InProcessPool):  # one run at a time, each reported as it ends
        finished: Iterable[tuple[Future, str | None]] = (
            (pool.submit(run_partition, key, asset_names, run_config, job_name), key) for key in partitions)
    else:
        futures = {pool.submit(run_partition, key, asset_names, run_config, job_name): key for key in partitions}
        finished = ((future, futures[future]) for future in as_completed(futures))
    for future, key in finished:
        try:
            outcome = future.result()
        except Exception as exc:  # a worker crash is reported like a failed run
            outcome = RunOutcome(key or job_name, False, 0.0, error=f"worker: {type(exc).__name__}: {exc}")
        outcomes.append(outcome)
        on_done(len(outcomes), len(partitions), outcome)
    return outcomes


def register_partitions(instance: "dg.DagsterInstance", keys: Iterable[str]) -> list[str]:
    """Add the keys that are not yet registered; return those added."""
    from corpus_assets.defs.sources.partitions import warc_shards

    known = set(instance.get_dynamic_partitions(warc_shards.name))  # type: ignore[arg-type]
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(warc_shards.name, new)  # type: ignore[arg-type]
    return new


def materialized_partitions(instance: "dg.DagsterInstance", asset_name: str) -> set[str]:
    import dagster as dg

    return set(instance.get_materialized_partitions(dg.AssetKey(asset_name)))


def run_environment(warehouse: str, source: str | None = None, mixtures: str | None = None) -> dict[str, str]:
    """What worker processes need to run shards of `source` (and the mixture specs of the folder `mixtures`)
    into `warehouse`, in the warehouse's instance."""
    from corpus_assets.cli.common import mixtures_folder, source_uri
    from corpus_assets.cli.instance import prepare_dagster_home

    return {"CORPUS_SOURCE": source_uri(source), "CORPUS_WAREHOUSE": warehouse,
            "CORPUS_MIXTURES": mixtures_folder(mixtures), "DAGSTER_HOME": str(prepare_dagster_home(warehouse))}
