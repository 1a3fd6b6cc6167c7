#!/usr/bin/env python
"""Peak RSS and time of each dedup asset on one big shard, before vs after, side by side in one run.

A synthetic warehouse holds one shard (`CC-BENCH/00000-00099`) of N documents in `documents` and
`decisions`: texts as in bench_dedup.py (8-30 real news / Wikipedia sentences, ~25 % near-duplicate
variants), on 2,000 hosts whose pages carry three template lines. Each asset is materialized by real
Dagster in a fresh subprocess (`dg.materialize`, an ephemeral instance), which reports its own peak
RSS (`VmHWM`, interpreter and imports included) and wall time:
  dedup_signatures  (with minhash_bands, boilerplate_lines and, after, host_line_counts)
  dedup_clusters    (a full run over the shard's band index)
"before" is the code of `--before` (default: the merge base with main), extracted with `git archive`
into a scratch folder; "after" is this working tree. Both use their code location's default settings.

Usage: nice python benchmarks/bench_dedup_memory.py [--sizes 10000 100000] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARTITION = "CC-BENCH/00000-00099"


def make_warehouse(root: Path, n: int, chunk: int = 20_000) -> None:
    """`documents` and `decisions` of one shard, written as the pipeline writes them (`replace_partition`,
    one transaction, delta-rs's default file and row-group sizes), generated chunk by chunk."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    sys.path.insert(0, str(REPO))
    import polars as pl
    from bench_dedup import gen_chunk

    from corpus_assets.core.lake.delta_tables import replace_partition

    crawl, shard = PARTITION.split("/")

    def frames():
        for start in range(0, n, chunk):
            ids, texts, _ = gen_chunk(7, start, min(n, start + chunk))
            hosts = [f"host{i % 2000}.example" for i in range(start, start + len(ids))]
            texts = [f"{h} home\nSubscribe to the {h} newsletter\n{t}\nCopyright {h}, all rights reserved."
                     for h, t in zip(hosts, texts)]
            yield pl.DataFrame({
                "doc_id": ids, "crawl": crawl, "shard": shard,
                "url": [f"https://{h}/{d}" for h, d in zip(hosts, ids)], "url_host": hosts,
                "fetch_time": pl.Series([datetime(2026, 1, 1, tzinfo=timezone.utc)] * len(ids),
                                        dtype=pl.Datetime("us", "UTC")), "text": texts, "lang": "en"})

    first = next(frames()).head(0)
    partition = {"crawl": crawl, "shard": shard}
    replace_partition(str(root / "documents"), lambda: (b for f in frames() for b in f.to_arrow().to_batches()),
                      first.to_arrow().schema, partition)
    ids = pl.concat([f.select("doc_id", "crawl", "shard") for f in frames()]).with_columns(keep=pl.lit(True))
    replace_partition(str(root / "decisions"), lambda: iter(ids.to_arrow().to_batches()), ids.to_arrow().schema,
                      partition)


def child(asset: str, warehouse: str) -> None:
    """Materialize one asset of the code on sys.path; print its peak RSS and wall time as JSON."""
    import dagster as dg

    from corpus_assets.defs.dedup import assets as dedup
    from corpus_assets.defs.lake.warehouse import Warehouse

    resources = {"warehouse": Warehouse(uri=warehouse)}
    try:
        from corpus_assets.defs.dedup.settings import DedupSettings
        resources["dedup_settings"] = DedupSettings()
    except ImportError:  # the code before the settings resource
        pass
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("warc_shards", [PARTITION])
    started = time.perf_counter()
    if asset == "dedup_signatures":
        result = dg.materialize([dedup.dedup_signatures], partition_key=PARTITION, resources=resources,
                                instance=instance, selection=None)
    else:
        deps = [dg.AssetSpec(name) for name in ("dedup_signatures", "minhash_bands", "decisions")]
        result = dg.materialize([dedup.dedup_clusters, *deps], resources=resources, instance=instance,
                                selection=[dedup.dedup_clusters])
    seconds = time.perf_counter() - started
    assert result.success
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own high-water RSS (VmHWM belongs to the address space, so it starts afresh at exec;
    ru_maxrss would carry over the parent's peak, here the warehouse generator's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(code: Path, asset: str, warehouse: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), "DAGSTER_HOME": str(warehouse / "_dagster_home")}
    (warehouse / "_dagster_home").mkdir(exist_ok=True)
    out = subprocess.run([sys.executable, __file__, "--child", asset, str(warehouse)], env=env, capture_output=True,
                         text=True, cwd=code)
    if out.returncode:
        raise RuntimeError(f"{asset} ({code}) failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--after-only-from", type=int, default=1_000_000,
                   help="from this size on, measure only 'after' (the old dedup_signatures holds the whole shard: "
                        "~2.4 GB at 100k, so ~20 GB at 1M)")
    p.add_argument("--before", default=None, help="git revision of the 'before' code (default: merge base with main)")
    p.add_argument("--out", default=str(REPO / "benchmarks/results/dedup_memory.md"))
    p.add_argument("--child", nargs=2, metavar=("ASSET", "WAREHOUSE"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(*a.child)
    before = a.before or subprocess.check_output(["git", "merge-base", "HEAD", "main"], cwd=REPO, text=True).strip()
    out = Path(a.out)
    lines = [f"# Dedup assets: peak RSS and wall time per asset, before ({before[:10]}) vs after", "",
             f"`nice python benchmarks/bench_dedup_memory.py --sizes {' '.join(map(str, a.sizes))}` "
             f"(one shard; 2-core shared machine; RSS includes the interpreter and Dagster imports)", "",
             "| docs | asset | before peak RSS MB | after peak RSS MB | before s | after s |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="bench-dedup-mem-") as tmp:
        old = Path(tmp) / "before"
        old.mkdir()
        archive = subprocess.run(["git", "archive", before, "corpus_assets"], cwd=REPO, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        for n in a.sizes:
            results = {}
            runs = (("before", old), ("after", REPO)) if n < a.after_only_from else (("after", REPO),)
            for label, code in runs:
                warehouse = Path(tmp) / f"wh-{label}-{n}"
                shutil.rmtree(Path(tmp) / f"wh-before-{n}", ignore_errors=True)  # disk: one warehouse at a time
                make_warehouse(warehouse, n)
                for asset in ("dedup_signatures", "dedup_clusters"):
                    results[label, asset] = run_child(code, asset, warehouse)
                    print(n, label, asset, results[label, asset], flush=True)
            for asset in ("dedup_signatures", "dedup_clusters"):
                b, f = results.get(("before", asset)), results["after", asset]
                b_rss, b_s = (f"{b['peak_rss_mb']:,.0f}", f"{b['seconds']:.1f}") if b else ("not run", "-")
                lines.append(f"| {n:,} | {asset} | {b_rss} | {f['peak_rss_mb']:,.0f} | {b_s} | {f['seconds']:.1f} |")
            out.write_text("\n".join(lines) + "\n")  # each size as soon as it is measured
    print("\n".join(lines))


if __name__ == "__main__":
    main()
