"""`corpus ui` (dagster dev on workspace.yaml) loads the code location and launches a run over GraphQL."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from corpus_assets.cli.instance import open_instance
from corpus_assets.cli.runner import register_partitions

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # a webserver and a daemon in processes of their own


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists() and "Z" not in
            Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:1]}


def launch_ui(folder: Path):
    """`corpus ui` in a session of its own (so the test can clean up), not yet waited for."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    process = subprocess.Popen([sys.executable, "-m", "corpus_assets.cli", "ui", "--port", str(port),
                                "--warehouse", str(folder / "wh")], cwd=folder,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return process, DagsterGraphQLClient("127.0.0.1", port_number=port), port


def wait_until_up(process, client) -> None:
    deadline = time.time() + 180
    while True:
        try:
            client._execute("{ version }")
            return
        except Exception:
            if time.time() > deadline or process.poll() is not None:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail("the Dagster UI did not come up within 180 s")
            time.sleep(1)


def stop_ui(process, signum) -> set[int]:
    """Signal `corpus ui` itself (not its children) and return the processes it left running."""
    children = descendants(process.pid)
    assert children  # the webserver, the daemon and the code server run below it
    process.send_signal(signum)
    process.wait(90)
    deadline = time.time() + 30
    while alive(children) and time.time() < deadline:
        time.sleep(0.5)
    return alive(children)


def launch_partition_run(client, warehouse: Path) -> None:
    """Through GraphQL, as the UI's Materialize button does: one shard's `documents`, to success."""
    assets = client._execute("{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    assert {"documents"} <= {"/".join(a["assetKey"]["path"]) for a in assets}
    register_partitions(open_instance(str(warehouse)), ["CC-SAMPLE-2026-07/00000"])
    run_id = None
    deadline = time.time() + 60
    while run_id is None:  # the code location may still be loading
        try:
            run_id = client.submit_job_execution("ingest_shard", tags={"dagster/partition": "CC-SAMPLE-2026-07/00000"},
                                                 asset_selection=["documents"])
        except DagsterGraphQLClientError:
            if time.time() > deadline:
                raise
            time.sleep(2)
    deadline = time.time() + 240
    status = None
    while time.time() < deadline:
        status = client.get_run_status(run_id)
        if status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            break
        time.sleep(2)
    assert status == dg.DagsterRunStatus.SUCCESS
    assert pl.read_delta(str(warehouse / "documents")).height == 77


def test_ui_launches_a_run_and_stops_its_children_on_sigint_and_on_sigterm(tmp_path):
    """Two `corpus ui` at once (their start-ups overlap): one launches a partition run and is stopped with
    SIGINT (Ctrl-C), the other with SIGTERM; neither leaves its webserver, daemon or code server behind."""
    first, second = launch_ui(tmp_path / "a"), launch_ui(tmp_path / "b")
    try:
        for process, client, _ in (first, second):
            wait_until_up(process, client)
        launch_partition_run(first[1], tmp_path / "a" / "wh")
    finally:
        left = {"SIGINT": stop_ui(first[0], signal.SIGINT), "SIGTERM": stop_ui(second[0], signal.SIGTERM)}
        for pid in set().union(*left.values()):
            os.kill(pid, signal.SIGKILL)
    assert left == {"SIGINT": set(), "SIGTERM": set()}, "corpus ui left processes running"
    for port in (first[2], second[2]):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing serves the port any more
