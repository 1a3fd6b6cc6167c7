"""What one shard of real Common Crawl costs, extrapolated from the bundled sample measured here.

    python benchmarks/bench_shard_cost.py [--files-per-shard 100] [--file-gb 1.0] [--responses-per-file 35000]

Measures on one core (one process, as one shard run is): compressed bytes per response record, the
WARC read rate (MB/s of compressed input) and the `documents` stage rate (docs/s), and the peak memory
of that stage. Rates are per CPU-second (the machine is shared; wall time is printed too). Then prints
the arithmetic for a shard of N Common Crawl WARC files of the given size.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_assets.core.ingest.ccsource import CrawlSource  # noqa: E402
from corpus_assets.core.ingest.documents import DocumentSettings, ShardStats, iter_shard_documents  # noqa: E402
from corpus_assets.core.ingest.langid import LanguageIdentifier  # noqa: E402
from corpus_assets.core.ingest.shards import Shard  # noqa: E402
from corpus_assets.core.ingest.warc_reader import iter_records  # noqa: E402
from corpus_assets.core.package_data import bundled_sample_crawl  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files-per-shard", type=int, default=100)
    parser.add_argument("--file-gb", type=float, default=1.0, help="compressed size of one CC WARC file")
    parser.add_argument("--responses-per-file", type=int, default=35_000)
    args = parser.parse_args()

    source = CrawlSource(str(bundled_sample_crawl()))
    files = [(crawl["id"], path) for crawl in source.list_crawls() for path in source.list_files(crawl["id"])]
    compressed = sum(source.local_path(path).stat().st_size for _, path in files)

    started, wall = time.process_time(), time.perf_counter()
    records = sum(1 for _, path in files for _ in iter_records(source.open(path), local_path=str(source.local_path(path))))
    read_s, read_wall = time.process_time() - started, time.perf_counter() - wall

    langid = LanguageIdentifier()  # loaded once per run; not part of the rate
    documents = 0
    started, wall = time.process_time(), time.perf_counter()
    for crawl, path in files:
        stats = ShardStats()
        for batch in iter_shard_documents(source, Shard(crawl, 0, 0), [path], DocumentSettings(), stats, langid,
                                          progress=lambda _: None):
            documents += batch.num_rows
    docs_s, docs_wall = time.process_time() - started, time.perf_counter() - wall
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    mb = compressed / 1e6
    print(f"bundled sample: {len(files)} WARC files, {mb:.1f} MB compressed, {records} response records "
          f"({compressed / records / 1e3:.1f} kB per record), {documents} documents")
    print(f"read only: {records / read_s:.0f} records/s, {mb / read_s:.1f} MB/s compressed per CPU-second "
          f"({read_s:.2f} CPU-s, {read_wall:.2f} s wall)")
    print(f"documents stage: {documents / docs_s:.1f} docs/s, {records / docs_s:.1f} records/s, "
          f"{mb / docs_s:.2f} MB/s compressed per CPU-second ({docs_s:.2f} CPU-s, {docs_wall:.2f} s wall); "
          f"peak RSS {peak_mib:.0f} MiB")

    n, gb, per_file = args.files_per_shard, args.file_gb, args.responses_per_file
    responses = n * per_file
    by_records = responses / (records / docs_s)
    by_bytes = n * gb * 1e3 / (mb / docs_s)
    print(f"\none shard of {n} CC WARC files ({gb:g} GB compressed, ~{per_file} responses each):")
    print(f"  downloaded: {n} x {gb:g} GB = {n * gb:.0f} GB")
    print(f"  documents stage, 1 core: {responses:,} responses / {records / docs_s:.1f} records/s = "
          f"{by_records:,.0f} s = {by_records / 3600:.1f} h")
    print(f"  (by bytes instead: {n * gb * 1e3:,.0f} MB / {mb / docs_s:.2f} MB/s = {by_bytes / 3600:.1f} h)")
    print(f"  network to keep one core busy: {mb / docs_s:.2f} MB/s; read alone could use {mb / read_s:.0f} MB/s")
    print(f"  memory: streamed file by file, batches of {DocumentSettings().batch_rows} rows: "
          f"~{peak_mib:.0f} MiB peak, independent of the shard size")


if __name__ == "__main__":
    main()
