"""`corpus ui`: the Dagster UI and daemon (`dg dev`) on the warehouse's own instance.

The UI runs in its own process group; SIGINT or SIGTERM to `corpus ui` is passed on to it, and
whatever is left of the group after a grace period is killed, so no webserver or daemon outlives it.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from corpus_assets.cli.common import CliError, mixtures_folder, source_uri, warehouse_root
from corpus_assets.core.work_env import with_work_settings

SHUTDOWN_GRACE_SECONDS = 30
# the code location, named as the project names it (pyproject.toml [tool.dg.project])
WORKSPACE = """load_from:
  - python_module:
      module_name: corpus_assets.definitions
      location_name: corpus_assets
"""


def add_parser(sub) -> None:
    p = sub.add_parser("ui", help="start the Dagster UI and daemon for a warehouse")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--warehouse")
    p.add_argument("--source", help="crawl source for the sensor and schedule (default $CORPUS_SOURCE or the sample)")
    p.add_argument("--mixtures", metavar="DIR", help="mixture specs folder (default $CORPUS_MIXTURES or the packaged examples)")
    p.set_defaults(func=run_ui)


def _dg_command() -> str:
    beside = Path(sys.executable).parent / "dg"  # the environment's own `dg`, active or not
    found = str(beside) if beside.exists() else shutil.which("dg")
    if not found:
        raise CliError("the `dg` command (package dagster-dg-cli) is not installed in this environment")
    return found


def run_ui(args) -> None:
    from corpus_assets.cli.instance import prepare_dagster_home

    warehouse = warehouse_root(args.warehouse)
    home = prepare_dagster_home(warehouse)
    workspace = home / "workspace.yaml"
    workspace.write_text(WORKSPACE)
    env = {**with_work_settings(os.environ), "CORPUS_WAREHOUSE": warehouse, "CORPUS_SOURCE": source_uri(args.source),
           "CORPUS_MIXTURES": mixtures_folder(args.mixtures), "DAGSTER_HOME": str(home)}
    command = [_dg_command(), "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)]
    print(f"warehouse {warehouse}\ndagster home {home}\n" + " ".join(command), flush=True)
    raise SystemExit(run_until_signalled(command, env))


def run_until_signalled(command: list[str], env: dict[str, str]) -> int:
    """Run `command` in its own process group until it exits or this process gets SIGINT/SIGTERM;
    then stop the whole group (gracefully first) and return the exit code."""
    child = subprocess.Popen(command, env=env, start_new_session=True)
    stop = {"signal": None}

    def forward(signum, _frame):
        stop["signal"] = signum

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None and stop["signal"] is None:
            try:
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        _stop_group(child)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return child.returncode if stop["signal"] is None else 128 + stop["signal"]


def _stop_group(child: subprocess.Popen) -> None:
    """SIGINT to the group (Dagster shuts its webserver and daemon down on it), then SIGKILL what is left."""
    try:
        os.killpg(child.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    try:
        child.wait(timeout=SHUTDOWN_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()
