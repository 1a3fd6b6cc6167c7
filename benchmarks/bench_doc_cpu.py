"""CPU per document of the per-document steps after extraction, on a warehouse's `documents` table.

    python benchmarks/bench_doc_cpu.py --warehouse WH [--crawl ID] [--repeat 3] [--out FILE]

Reads the `documents` rows of WH (all shards, or those of --crawl) and times, in batches of 5,000 rows as
the assets see them, one process with Polars on one thread:

  signals: quality    compute_signals (core/quality/signals.py)
  signals: PII        mask_pii_column (the counts the `signals` table stores)
  signals: safety     compute_safety (URL blocklist, bad words)
  dedup pass 1        boilerplate.count_host_lines: per-document hashes (kept in a Parquet file for pass 2),
                      DuckDB counts per (host, line)
  dedup pass 2        defs/dedup/assets.signature_frames: text hash, boilerplate removal, MinHash, band keys
                      (with the boilerplate lines found in pass 1 at `boilerplate_min_docs`, and pass 1's hashes)

Each step's CPU (time.process_time, best of --repeat: on a shared machine other load only adds) is printed
as CPU-s and ms per document. The input is whatever WH holds; to time the figure issue 12 quotes, make
WH from crawl CC-BENCH-1FILE of bench_end_to_end.py (3,000 cycled sample records):

    python -c "import sys; sys.path.insert(0, 'benchmarks'); from pathlib import Path; \\
               from bench_end_to_end import generate_source; generate_source(Path('/tmp/bsrc'), 3000)"
    corpus materialize --source /tmp/bsrc --crawl CC-BENCH-1FILE --warehouse /tmp/wh --select documents
"""
from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # per-core figures; must precede the polars import

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_assets.core.dedup.boilerplate import DocumentHashes, count_host_lines  # noqa: E402
from corpus_assets.core.dedup.clustering import DedupDB  # noqa: E402
from corpus_assets.core.privacy.pii import mask_pii_column  # noqa: E402
from corpus_assets.core.quality.signals import compute_signals  # noqa: E402
from corpus_assets.core.safety.badwords import BadWords  # noqa: E402
from corpus_assets.core.safety.blocklist import UrlBlocklist  # noqa: E402
from corpus_assets.core.safety.tags import compute_safety  # noqa: E402
from corpus_assets.defs.dedup.assets import BATCH_ROWS, signature_frames  # noqa: E402
from corpus_assets.defs.dedup.settings import DedupSettings  # noqa: E402


def cpu_of(step: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        step()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--crawl")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()

    docs = pl.read_delta(f"{args.warehouse}/documents")
    if args.crawl:
        docs = docs.filter(pl.col("crawl") == args.crawl)
    docs = docs.sort("crawl", "shard", "doc_id")
    batches = [docs.slice(i, BATCH_ROWS) for i in range(0, docs.height, BATCH_ROWS)]
    settings = DedupSettings()
    hasher = settings.hasher()
    blocklist, badwords = UrlBlocklist.default(), BadWords.load(None)

    scratch = tempfile.TemporaryDirectory()
    hashes_path = f"{scratch.name}/hashes.parquet"  # pass 1 keeps each document's hashes for pass 2

    def pass1() -> pl.DataFrame:
        with tempfile.TemporaryDirectory() as tmp, DedupDB(settings.memory_limit, tmp) as db:
            counts = pl.DataFrame(count_host_lines((b.select("doc_id", "url_host", "text") for b in batches), db,
                                                   hashes_path).read_all())
        return counts.filter(pl.col("docs") >= settings.boilerplate_min_docs)

    def pass2() -> None:
        hashes = DocumentHashes(hashes_path, BATCH_ROWS)
        for b in batches:
            signature_frames(b, by_host, hasher, hashes.take(b))

    common = pass1()
    by_host = {host: frozenset(h) for host, h in common.group_by("url_host").agg("line_hash").iter_rows()}
    for b in batches[:1]:  # one-time set-up (Unicode tables, lists, jieba) outside the timings
        compute_signals(b.head(50))
        compute_safety(b.head(50).select("doc_id", "url", "text", "lang"), blocklist, badwords)
        mask_pii_column(b.head(50).select("doc_id", "text"))
        signature_frames(b.head(50), by_host, hasher)

    steps: dict[str, Callable[[], object]] = {
        "signals: quality (compute_signals)": lambda: [compute_signals(b.select("doc_id", "text", "lang"))
                                                       for b in batches],
        "signals: PII counts (mask_pii_column)": lambda: [mask_pii_column(b.select("doc_id", "text"))
                                                           for b in batches],
        "signals: safety (compute_safety)": lambda: [compute_safety(b.select("doc_id", "url", "text", "lang"),
                                                                    blocklist, badwords) for b in batches],
        "dedup pass 1 (count_host_lines)": pass1,
        "dedup pass 2 (signature_frames)": pass2,
    }
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    lines = [f"bench_doc_cpu {datetime.now(timezone.utc):%Y-%m-%dT%H:%MZ}: `python benchmarks/bench_doc_cpu.py "
             f"{' '.join(sys.argv[1:])}`; code {commit}",
             f"{docs.height} documents ({docs['text'].str.len_chars().mean():.0f} chars/doc), {len(batches)} "
             f"batch(es), {common.height} boilerplate (host, line) pairs; CPU best of {args.repeat}, one core"]
    total = 0.0
    for name, step in steps.items():
        cpu = cpu_of(step, args.repeat)
        total += cpu
        lines.append(f"{name:40s} CPU {cpu:7.2f} s  {1000 * cpu / docs.height:7.3f} ms/doc")
        print(lines[-1], flush=True)
    lines.append(f"{'total':40s} CPU {total:7.2f} s  {1000 * total / docs.height:7.3f} ms/doc")
    print(lines[-1])
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
