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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def ui_server(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    process = subprocess.Popen([sys.executable, "-m", "corpus_assets.cli", "ui", "--port", str(port),
                                "--warehouse", str(tmp_path / "wh")], cwd=tmp_path,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    deadline = time.time() + 120
    while True:
        try:
            client._execute("{ version }")
            break
        except Exception:
            if time.time() > deadline or process.poll() is not None:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail("the Dagster UI did not come up within 120 s")
            time.sleep(1)
    yield client, tmp_path / "wh"
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_ui_launches_a_partition_materialization(ui_server):
    client, warehouse = ui_server
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
