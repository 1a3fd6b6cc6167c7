"""The end-to-end benchmark's input generator and CPU measurement (benchmarks/bench_end_to_end.py)."""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

from corpus_assets.core.ingest.ccsource import CrawlSource
from corpus_assets.core.ingest.warc_reader import iter_records

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_end_to_end as bench  # noqa: E402


@pytest.mark.slow  # generates and reads two benchmark crawls
def test_generated_crawls_are_common_crawl_layout_with_distinct_urls_and_ids(tmp_path):
    bench.generate_source(tmp_path, records_per_file=250)
    source = CrawlSource(str(tmp_path))
    assert {c["id"] for c in source.list_crawls()} == {bench.ONE_FILE, bench.TWO_FILES}
    sample_payloads = {}
    for member, _ in bench.sample_responses():
        lines, rest = bench.split_record(member)
        sample_payloads[bench.header(lines, "WARC-Record-ID")] = rest
    for crawl, files in ((bench.ONE_FILE, 1), (bench.TWO_FILES, 2)):
        paths = source.list_files(crawl)
        assert len(paths) == files
        urls, ids = set(), set()
        for rel in paths:
            with source.open(rel) as stream:  # block digests and the gzip tail are verified
                records = list(iter_records(stream, local_path=str(source.local_path(rel))))
            assert len(records) == 250
            # one gzip member per record, after the warcinfo record
            assert len(bench.gzip_members(tmp_path / rel)) == 251
            urls |= {r.url for r in records}
            ids |= {r.record_id for r in records}
        assert len(urls) == len(ids) == 250 * files
    first = bench.gzip_members(tmp_path / source.list_files(bench.ONE_FILE)[0])[1]
    lines, rest = bench.split_record(first)
    assert rest in sample_payloads.values()  # the HTTP payload is kept byte for byte
    assert bench.header(lines, "WARC-Target-URI").split("://", 1)[1].startswith("copy0.")
    assert gzip.decompress((tmp_path / f"crawl-data/{bench.ONE_FILE}/warc.paths.gz").read_bytes()).decode().strip() \
        == source.list_files(bench.ONE_FILE)[0]


def test_measure_counts_the_cpu_of_child_processes(tmp_path):
    # the child spends CPU in a grandchild and reports the grandchild's own CPU time
    grandchild = "import time\nx = 0\nfor i in range(3_000_000): x += i\nprint(time.process_time())"
    child = ("import subprocess, sys\n"
             f"out = subprocess.run([sys.executable, '-c', {grandchild!r}], capture_output=True, text=True).stdout\n"
             "print(out.strip())")
    run = bench.measure([sys.executable, "-c", child], {}, tmp_path / "log")
    assert run.returncode == 0
    grandchild_cpu = float((tmp_path / "log").read_text().split()[-1])
    assert run.cpu >= grandchild_cpu > 0
