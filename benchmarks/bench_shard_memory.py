#!/usr/bin/env python
"""Peak RSS, wall and CPU time of each per-shard asset on one big synthetic shard (issue 12: memory bounded
at the shard size the README recommends: ~100 WARC files, 2-3M documents).

A synthetic warehouse holds one shard (`CC-BENCH/00000-00099`) of N documents in `documents`, written as
the pipeline writes it (`replace_partition`): texts as in bench_dedup.py (8-30 real news / Wikipedia
sentences, ~25 % near-duplicate variants), on 2,000 hosts whose pages carry three template lines.
Each asset is then materialized, in pipeline order, by real Dagster (the code location's own asset
definitions and default resources and configs, an ephemeral instance; asset checks not run unless
`--checks`) in a fresh subprocess, which reports its own peak RSS (`VmHWM`: interpreter and imports
included), its RSS after imports, and the wall and CPU seconds (all threads, DuckDB's and delta-rs'
included) of the materialization:
  signals, quality_scores, decisions, dedup_signatures (+ minhash_bands, boilerplate_lines,
  host_line_counts), dedup_clusters (a full run over the shard's band index), corpus
The quality model is not trained on the synthetic shard: `quality_model` is a global asset (its cost is
the pool it samples, at most 100k pages, not the shard), so the bundled sample is materialized once
(`corpus materialize`) and its model folder copied into each synthetic warehouse; quality_scores and
decisions then use that model as they would any active version.
The `documents` asset itself (WARC extraction, ~2.5 ms per document) is too slow to run at 1M here: with
`--warc-sizes` it is measured the same way (its own process, no checks) over a generated crawl of N cycled
sample responses in files of 10,000 records (bench_end_to_end.py's generator), one shard of all files.
With `--checks` each asset's GX asset checks run in the same materialization (as in a pipeline run), so its
figures include them, and `documents` is measured too: its checks alone (the rows are the synthetic ones),
after a runless materialization event that reports the rows written, so the row-count expectation runs.
With `--before REV` the code of that revision (`git archive`) is measured too, on a warehouse its own code
wrote, for the sizes up to `--before-max`; `--label` names this checkout's code in the table (default `after`).
`--assets A B ...` measures only those assets (in pipeline order; `documents`: its checks, with `--checks`);
their other inputs must be selected too (dedup_clusters reads dedup_signatures' tables), except `decisions`
(read by dedup_clusters and corpus, normally after signals and quality_scores: ~20 CPU-min at 1M):
unselected, the script writes a stand-in with the asset's columns, `keep` false for one document in ten and
a `quality_score` derived from the doc_id.
`--keep DIR` keeps each size's warehouse as DIR/N; `--reuse DIR` measures the selected assets again on those
warehouses (both codes of `--before` on the same one), dedup_clusters as a full run (its state and tables
are removed first), e.g. `--sizes 100000 1000000 --reuse DIR --assets dedup_clusters --before main`.
Results go to `--out` (default `results/shard_memory.md`, overwritten: pass another file to add a section).

Usage: nice python benchmarks/bench_shard_memory.py [--sizes 10000 100000 1000000] [--before main] [--warc-sizes 10000]
       [--checks] [--assets dedup_signatures dedup_clusters] [--models WAREHOUSE/_models] [--keep DIR | --reuse DIR]
       [--label NAME] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARTITION = "CC-BENCH/00000-00099"
ASSETS = ["signals", "quality_scores", "decisions", "dedup_signatures", "dedup_clusters", "corpus"]
NEEDS_MODEL = {"quality_scores", "decisions"}
# a full dedup_clusters run on a reused warehouse: without these it would find no new shard and copy its last output
RESET = {"dedup_clusters": ["dedup_state", "dedup_fuzzy_clusters", "dedup_clusters"]}


def make_documents(root: Path, n: int, chunk: int = 20_000) -> None:
    """The shard's `documents` rows (DOCUMENTS_SCHEMA), generated chunk by chunk and streamed to the writer
    of the code on sys.path."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import pyarrow as pa
    from bench_dedup import gen_chunk

    from corpus_assets.core.ingest.documents import DOCUMENTS_SCHEMA
    from corpus_assets.core.lake.delta_tables import replace_partition

    crawl, shard = PARTITION.split("/")
    fetched = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def batches():
        for start in range(0, n, chunk):
            ids, texts, _ = gen_chunk(7, start, min(n, start + chunk))
            ids = [d * 2 for d in ids]  # 32 hex digits, as the documents suite's identity check wants
            hosts = [f"host{i % 2000}.example" for i in range(start, start + len(ids))]
            texts = [f"{h} home\nSubscribe to the {h} newsletter\n{t}\nCopyright {h}, all rights reserved."
                     for h, t in zip(hosts, texts)]
            m = len(ids)
            yield pa.RecordBatch.from_pydict({
                "doc_id": ids, "url": [f"https://{h}/{d}" for h, d in zip(hosts, ids)], "url_host": hosts,
                "crawl": [crawl] * m, "shard": [shard] * m,
                "warc_path": [f"crawl-data/{crawl}/warc/file-{(start + i) // 25_000:05d}.warc.gz" for i in range(m)],
                "warc_record_offset": [(start + i) * 10_000 for i in range(m)], "warc_record_length": [9_000] * m,
                "fetch_time": [fetched] * m, "http_status": [200] * m, "content_type": ["text/html"] * m,
                "charset": ["utf-8"] * m, "charset_source": ["http"] * m, "extractor": ["resiliparse"] * m,
                "title": [f"Page {d}" for d in ids], "text": texts, "lang": ["en"] * m, "lang_score": [0.99] * m,
                "n_chars": [len(t) for t in texts]}, schema=DOCUMENTS_SCHEMA)

    replace_partition(str(root / "documents"), batches, DOCUMENTS_SCHEMA, {"crawl": crawl, "shard": shard})


