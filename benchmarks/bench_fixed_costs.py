"""Direct CPU measurements behind `results/profile_end_to_end.md`: what each fixed cost and each
check costs on its own, so an optimisation can be sized before it is made.

    python benchmarks/bench_fixed_costs.py [--warehouse DIR] [--repeat 3] [--out FILE]

1. Fresh processes (CPU of the child via wait4, best of --repeat): the interpreter, each heavy
   import, what a pool worker imports (`corpus_assets.definitions`), the GX context, the models and
   lists a worker loads, and interpreter shutdown after the imports.
2. On a materialized warehouse (--warehouse; default: one is made by `corpus materialize` of the
   3,000-record file of `bench_end_to_end.py`): the GX check of each table (read, pandas conversion,
   GX validation, custom checks), the same corpus check and PII masking on *every* document (the
   benchmark input's exact copies leave only ~120 rows in `corpus`; a real crawl keeps ~70 %), Delta
   write and read of the `documents` partition, and the Dagster events the runs stored.
3. Chinese word segmentation: `core/words.py`'s DAG vs rjieba (if installed) on every Han run of
   the zh documents: identical output?, CPU of each.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_end_to_end import ONE_FILE, REPO, sample_responses, write_crawl  # noqa: E402

sys.path.insert(0, str(REPO))


def child_cpu(code: str, repeat: int) -> float:
    """Best-of-`repeat` CPU seconds (user+sys, with descendants) of `python -c code`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    best = float("inf")
    for _ in range(repeat):
        process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"bench_fixed_costs: `python -c {code!r}` failed")
        best = min(best, usage.ru_utime + usage.ru_stime)
    return best


def fresh_process_costs(repeat: int) -> list[str]:
    base = child_cpu("pass", repeat)
    lines = [f"## 1. Fresh processes (CPU-s, best of {repeat}; `python -c pass` = {base:.3f} s, subtracted)", ""]
    imports = ["dagster", "great_expectations", "polars", "pyarrow", "deltalake", "duckdb", "pandas", "fasttext",
               "resiliparse.extract.html2text", "fastwarc.warc", "jieba", "sqlalchemy"]
    for module in imports:
        lines.append(f"import {module:40} {child_cpu(f'import {module}', repeat) - base:6.2f}")
    both = child_cpu("import dagster, great_expectations", repeat) - base
    both_exit = child_cpu("import os, dagster, great_expectations; os._exit(0)", repeat) - base
    lines.append(f"import dagster, great_expectations          {both:6.2f}  (with os._exit at the end: {both_exit:.2f}; "
                 f"interpreter shutdown {both - both_exit:.2f})")
    worker = child_cpu("import corpus_assets.definitions", repeat) - base
    lines.append(f"import corpus_assets.definitions (worker)   {worker:6.2f}")
    cli = child_cpu("import corpus_assets.cli, corpus_assets.runner, dagster", repeat) - base
    lines.append(f"import corpus_assets.cli + runner (CLI)     {cli:6.2f}")
    gx = child_cpu("from corpus_assets.core.checks.expectations import gx_runtime; gx_runtime()", repeat) - base
    gx_import = child_cpu("import corpus_assets.core.checks.expectations, great_expectations", repeat) - base
    lines.append(f"GX runtime (import + ephemeral context)     {gx:6.2f}  (context alone {gx - gx_import:.2f})")
    setups = {  # (imports, set-up timed in the child after them)
        "fastText lid.176 model load": ("from corpus_assets.core.ingest.langid import LanguageIdentifier as L",
                                        "L().predict('x')"),
        "safety lists (bundled blocklist, bad words)": ("from corpus_assets.defs.signals.assets import _safety_lists",
                                                        "_safety_lists(None, None)"),
        "jieba dictionary (words.py segmenter)": ("from corpus_assets.core.text.words import _segmenter", "_segmenter()"),
        "Unicode tables (dedup_text + minhash)": ("from corpus_assets.core.dedup.text import _char_map; "
                                                  "from corpus_assets.core.dedup.minhash import _char_classes",
                                                  "_char_map(False); _char_map(True); _char_classes()"),
    }
    for label, (imports, setup) in setups.items():
        lines.append(f"{label:43} {timed_in_child(imports, setup, repeat):6.2f}  (after the imports)")
    return lines


