"""The work settings of the processes that do the work (huge pages for glibc's malloc, one OpenBLAS thread):
in the environment of the CLI's worker processes when they start, the user's own choices kept."""
import os

import pytest

from corpus_assets.cli.runner import worker_pool
from corpus_assets.core.work_env import with_work_settings, work_settings_for_children


def test_the_settings_are_added_to_other_tunables_and_a_users_choices_stay():
    assert with_work_settings({"A": "1"}) == {"A": "1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
                                              "OPENBLAS_NUM_THREADS": "1"}
    assert with_work_settings({"GLIBC_TUNABLES": "glibc.malloc.check=0"})["GLIBC_TUNABLES"] == \
        "glibc.malloc.check=0:glibc.malloc.hugetlb=1"
    own = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0", "OPENBLAS_NUM_THREADS": "4"}
    assert with_work_settings(own) == own


def test_only_processes_started_in_the_block_get_them(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.check=0")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with work_settings_for_children():
        assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.check=0:glibc.malloc.hugetlb=1"
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.check=0" and "OPENBLAS_NUM_THREADS" not in os.environ
    monkeypatch.delenv("GLIBC_TUNABLES")
    with pytest.raises(RuntimeError), work_settings_for_children():
        raise RuntimeError("the environment is restored on the way out")
    assert "GLIBC_TUNABLES" not in os.environ and "OPENBLAS_NUM_THREADS" not in os.environ


@pytest.mark.slow
def test_the_cli_worker_processes_start_with_the_work_settings(monkeypatch):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with worker_pool(1, {"CORPUS_TEST_VARIABLE": "set"}) as pool:
        in_worker = pool.submit(os.getenv, "GLIBC_TUNABLES").result()
        blas_threads = pool.submit(os.getenv, "OPENBLAS_NUM_THREADS").result()
        assert pool.submit(os.getenv, "CORPUS_TEST_VARIABLE").result() == "set"
    assert in_worker == "glibc.malloc.hugetlb=1" and blas_threads == "1"
    assert "GLIBC_TUNABLES" not in os.environ and "OPENBLAS_NUM_THREADS" not in os.environ