def make_decisions(root: Path, chunk: int = 100_000) -> None:
    """A stand-in for the shard's `decisions` (see the docstring), from its `documents` rows."""
    import itertools

    import polars as pl

    from corpus_assets.core.lake.delta_tables import iter_file_batches, partition_files, replace_partition

    crawl, shard = PARTITION.split("/")
    partition = {"crawl": crawl, "shard": shard}
    docs = iter_file_batches(partition_files(str(root / "documents"), partition), partition,
                             ["doc_id", "crawl", "shard", "url", "lang"], chunk)
    frames = (d.with_columns(h=d["doc_id"].hash(7)).with_columns(keep=pl.col("h") % 10 != 0)
              .with_columns(drop_reasons=pl.when("keep").then(pl.lit([], pl.List(pl.String))).otherwise(pl.lit(["quality"])),
                            quality_score=(pl.col("h") % 1000).cast(pl.Float64) / 1000,
                            quality_threshold=pl.lit(0.1), quality_rule=pl.lit("en")).drop("h") for d in docs)
    batches = (b for f in frames for b in f.to_arrow().to_batches())
    first = next(batches)
    replace_partition(str(root / "decisions"), lambda: itertools.chain([first], batches), first.schema, partition)


def child(asset: str, partition: str = PARTITION, checks: bool = False) -> None:
    """Materialize one asset (warehouse: $CORPUS_WAREHOUSE), with `checks` its asset checks too (of `documents`:
    only those); print its peak RSS and times (and with `checks`, how many checks ran and passed) as JSON."""
    import dagster as dg

    from corpus_assets.definitions import defs

    assets = list({id(a): a for a in defs.assets if isinstance(a, dg.AssetsDefinition)}.values())  # type: ignore[union-attr]
    graph = defs.resolve_asset_graph()
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("warc_shards", [partition])
    partitioned = graph.get(dg.AssetKey(asset)).partitions_def is not None
    selected = next(a.keys for a in assets if dg.AssetKey(asset) in a.keys)  # a multi-asset runs whole
    selection: dg.AssetSelection = dg.AssetSelection.assets(*selected)
    if checks:
        if asset == "documents":  # written by make_documents: report its row count as the asset would
            rows = table_rows(Path(os.environ["CORPUS_WAREHOUSE"]), "documents")
            instance.report_runless_asset_event(dg.AssetMaterialization(
                "documents", partition=partition, metadata={"documents_written": rows}))
            selection = dg.AssetSelection.checks_for_assets("documents")
    else:
        selection = selection.without_checks()
    # a job, not `dg.materialize`: a selection of checks alone must be told its partitions
    job = dg.define_asset_job("measured", selection=selection, partitions_def=graph.get(dg.AssetKey(asset)).partitions_def)
    imported_mb = vm("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    result = dg.Definitions(assets=assets, asset_checks=list(defs.asset_checks or []) if checks else [], jobs=[job],
                            resources=dict(defs.resources or {})).resolve_job_def("measured").execute_in_process(
        tags={"dagster/partition": partition} if partitioned else None, instance=instance, raise_on_error=False)
    evaluations = result.get_asset_check_evaluations()
    failed = [f"{e.asset_key.to_user_string()}: {e.check_name}" for e in evaluations if not e.passed]
    assert result.success or failed, "the run failed"
    if failed:
        print("failed checks:", ", ".join(failed), file=sys.stderr)
    print(json.dumps({"seconds": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                      "peak_rss_mb": vm("VmHWM"), "imported_rss_mb": imported_mb, "checks": len(evaluations),
                      "checks_passed": sum(e.passed for e in evaluations)}))


