"""The code location as Dagster loads it: a committed snapshot of its assets, checks, jobs, sensors,
schedules and resources, and `dg check defs` / `dg list defs` on the project.

A change to the definitions shows up here as a diff of `tests/snapshots/defs.json`. When the change is
meant, refresh the snapshot and commit it with the change:

    PYTHONPATH=. .venv/bin/python tests/test_defs.py      # rewrites tests/snapshots/defs.json
"""
from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "snapshots" / "defs.json"
REFRESH = "PYTHONPATH=. .venv/bin/python tests/test_defs.py"


def _keys(keys) -> list[str]:
    return sorted(key.to_user_string() for key in keys)


def _job_assets(defs: dg.Definitions, job_name: str) -> list[str]:
    return _keys(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def _target(defs: dg.Definitions, graph, definition) -> dict:
    """What a sensor or schedule starts: a named job, or the assets of its (anonymous) job or selection."""
    if isinstance(definition, dg.ScheduleDefinition):
        names = [definition.job_name]
    else:
        names = [target.job_name for target in definition.targets]
    selection = getattr(definition, "asset_selection", None)
    if names and all(name.startswith("__anonymous_asset_job") for name in names):
        return {"assets": sorted({key for name in names for key in _job_assets(defs, name)})}
    if names:
        return {"jobs": sorted(names)}
    if selection is not None:
        return {"assets": _keys(selection.resolve(graph))}
    return {}


def _column_schema(spec) -> list[str] | None:
    schema = spec.metadata.get("dagster/column_schema")
    if schema is None:
        return None
    return [f"{column.name}: {column.type}" for column in getattr(schema, "schema", schema).columns]


def snapshot(defs: dg.Definitions) -> dict:
    """The definitions as plain data: names, wiring and the properties a reader relies on (not
    descriptions, which change with wording)."""
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    assets = {}
    for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()):
        partitions = spec.partitions_def
        assets[spec.key.to_user_string()] = {
            "group": spec.group_name,
            "kinds": sorted(spec.kinds),
            "deps": _keys(dep.asset_key for dep in spec.deps),
            "partitions": getattr(partitions, "name", None) or (type(partitions).__name__ if partitions else None),
            "automation_condition": spec.automation_condition.get_label() if spec.automation_condition else None,
            "tags": {k: v for k, v in sorted(spec.tags.items()) if not k.startswith("dagster/kind/")},
            "table_name": spec.metadata.get("dagster/table_name") and str(spec.metadata["dagster/table_name"]),
            "column_schema": _column_schema(spec),
        }
    checks = {}
    for key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        node = graph.get(key)
        checks[f"{key.asset_key.to_user_string()}:{key.name}"] = {
            "blocking": node.blocking,
            "partitions": getattr(node.partitions_def, "name", None),
        }
    jobs = {job.name: {"assets": _keys(job.asset_layer.selected_asset_keys),
                       "partitions": getattr(job.partitions_def, "name", None)}
            for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name)
            if not job.name.startswith("__")}  # Dagster's implicit and anonymous jobs
    sensors = {sensor.name: {"type": sensor.sensor_type.value, "default_status": sensor.default_status.value,
                             "minimum_interval_seconds": sensor.minimum_interval_seconds,
                             **_target(defs, graph, sensor)}
               for sensor in sorted(repository.sensor_defs, key=lambda s: s.name)}
    schedules = {schedule.name: {"cron": schedule.cron_schedule, "timezone": schedule.execution_timezone,
                                 "default_status": schedule.default_status.value, **_target(defs, graph, schedule)}
                 for schedule in sorted(repository.schedule_defs, key=lambda s: s.name)}
    resources = {name: getattr(resource, "configurable_resource_cls", type(resource)).__qualname__
                 for name, resource in sorted(repository.get_top_level_resources().items())}
    return {"assets": assets, "asset_checks": checks, "jobs": jobs, "sensors": sensors,
            "schedules": schedules, "resources": resources}


def render(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def live() -> dict:
    from corpus_assets.definitions import defs

    return snapshot(defs)


def test_definitions_match_the_committed_snapshot(live):
    committed = SNAPSHOT.read_text(encoding="utf-8")
    current = render(live)
    diff = "".join(difflib.unified_diff(committed.splitlines(keepends=True), current.splitlines(keepends=True),
                                        "tests/snapshots/defs.json (committed)", "the code location (live)"))
    assert current == committed, f"the definitions changed; if that is meant, run `{REFRESH}` and commit:\n{diff}"


def test_the_snapshot_covers_every_stage(live):
    """The snapshot is not an empty shell: the stages, their checks, jobs and automation are all there."""
    assert {"documents", "signals", "decisions", "dedup_signatures", "dedup_clusters", "corpus"} <= set(live["assets"])
    assert {"ingest_shard", "deduplicate", "publish_corpus"} <= set(live["jobs"])
    assert len(live["asset_checks"]) >= len(live["assets"]) and live["sensors"] and live["schedules"]
    assert any(check["blocking"] for check in live["asset_checks"].values())
    assert all(check.split(":")[0] in live["assets"] for check in live["asset_checks"])


def dg_command(*args: str, home: Path) -> subprocess.CompletedProcess:
    """`dg` of this interpreter's environment, on this checkout (not an installed copy)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    dg_bin = Path(sys.executable).parent / "dg"
    return subprocess.run([str(dg_bin), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def dg_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("dg_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.mark.slow  # a `dg` process that imports Dagster and the code location
def test_dg_check_defs_passes(dg_home):
    result = dg_command("check", "defs", home=dg_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


@pytest.mark.slow  # a `dg` process that imports Dagster and the code location
def test_dg_list_defs_lists_what_the_snapshot_holds(dg_home, live):
    result = dg_command("list", "defs", "--json", home=dg_home)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(result.stdout)
    assert sorted(a["asset_key"] for a in listed["assets"]) == sorted(live["assets"])
    assert sorted(f"{c['asset_key']}:{c['name']}" for c in listed["asset_checks"]) == sorted(live["asset_checks"])
    assert set(live["jobs"]) <= {job["name"] for job in listed["jobs"]}
    assert sorted(s["name"] for s in listed["sensors"]) == sorted(live["sensors"])
    assert sorted(s["name"] for s in listed["schedules"]) == sorted(live["schedules"])
    assert sorted(r["name"] for r in listed["resources"]) == sorted(live["resources"])


if __name__ == "__main__":  # refresh the committed snapshot (see the module docstring)
    sys.path.insert(0, str(REPO))
    from corpus_assets.definitions import defs as _defs

    SNAPSHOT.parent.mkdir(exist_ok=True)
    SNAPSHOT.write_text(render(snapshot(_defs)), encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(REPO)}")
