"""Throughput and peak memory of the pipeline on a Common Crawl-layout crawl, side by side with a peer.

    python benchmarks/bench_pipeline.py [--source DIR] [--crawl ID] [--peer-python PATH]

Measures, on one core (one process):
  * WARC read only (fastwarc, gzip, digests);
  * the `documents` stage (charset, resiliparse extraction, fastText lid.176);
and, through Dagster (`corpus materialize`, all cores), the whole per-shard pipeline.
With --peer-python (the peer's venv, `make bench-peer-venv`: benchmarks/peer/.venv/bin/python) it runs the
datatrove FineWeb pipeline over the same files and prints the ratio. Figures go to stdout.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_assets.core.ingest.ccsource import CrawlSource  # noqa: E402
from corpus_assets.core.ingest.documents import DocumentSettings, ShardStats, iter_shard_documents  # noqa: E402
from corpus_assets.core.ingest.langid import LanguageIdentifier  # noqa: E402
from corpus_assets.core.ingest.shards import Shard  # noqa: E402
from corpus_assets.core.ingest.warc_reader import iter_records  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_read(source: CrawlSource, files: list[str]) -> tuple[int, float]:
    started = time.perf_counter()
    n = 0
    for path in files:
        with source.open(path) as stream:
            n += sum(1 for _ in iter_records(stream))
    return n, time.perf_counter() - started


def bench_documents(source: CrawlSource, crawl: str, files: list[str], extractor: str) -> tuple[ShardStats, float]:
    langid = LanguageIdentifier()
    stats = ShardStats()
    started = time.perf_counter()
    for _batch in iter_shard_documents(source, Shard(crawl, 0, len(files) - 1), files,
                                      DocumentSettings(extractor=extractor), stats, langid, progress=lambda m: None):
        pass
    return stats, time.perf_counter() - started


def bench_dagster(source_dir: str, crawl: str, workers: int, shard_size: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DAGSTER_HOME": tmp}
        Path(tmp, "dagster.yaml").touch()
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "corpus_assets.cli", "materialize", "--source", source_dir,
                              "--crawl", crawl, "--warehouse", f"{tmp}/wh", "--workers", str(workers),
                              "--shard-size", str(shard_size)],
                             env=env, capture_output=True, text=True, check=True).stdout
        seconds = time.perf_counter() - started
    ingest = out.split("deduplicating")[0]  # the documents count of each shard's ingest run
    docs = sum(int(m) for m in re.findall(r" ok (\d+) documents", ingest))
    return docs, seconds


def bench_peer(peer_python: str, crawl_dir: Path) -> tuple[int, float, str]:
    script = REPO / "benchmarks" / "peer" / "peer_datatrove_fineweb.py"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([peer_python, str(script), str(crawl_dir), tmp], capture_output=True, text=True,
                             check=True, cwd=script.parent).stdout
    match = re.search(r"records=(\d+) seconds=([\d.]+)", out)
    return int(match.group(1)), float(match.group(2)), out.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=str(REPO / "data" / "sample-crawl"))
    parser.add_argument("--crawl", default="CC-SAMPLE-2026-03")
    parser.add_argument("--extractor", default="resiliparse")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--peer-python", help="python of a venv with datatrove (skip the peer if not given)")
    args = parser.parse_args()
    if not Path(args.source).is_dir():
        raise SystemExit(f"bench_pipeline: no crawl source at {args.source}; pass --source DIR "
                         "(the bundled sample: --source data/sample-crawl)")

    source = CrawlSource(args.source)
    files = source.list_files(args.crawl)
    print(f"crawl {args.crawl}: {len(files)} WARC files from {args.source}; {os.cpu_count()} cores")
    n, seconds = bench_read(source, files)
    print(f"read only (fastwarc):        {n:6d} records {seconds:6.2f}s {n / seconds:8.0f} records/s (1 core)")
    stats, seconds = bench_documents(source, args.crawl, files, args.extractor)
    docs_per_s = stats.documents / seconds
    print(f"documents ({args.extractor}): {stats.documents:6d} docs    {seconds:6.2f}s {docs_per_s:8.1f} docs/s (1 core), "
          f"peak RSS {peak_rss_mib():.0f} MiB; skips {dict(stats.skips)}")
    for shard_size in (1, len(files)):
        docs, seconds = bench_dagster(args.source, args.crawl, args.workers, shard_size)
        shards = -(-len(files) // shard_size)
        print(f"dagster, every asset + checks, {shards} shard(s): {docs:6d} docs {seconds:6.2f}s {docs / seconds:7.1f} docs/s "
              f"end to end ({args.workers} workers; incl. process start-up, 3 phases, GX checks)")
    if args.peer_python:
        records, peer_seconds, line = bench_peer(args.peer_python, Path(args.source, "crawl-data", args.crawl))
        peer_rate = records / peer_seconds
        print(f"peer: {line}")
        print(f"ratio documents stage / peer (per core): {docs_per_s / peer_rate:.1f}x")


if __name__ == "__main__":
    main()