def vm(field: str) -> float:
    """A /proc/self/status figure in MB (VmHWM belongs to the address space, so it starts afresh at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_child(code: Path, warehouse: Path, *args: str) -> dict:
    """This script's `--child ASSET` or `--make-documents N` in a fresh process running the code in `code`."""
    env = {**os.environ, "PYTHONPATH": str(code), "CORPUS_WAREHOUSE": str(warehouse),
           "DAGSTER_HOME": str(warehouse / "_dagster_home")}
    (warehouse / "_dagster_home").mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, cwd=code)
    if out.returncode:
        raise RuntimeError(f"{args} ({code}) failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]) if args[0] == "--child" else {}


def sample_models(scratch: Path) -> Path:
    """`_models/` of the bundled sample materialized once (its bootstrap-trained quality model)."""
    print("materializing the bundled sample for its quality model ...", flush=True)
    warehouse = scratch / "sample"
    env = {**os.environ, "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(scratch / "sample_dagster_home")}
    subprocess.run([sys.executable, "-m", "corpus_assets.cli", "materialize", "--warehouse", str(warehouse),
                    "--workers", "0", "--select", "documents,signals,quality_model"], env=env, cwd=REPO, check=True,
                   capture_output=True)
    return warehouse / "_models"


def measure_documents(n: int, scratch: Path) -> dict:
    """`documents` of a generated N-record crawl (files of 10,000 records), one shard of all its files."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_end_to_end import sample_responses, write_crawl

    source, crawl, per_file = scratch / f"warc-{n}", "CC-WARC", min(n, 10_000)
    files = max(1, n // per_file)
    write_crawl(source, crawl, files, per_file, sample_responses())
    os.environ["CORPUS_SOURCE"] = str(source)
    warehouse = scratch / f"wh-warc-{n}"
    key = f"{crawl}/00000" if files == 1 else f"{crawl}/00000-{files - 1:05d}"
    result = run_child(REPO, warehouse, "--child", "documents", "--partition", key)
    result["rows"] = table_rows(warehouse, "documents")
    shutil.rmtree(source)
    shutil.rmtree(warehouse)
    return result


def table_rows(warehouse: Path, table: str) -> int:
    from deltalake import DeltaTable

    return int(sum(DeltaTable(str(warehouse / table)).get_add_actions(flatten=True).column("num_records").to_pylist()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    p.add_argument("--out", default=str(REPO / "benchmarks/results/shard_memory.md"))
    p.add_argument("--scratch", default=None, help="scratch folder (default: a temporary one, removed)")
    p.add_argument("--models", default=None, help="a warehouse's `_models/` folder to use (default: the bundled "
                                                  "sample's, materialized first)")
    p.add_argument("--assets", nargs="+", choices=["documents", *ASSETS], default=None,
                   help="measure only these assets (see the docstring)")
    p.add_argument("--keep", default=None, help="keep each size's warehouse as KEEP/N instead of deleting it")
    p.add_argument("--reuse", default=None, help="measure on the warehouses REUSE/N that --keep left")
    p.add_argument("--warc-sizes", type=int, nargs="*", default=[], help="also measure `documents` from WARC files "
                                                                         "of this many records")
    p.add_argument("--before", default=None, help="also measure the code of this git revision")
    p.add_argument("--before-max", type=int, default=100_000, help="measure --before up to this size")
    p.add_argument("--checks", action="store_true", help="run each asset's asset checks in its materialization, "
                                                         "and the checks of `documents`")
    p.add_argument("--label", default="after", help="the code column's name for this checkout's code")
    p.add_argument("--child", metavar="ASSET", help=argparse.SUPPRESS)
    p.add_argument("--make-documents", type=int, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--make-decisions", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--partition", default=PARTITION, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(a.child, a.partition, a.checks)
    if a.make_documents:
        return make_documents(Path(os.environ["CORPUS_WAREHOUSE"]), a.make_documents)
    if a.make_decisions:
        return make_decisions(Path(os.environ["CORPUS_WAREHOUSE"]))
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True).strip()
    dirty = " (+ uncommitted changes)" if subprocess.check_output(["git", "status", "--porcelain", "corpus_assets"],
                                                                  cwd=REPO, text=True).strip() else ""
    out = Path(a.out)
    before = f" --before {a.before}" if a.before else ""
    warc = f" --warc-sizes {' '.join(map(str, a.warc_sizes))}" if a.warc_sizes else ""
    everything = (["documents"] if a.checks else []) + ASSETS  # in pipeline order; documents: its checks
    assets = [asset for asset in everything if a.assets is None or asset in a.assets]
    options = (" --checks" if a.checks else "") + (f" --assets {' '.join(assets)}" if a.assets is not None else "")
    lines = ["# Per-shard assets: peak RSS, wall and CPU time per asset on one synthetic shard", "",
             f"`nice python benchmarks/bench_shard_memory.py --sizes {' '.join(map(str, a.sizes))}{before}{warc}{options}` at commit "
             f"{commit}{dirty}; {platform.machine()}, {os.cpu_count()} cores shared with other jobs (wall time "
             "is inflated by them; CPU seconds less so), Python {0}. Peak RSS is the subprocess's VmHWM, "
             "interpreter and imports included (RSS after imports in its own column); the quality model is the "
             "bundled sample's (see the docstring).".format(platform.python_version()) +
             (" Each asset's figures include its asset checks (`documents`: its checks only)." if a.checks else ""),
             "", "| docs | code | asset | peak RSS MB | RSS after imports MB | wall s | CPU s | rows written |"
             + (" checks passed |" if a.checks else ""), "|---|---|---|---|---|---|---|---|" + "---|" * a.checks]
    tables = {"documents": "documents", "signals": "signals", "quality_scores": "quality_scores", "decisions": "decisions",
              "dedup_signatures": "dedup_signatures", "dedup_clusters": "dedup_clusters", "corpus": "corpus"}
    peaks: dict[tuple[str, int, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-shard-mem-", dir=a.scratch) as tmp:
        need_model = a.sizes and not a.reuse and NEEDS_MODEL & set(assets)
        models = Path(a.models) if a.models else sample_models(Path(tmp)) if need_model else None
        codes = {a.label: REPO}
        if a.before:
            codes = {"before": Path(tmp) / "before", **codes}
            codes["before"].mkdir()
            archive = subprocess.run(["git", "archive", a.before, "corpus_assets"], cwd=REPO, check=True,
                                     capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(codes["before"])], input=archive.stdout, check=True)
        for n in a.sizes:
            for label, code in codes.items():
                if label == "before" and n > a.before_max:
                    continue
                warehouse = Path(a.reuse) / str(n) if a.reuse else Path(tmp) / f"wh-{label}-{n}"
                if not a.reuse:
                    started = time.perf_counter()
                    run_child(code, warehouse, "--make-documents", str(n))  # as that code writes it
                    if models is not None:
                        shutil.copytree(models, warehouse / "_models")
                    if "decisions" not in assets and {"dedup_clusters", "corpus"} & set(assets):
                        run_child(code, warehouse, "--make-decisions")
                    print(f"{n:,} documents written in {time.perf_counter() - started:.0f} s ({label})", flush=True)
                for asset in assets:
                    for table in RESET.get(asset, []) if a.reuse else []:
                        shutil.rmtree(warehouse / table, ignore_errors=True)
                    r = run_child(code, warehouse, "--child", asset, *["--checks"] * a.checks)
                    peaks[label, n, asset] = r["peak_rss_mb"]
                    rows = table_rows(warehouse, tables[asset])
                    print(n, label, asset, r, rows, flush=True)
                    lines.append(f"| {n:,} | {label} | {asset} | {r['peak_rss_mb']:,.0f} | {r['imported_rss_mb']:,.0f} | "
                                 f"{r['seconds']:.1f} | {r['cpu_s']:.1f} | {rows:,} |"
                                 + (f" {r['checks_passed']}/{r['checks']} |" if a.checks else ""))
                    out.write_text("\n".join(lines) + "\n")  # each asset as soon as it is measured
                if a.keep and label == a.label:
                    Path(a.keep).mkdir(parents=True, exist_ok=True)
                    shutil.move(warehouse, Path(a.keep) / str(n))
                elif not a.reuse:
                    shutil.rmtree(warehouse)  # disk: one warehouse at a time
        if a.warc_sizes:
            lines += ["", "`documents` from generated WARC files (`--warc-sizes`):", "",
                      "| records | peak RSS MB | RSS after imports MB | wall s | CPU s | rows written |",
                      "|---|---|---|---|---|---|"]
        for n in a.warc_sizes:
            r = measure_documents(n, Path(tmp))
            print(n, "documents", r, flush=True)
            lines.append(f"| {n:,} | {r['peak_rss_mb']:,.0f} | {r['imported_rss_mb']:,.0f} | {r['seconds']:.1f} | "
                         f"{r['cpu_s']:.1f} | {r['rows']:,} |")
            out.write_text("\n".join(lines) + "\n")
    if 100_000 in a.sizes and 1_000_000 in a.sizes:
        lines += ["", "Growth of peak RSS from 100k to 1M documents (target: at most 1.5x; at most 2 GB at 1M):", "",
                  "| asset | 100k MB | 1M MB | 1M / 100k |", "|---|---|---|---|"]
        lines += [f"| {asset} | {peaks[a.label, 100_000, asset]:,.0f} | {peaks[a.label, 1_000_000, asset]:,.0f} | "
                  f"{peaks[a.label, 1_000_000, asset] / peaks[a.label, 100_000, asset]:.2f}x |" for asset in assets]
        out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