def timed_in_child(imports: str, setup: str, repeat: int) -> float:
    """Best-of-`repeat` CPU seconds of `setup` in a fresh process, after `imports`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    code = f"{imports}\nimport time\nt = time.process_time()\n{setup}\nprint(time.process_time() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()[-1]) for _ in range(repeat))


class Timer:
    """Accumulates the CPU time (process_time) spent in wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module, name: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.process_time() - started

        setattr(module, name, timed)


def make_warehouse(scratch: Path, records: int) -> Path:
    source = scratch / "source"
    write_crawl(source, ONE_FILE, 1, records, sample_responses())
    (source / "collinfo.json").write_text(json.dumps([{"id": ONE_FILE, "name": ONE_FILE}]))
    home = scratch / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").touch()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    print("materializing the 3,000-record file (not measured) ...", flush=True)
    subprocess.run([sys.executable, "-m", "corpus_assets.cli", "materialize", "--source", str(source), "--crawl",
                    ONE_FILE, "--warehouse", str(scratch / "warehouse"), "--workers", "1"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return scratch / "warehouse"


def warehouse_costs(warehouse: Path, repeat: int) -> list[str]:
    import polars as pl

    import corpus_assets.core.checks.expectations as ex
    from corpus_assets.core.lake.delta_tables import read_partition, replace_partition
    from corpus_assets.core.stages import corpus_frame
    from corpus_assets.defs.corpus.assets import CORPUS_SOURCE_COLUMNS

    partition = {"crawl": ONE_FILE, "shard": "00000"}
    timer = Timer()
    for name in ("read_table", "_to_pandas", "_run_gx", "run_custom_checks"):
        timer.wrap(ex, name)
    ex.gx_runtime()  # the import and context are counted in part 1
    lines = ["", f"## 2. Checks, PII masking, Delta on {warehouse} (CPU-s in this process, best of {repeat})", ""]
    lines.append(f"{'GX check of':24} {'rows':>6} {'total':>7} {'read':>7} {'pandas':>7} {'GX':>7} {'custom':>7}  ms/row")
    for table in ("documents", "signals", "decisions", "dedup_clusters", "corpus"):
        best = None
        for _ in range(repeat):
            timer.seconds.clear()
            started = time.process_time()
            result = ex.validate_table(str(warehouse), table, None if table == "dedup_clusters" else partition)
            total = time.process_time() - started
            if best is None or total < best[0]:
                best = (total, dict(timer.seconds), (result.row_count or 0))
        total, parts, rows = best
        lines.append(f"{table:24} {rows:6d} {total:7.2f} {parts.get('read_table', 0):7.2f} {parts.get('_to_pandas', 0):7.2f} "
                     f"{parts.get('_run_gx', 0):7.2f} {parts.get('run_custom_checks', 0):7.2f}"
                     f"  {1000 * total / max(rows, 1):.2f}")

    docs = read_partition(f"{warehouse}/documents", partition, CORPUS_SOURCE_COLUMNS)
    signatures = read_partition(f"{warehouse}/dedup_signatures", partition, ["doc_id", "text_hash"])
    boilerplate = read_partition(f"{warehouse}/boilerplate_lines", partition, ["url_host", "line_hash"])
    started = time.process_time()
    full_corpus = corpus_frame(docs, boilerplate, signatures)
    masking = time.process_time() - started
    others = {"documents": docs.select("doc_id", "crawl", "shard"),
              "decisions": read_partition(f"{warehouse}/decisions", partition, ["doc_id", "keep"])}
    timer.seconds.clear()
    started = time.process_time()
    result = ex.validate_frame("corpus", full_corpus, {"partition": partition}, others=others)
    check = time.process_time() - started
    lines.append(f"{'corpus, every document':24} {(result.row_count or 0):6d} {check:7.2f} {'-':>7} {timer.seconds.get('_to_pandas', 0):7.2f} "
                 f"{timer.seconds.get('_run_gx', 0):7.2f} "
                 f"{timer.seconds.get('run_custom_checks', 0):7.2f}  {1000 * check / max((result.row_count or 0), 1):.2f}")
    lines.append(f"corpus_frame (boilerplate removal + PII masking) of every document: {docs.height} docs "
                 f"{masking:.2f} s = {1000 * masking / max(docs.height, 1):.2f} ms/doc")

    table = pl.read_delta(f"{warehouse}/documents").to_arrow()
    batches = table.to_batches(max_chunksize=2000)
    with tempfile.TemporaryDirectory() as tmp:
        write = read = float("inf")
        for _ in range(repeat):
            target = f"{tmp}/documents-{time.monotonic_ns()}"
            started = time.process_time()
            replace_partition(target, lambda: iter(batches), table.schema, partition)
            write = min(write, time.process_time() - started)
            started = time.process_time()
            read_partition(target, partition)
            read = min(read, time.process_time() - started)
    lines.append(f"Delta: write the documents partition ({table.num_rows} rows, {table.nbytes / 2**20:.0f} MiB) "
                 f"{write:.2f} s, read it back {read:.2f} s")
    return lines


def dagster_events(home: Path) -> list[str]:
    lines = []
    for db in sorted(home.glob("history/runs/*.db")):
        if db.name == "index.db":
            continue
        with sqlite3.connect(db) as con:
            count = con.execute("SELECT count(*) FROM event_logs").fetchone()[0]
            kinds = con.execute("SELECT dagster_event_type, count(*) FROM event_logs GROUP BY 1 ORDER BY 2 DESC").fetchall()
        lines.append(f"run {db.stem[:8]}: {count} events: " + ", ".join(f"{k or 'log'} {n}" for k, n in kinds[:8]))
    return ["", "Dagster events stored per run (SQLite, one transaction each):", *lines] if lines else []


def segmentation(warehouse: Path, repeat: int) -> list[str]:
    import polars as pl

    from corpus_assets.core import words

    texts = pl.read_delta(f"{warehouse}/documents").filter(pl.col("lang").is_in(["zh", "wuu", "yue"]))["text"]
    runs = [part for text in dict.fromkeys(texts.to_list()) for i, part in enumerate(words._HAN_SPLIT_RE.split(text))
            if i & 1 and part]
    segmenter = words._segmenter()
    ours = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        ours_out = [segmenter.cut(run) for run in runs]
        ours = min(ours, time.process_time() - started)
    lines = ["", f"## 3. Chinese segmentation: {len(runs)} Han runs ({sum(map(len, runs))} characters) of "
                 f"{texts.n_unique()} distinct zh documents", "",
             f"core/words.py DAG (= jieba HMM=False): {ours:.3f} s"]
    try:
        import rjieba
    except ImportError:
        return lines + ["rjieba not installed (pip install rjieba): not compared"]
    rjieba.cut("预热", False)
    theirs = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        theirs_out = [rjieba.cut(run, False) for run in runs]
        theirs = min(theirs, time.process_time() - started)
    same = sum(a == b for a, b in zip(ours_out, theirs_out))
    diff = next(((r, a, b) for r, a, b in zip(runs, ours_out, theirs_out) if a != b), None)
    lines.append(f"rjieba.cut(run, hmm=False): {theirs:.3f} s ({ours / theirs:.1f}x faster); identical on {same} of "
                 f"{len(runs)} runs" + (f"; first difference: {diff[1][:8]} vs {diff[2][:8]}" if diff else ""))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", help="a warehouse holding crawl CC-BENCH-1FILE (default: make one)")
    parser.add_argument("--dagster-home", help="its DAGSTER_HOME, to count the events its runs stored")
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-processes", action="store_true", help="skip part 1 (fresh processes)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "fixed_costs.txt"))
    args = parser.parse_args()
    lines = [f"bench_fixed_costs {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}: {os.cpu_count()} cores (shared), "
             f"load {os.getloadavg()[0]:.1f}", ""]
    if not args.skip_processes:
        lines += fresh_process_costs(args.repeat)
    print("\n".join(lines), flush=True)
    scratch = None
    warehouse, home = (Path(args.warehouse) if args.warehouse else None), (Path(args.dagster_home) if args.dagster_home else None)
    if warehouse is None:
        scratch = Path(tempfile.mkdtemp(prefix="fixed_costs_"))
        warehouse, home = make_warehouse(scratch, args.records), scratch / "dagster_home"
    try:
        more = warehouse_costs(warehouse, args.repeat) + (dagster_events(home) if home else [])
        more += segmentation(warehouse, args.repeat)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(more))
    if args.out:
        Path(args.out).write_text("\n".join(lines + more) + "\n")
        print(f"written: {args.out}")


if __name__ == "__main__":
    main()
