"""Huge pages for the processes that do the work: glibc's tunable is added for the CLI's worker processes
(it must be in their environment when they start) and the user's own tunables are kept."""
import os

import pytest

from corpus_assets.cli.runner import worker_pool
from corpus_assets.core.huge_pages import huge_pages_for_children, with_huge_pages


def test_the_tunable_is_added_to_other_tunables_and_a_users_hugetlb_choice_stays():
    assert with_huge_pages({"A": "1"}) == {"A": "1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
    assert with_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.check=0"})["GLIBC_TUNABLES"] == \
        "glibc.malloc.check=0:glibc.malloc.hugetlb=1"
    assert with_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"


def test_only_processes_started_in_the_block_get_it(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.check=0")
    with huge_pages_for_children():
        assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.check=0:glibc.malloc.hugetlb=1"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.check=0"
    monkeypatch.delenv("GLIBC_TUNABLES")
    with pytest.raises(RuntimeError), huge_pages_for_children():
        raise RuntimeError("the environment is restored on the way out")
    assert "GLIBC_TUNABLES" not in os.environ


@pytest.mark.slow
def test_the_cli_worker_processes_start_with_huge_pages(monkeypatch):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    with worker_pool(1, {"CORPUS_TEST_VARIABLE": "set"}) as pool:
        in_worker = pool.submit(os.getenv, "GLIBC_TUNABLES").result()
        assert pool.submit(os.getenv, "CORPUS_TEST_VARIABLE").result() == "set"
    assert in_worker == "glibc.malloc.hugetlb=1" and "GLIBC_TUNABLES" not in os.environ
