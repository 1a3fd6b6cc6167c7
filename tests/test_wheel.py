"""The package works when installed from its wheel, not only from a checkout (issue 13 §1).

The wheel is built offline (`pip wheel --no-deps --no-build-isolation --no-index`) from a copy of the
files a build reads, so the checkout gets no `build/` or `*.egg-info`. It is installed with `--no-deps`
into a fresh venv in tmp (no system site-packages); the dependencies come from this interpreter's
site-packages through a `.pth` line added after the install. Such a line only appends a folder to
sys.path: the `.pth` files in that folder (this checkout's editable install) are not run, so the
repository is not importable there, which the test asserts before running `corpus demo` and
`corpus check` from a working directory outside the repository.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "corpus_assets"

pytestmark = pytest.mark.slow  # builds a wheel and a venv, then materializes the whole sample in worker processes


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel . --no-deps` on a copy of what the build reads (pyproject.toml, README.md, the package)."""
    src = tmp_path_factory.mktemp("wheel_src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(PACKAGE, src / "corpus_assets", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-w", str(dist)], cwd=dist)
    [built] = dist.glob("corpus_assets-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv outside the repository with the wheel installed; returns its bin folder."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(root)], cwd=root.parent)
    python = root / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--disable-pip-version-check", str(wheel)], cwd=root.parent)
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=root.parent).stdout.strip())
    # after the install, so pip never saw (and never tried to replace) the checkout's editable install
    outer = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "_corpus_test_dependencies.pth").write_text("".join(f"{path}\n" for path in outer))
    return root / "bin"


def clean_env(home: Path) -> dict[str, str]:
    """The environment less anything that points at this checkout or a warehouse."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "DAGSTER_HOME", "VIRTUAL_ENV") and not k.startswith("CORPUS_")}
    return {**env, "HOME": str(home), "PATH": os.pathsep.join([str(home / "bin"), env.get("PATH", "")])}


def test_the_wheel_ships_everything_the_package_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    checkout = {path.relative_to(REPO).as_posix() for path in PACKAGE.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}
    assert checkout - names == set(), "missing from the wheel (add them to [tool.setuptools.package-data])"
    # what importlib.resources reads at run time, by name
    for required in ("corpus_assets/configs/filters.yaml", "corpus_assets/sql/views.sql",
                     "corpus_assets/expectations/documents.json", "corpus_assets/dg.toml",
                     "corpus_assets/data/sample-crawl/collinfo.json"):
        assert required in names, required
    assert sum(name.endswith(".warc.gz") for name in names) >= 6  # the sample crawl's files
    assert sum(name.startswith("corpus_assets/mixtures/") and name.endswith(".yaml") for name in names) >= 1


def test_the_installed_wheel_runs_demo_and_check_outside_the_repository(venv, tmp_path):
    work = tmp_path / "work"  # the working directory: outside the repository, like a user's
    work.mkdir()
    env = clean_env(tmp_path)
    probe = run([str(venv / "python"), "-c", "import json, sys, corpus_assets, dagster; "
                 "print(json.dumps({'file': corpus_assets.__file__, 'path': sys.path, 'prefix': sys.prefix, "
                 "'base': sys.base_prefix}))"], cwd=work, env=env)
    where = json.loads(probe.stdout)
    assert Path(where["file"]).is_relative_to(venv.parent), where["file"]
    # the dependencies come from the test environment's site-packages, which may lie inside the checkout
    # (.venv); nothing else of the checkout may be importable
    deps = {Path(sysconfig.get_paths()[kind]).resolve() for kind in ("purelib", "platlib")}
    assert not [p for p in where["path"] if p and Path(p).resolve().is_relative_to(REPO)
                and Path(p).resolve() not in deps], where["path"]
    assert Path(where["prefix"]) == venv.parent and where["prefix"] != where["base"]

    warehouse = tmp_path / "warehouse"
    demo = run([str(venv / "corpus"), "demo", "--warehouse", str(warehouse), "--workers", "2"], cwd=work, env=env)
    assert "Documents per crawl" in demo.stdout and "CC-SAMPLE-2026-03" in demo.stdout, demo.stdout[-3000:]
    assert (warehouse / "corpus" / "_delta_log").is_dir()
    check = run([str(venv / "corpus"), "check", "--warehouse", str(warehouse)], cwd=work, env=env)
    summary = [line for line in check.stdout.splitlines() if "suites passed" in line]
    assert len(summary) == 1 and summary[0].split(" of ")[0].strip() == summary[0].split(" of ")[1].split()[0], summary
    assert (warehouse / "_reports" / "expectations.html").is_file()
    query = run([str(venv / "corpus"), "sql", "--warehouse", str(warehouse), "--format", "json",
                 "SELECT count(*) AS n FROM corpus"], cwd=work, env=env)
    assert json.loads(query.stdout)[0]["n"] > 100
    assert list(work.iterdir()) == []  # nothing written into the working directory
