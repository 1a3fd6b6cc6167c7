"""Where the CPU of one `corpus materialize` goes: one 3,000-record shard, end to end, every process.

    python benchmarks/profile_end_to_end.py [--records 3000] [--rate 200] [--keep DIR]
    python benchmarks/profile_end_to_end.py --analyse DIR        # re-classify a kept run

Needs py-spy (`pip install py-spy`). Input: crawl CC-BENCH-1FILE of `bench_end_to_end.py` (one WARC file
of cycled sample responses). The run: `corpus materialize --workers 1` under
`py-spy record --subprocesses --threads --nonblocking --full-filenames` (Python stacks of every thread of every process,
with the OS thread id), while a /proc poller records the exact CPU time of every thread
(/proc/PID/task/TID/schedstat) and the whole tree's CPU comes from wait4.

py-spy counts a thread whenever it is runnable, so on a loaded machine its sample counts measure
wall time, not CPU. Each thread's samples are therefore scaled to that thread's measured CPU: a
category's CPU = sum over threads of (its samples in the category / the thread's samples) x the
thread's CPU. Threads py-spy never saw with a Python stack (Polars' pool, delta-rs' tokio, DuckDB)
are listed by thread name. The categories are assigned from the stacks by `classify`.
Prints a Markdown table (CPU-s, share) and writes it, with per-process detail, to --out.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_end_to_end import ONE_FILE, REPO, sample_responses, write_crawl  # noqa: E402

# -- collection ------------------------------------------------------------------------------------


def _children_table() -> dict[int, int]:
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            table[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return table


class ThreadPoller(threading.Thread):
    """Exact CPU (ns, schedstat) of every thread of every process under `root`, last value seen."""

    def __init__(self, root: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.threads: dict[tuple[int, int], dict] = {}  # (pid, tid) -> {cpu, comm}
        self.processes: dict[int, dict] = {}  # pid -> {ppid, cmdline}
        self.halt = threading.Event()

    def poll(self) -> None:
        table = _children_table()
        tree, frontier = set(), {self.root}
        while frontier:
            tree |= frontier
            frontier = {pid for pid, ppid in table.items() if ppid in frontier and pid not in tree}
        for pid in tree:
            if pid not in self.processes:
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                self.processes[pid] = {"ppid": table.get(pid), "cmdline": cmd.strip()[:300]}
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                try:
                    cpu = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0]) / 1e9
                    comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
                except (OSError, ValueError, IndexError):
                    continue
                self.threads[(pid, int(tid))] = {"cpu": cpu, "comm": comm}

    def run(self) -> None:
        while not self.halt.is_set():
            self.poll()
            self.halt.wait(self.interval)


def record(run_dir: Path, source: Path, rate: int) -> dict:
    home = run_dir / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").touch()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    target = [sys.executable, "-m", "corpus_assets.cli", "materialize", "--source", str(source), "--crawl", ONE_FILE,
              "--warehouse", str(run_dir / "warehouse"), "--workers", "1"]
    command = [py_spy, "record", "--subprocesses", "--threads", "--nonblocking", "--full-filenames", "--rate", str(rate), "--format", "raw",
               "--output", str(run_dir / "py-spy.raw"), "--"] + target
    with open(run_dir / "materialize.log", "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        poller = ThreadPoller(process.pid)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        poller.halt.set()
        poller.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"profile_end_to_end: the profiled run failed; see {run_dir / 'materialize.log'}")
    meta = {"command": " ".join(target), "wall": wall, "tree_cpu_incl_py_spy": usage.ru_utime + usage.ru_stime,
            "py_spy_pid": process.pid, "rate": rate, "max_rss_mib": usage.ru_maxrss / 1024,
            "processes": {str(pid): info for pid, info in poller.processes.items()},
            "threads": [{"pid": pid, "tid": tid, **info} for (pid, tid), info in poller.threads.items()]}
    (run_dir / "profile_meta.json").write_text(json.dumps(meta, indent=1))
    return meta


# -- classification ----------------------------------------------------------------------------------

def _site_package(path: str) -> str | None:
    match = re.search(r"site-packages/([A-Za-z0-9_]+)", path)
    return match.group(1) if match else None


def _frames(stack: list[str]) -> list[tuple[str, str]]:
    """(function, file) of each frame, root first; py-spy writes `function (file:line)`."""
    out = []
    for frame in stack:
        match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
        out.append((match.group(1), match.group(2)) if match else (frame, ""))
    return out


def _import_category(frames: list[tuple[str, str]]) -> str:
    """The package whose import the stack is in: the first third-party module body under the outermost
    import, else the first project module."""
    first = next(i for i, (fn, _) in enumerate(frames) if fn == "_find_and_load")
    modules = [path for fn, path in frames[first:] if fn == "<module>"]
    for path in modules:
        package = _site_package(path)
        if package:
            return package
    for path in modules:
        if "corpus_assets" in path:
            return "corpus_assets"
    return "stdlib"


# innermost project frame -> component, by module file name (so it survives regrouping core/ into
# subpackages); checked from the leaf upwards
_COMPONENTS = [
    ("warc_reader.py", None, "WARC read (fastwarc, digests, gzip tail check)"),
    ("ccsource.py", None, "WARC read (fastwarc, digests, gzip tail check)"),
    ("charset.py", None, "charset detection and decoding"),
    ("extract.py", None, "main-text extraction (resiliparse)"),
    ("langid.py", "predict", "language ID (fastText lid.176)"),
    ("langid.py", None, "set-up: fastText model load"),
    ("words.py", "_segmenter", "set-up: jieba dictionary"),
    ("words.py", "_JiebaSegmenter.__init__", "set-up: jieba dictionary"),
    ("words.py", None, "signals: word segmentation (words.py)"),
    ("token_arrays.py", None, "signals: word segmentation (words.py)"),
    *[("signals.py", function, "signals: repetition n-grams")
      for function in ("_repetition_ngrams", "_top_ngrams", "_top_ngram", "_dup_ngrams", "_ngram_keys")],
    ("signals.py", "_dup_elements", "signals: duplicate lines/paragraphs"),
    ("signals.py", None, "signals: other quality signals"),
    ("pii.py", None, "PII"),  # split by caller below
    ("privacy/candidates.py", None, "PII"),
    ("privacy/detectors.py", None, "PII"),
    ("privacy/validators.py", None, "PII"),
    ("privacy/patterns.py", None, "PII"),
    ("privacy/context.py", None, "PII"),
    ("safety.py", "_default_blocklist", "set-up: safety lists"),
    ("safety.py", "load", "set-up: safety lists"),
    ("safety.py", "_default_badwords", "set-up: safety lists"),
    ("safety.py", None, "safety (URL blocklist, bad words)"),
    ("safety/list_files.py", None, "set-up: safety lists"),
    ("safety/hash_sets.py", None, "set-up: safety lists"),
    ("safety/badwords.py", None, "safety (URL blocklist, bad words)"),
    ("safety/url_words.py", None, "safety (URL blocklist, bad words)"),
    ("safety/blocklist.py", None, "safety (URL blocklist, bad words)"),
    ("safety/tags.py", None, "safety (URL blocklist, bad words)"),
    ("safety/urls.py", None, "safety (URL blocklist, bad words)"),
    ("decisions.py", None, "decisions"),
    ("scoring/fasttext_model.py", "train_classifier", "quality model: fastText training"),
    ("scoring/training.py", None, "quality model: fastText training"),
    *[(f"scoring/{module}.py", None, "quality model: labels, scoring, thresholds, files")
      for module in ("fasttext_model", "scorer", "text", "labels", "pool", "registry", "thresholds", "calibration",
                     "metrics", "build")],
    ("defs/quality/assets.py", "score_frame", "quality model: labels, scoring, thresholds, files"),
    ("filter_config.py", None, "decisions: filter config load"),
    ("dedup_text.py", "_char_map", "set-up: Unicode tables (dedup_text)"),
    ("dedup_text.py", "add_text_hash", "dedup signatures: text hash"),
    ("dedup_text.py", "text_hashes", "dedup signatures: text hash"),
    ("dedup_text.py", "boilerplate_line_hashes", "dedup signatures: boilerplate lines"),
    ("dedup_text.py", "remove_boilerplate_df", "boilerplate removal"),  # split by caller below
    ("dedup/text.py", "_char_map", "set-up: Unicode tables (dedup_text)"),
    ("dedup/text.py", "add_text_hash", "dedup signatures: text hash"),
    ("dedup/text.py", "text_hashes", "dedup signatures: text hash"),
    ("dedup/text.py", "boilerplate_line_hashes", "dedup signatures: boilerplate lines"),
    ("dedup/text.py", "remove_boilerplate_df", "boilerplate removal"),  # split by caller below
    ("dedup/text.py", None, "dedup signatures: text normalisation (text hash, boilerplate lines)"),
    ("dedup/clusters.py", None, "dedup clustering (DuckDB)"),
    ("minhash.py", "_char_classes", "set-up: Unicode tables (minhash)"),
    ("minhash.py", None, "dedup signatures: MinHash"),
    ("clustering.py", None, "dedup clustering (DuckDB)"),
    ("dedup.py", None, "dedup clustering (DuckDB)"),
    ("expectations.py", None, "GX checks"),
    ("gx_engine.py", None, "GX checks"),
    ("validate.py", None, "checks: Polars engine, derived columns, cross-table"),
    ("polars_engine.py", None, "checks: Polars engine, derived columns, cross-table"),
    ("cross_table.py", None, "checks: Polars engine, derived columns, cross-table"),
    ("delta_tables.py", None, "Delta reads/writes"),
    ("documents.py", None, "documents: rows and Arrow batches"),
    ("stages.py", None, "signals/corpus frame assembly (Polars joins)"),
    ("signals_table.py", None, "signals/corpus frame assembly (Polars joins)"),
    ("corpus_table.py", None, "signals/corpus frame assembly (Polars joins)"),
    ("corpus/summary.py", None, "summary (crawl_summary)"),
]
_ASSETS = {"documents": "documents", "signals": "signals", "decisions": "decisions",
           "dedup_signatures": "dedup_signatures", "dedup_clusters": "dedup_clusters", "corpus": "corpus"}


def _step(frames: list[tuple[str, str]]) -> str | None:
    """The asset or check this stack runs in (from the asset function or the check's table label)."""
    for fn, path in reversed(frames):
        if (path.endswith("defs/checks.py") or path.endswith("defs/expectation_checks.py")) and "_check" in fn:
            return "check"
        if "/corpus_assets/defs/" in path and fn in _ASSETS:
            return fn
    return None


def classify(stack: list[str]) -> str:
    frames = _frames(stack)
    if not frames:
        return "interpreter start-up and shutdown (no Python frame)"
    names = [fn for fn, _ in frames]
    if "_find_and_load" in names:
        return f"imports: {_import_category(frames)}"
    step = _step(frames)
    for fn, path in reversed(frames):
        for module, function, label in _COMPONENTS:
            if ("/corpus_assets/" in path and path.endswith("/" + module)
                    and (function is None or fn == function or fn.startswith(function + ".") or ("." + function) in fn)):
                if label == "PII":
                    return "PII: masking in corpus" if step == "corpus" else "PII: counts in signals"
                if label == "boilerplate removal":
                    return "boilerplate removal (corpus)" if step == "corpus" else "dedup signatures: boilerplate removal"
                if label.startswith("checks:"):
                    return label
                if label == "GX checks" or step == "check":
                    return "GX checks"
                return label
        if _site_package(path) in ("deltalake",) or fn in ("write_delta", "read_delta", "scan_delta"):
            return "Delta reads/writes"
        if _site_package(path) == "great_expectations":
            return "GX checks"
    if step == "check":
        return "GX checks"
    if step is not None:
        return f"{step}: asset body (metadata, Polars)"
    packages = {_site_package(p) for _, p in frames}
    if "dagster" in packages:
        if packages & {"sqlalchemy", "alembic"} or any(fn.endswith("store_event") for fn in names):
            return "Dagster: instance and run/event storage (SQLite)"
        if any(fn in ("resolve_job_def", "reconstructable") or "repository_definition" in p for fn, p in frames):
            return "Dagster: definitions and job resolution"
        return "Dagster: execution (plan, steps, events, logs)"
    if any("corpus_assets/runner.py" in p or "corpus_assets/cli.py" in p or "corpus_assets/cli/" in p for _, p in frames):
        return "orchestration: CLI, runner, worker pool"
    if any("multiprocessing" in p or "concurrent/futures" in p for _, p in frames):
        return "orchestration: CLI, runner, worker pool"
    return "other: " + (frames[-1][1].rsplit("/", 1)[-1] or frames[-1][0])


# the summary table: categories grouped in pipeline order (first matching prefix)
GROUPS = [
    ("imports: ", "process start-up: imports"),
    ("interpreter start-up", "process start-up: interpreter start and shutdown"),
    ("set-up: ", "one-time set-up per worker (fastText model, jieba dictionary, Unicode tables, lists)"),
    ("orchestration: ", "three-phase orchestration (CLI, runner, worker pool)"),
    ("Dagster: ", "Dagster overhead (instance, run/event storage, execution)"),
    ("WARC read", "WARC read"),
    ("charset", "charset"),
    ("main-text extraction", "extraction"),
    ("language ID", "language ID"),
    ("documents", "documents: rows, Arrow batches, asset body"),
    ("signals: word segmentation", "signals: word segmentation"),
    ("signals: repetition", "signals: repetition n-grams"),
    ("signals/corpus frame", "signals: other quality signals and frame assembly"),
    ("signals", "signals: other quality signals and frame assembly"),
    ("PII: counts", "PII: counts in signals"),
    ("PII: masking", "PII: masking in corpus"),
    ("safety", "safety"),
    ("decisions", "decisions"),
    ("quality model", "quality model (training; scoring the shard)"),
    ("dedup signatures: text hash", "dedup signatures: text hash"),
    ("dedup signatures: boilerplate", "dedup signatures: boilerplate lines and removal"),
    ("dedup signatures: MinHash", "dedup signatures: MinHash"),
    ("dedup signatures: text normalisation", "dedup signatures: text normalisation"),
    ("dedup_signatures", "dedup signatures: asset body"),
    ("dedup clustering", "dedup clustering (DuckDB)"),
    ("dedup_clusters", "dedup clustering (DuckDB)"),
    ("boilerplate removal (corpus)", "corpus: boilerplate removal"),
    ("corpus", "corpus: asset body"),
    ("Delta", "Delta reads/writes"),
    ("GX checks", "GX checks (validation; the import is under imports)"),
    ("checks: ", "checks in Polars (expectations, derived columns, cross-table)"),
    ("summary", "summary (crawl_summary)"),
    ("native threads: ", "threads without a Python stack (Polars pool, tokio, DuckDB, jemalloc)"),
    ("other", "other"),
]


def group_of(category: str) -> str:
    return next((group for prefix, group in GROUPS if category.startswith(prefix)), "other")


# -- analysis -------------------------------------------------------------------------------------------

def parse_raw(path: Path) -> dict[tuple[int, int], Counter]:
    """(pid, tid) -> Counter of stack tuples (without the process and thread frames)."""
    samples: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        # process frames nest (parent;child) and quote command lines that may hold ';': the last is sampled
        pids = re.findall(r'process (\d+):"[^"]*";?', stack)
        stack = re.sub(r'process \d+:"[^"]*";?', "", stack)
        pid = int(pids[-1]) if pids else None
        tid = None
        rest = []
        for frame in filter(None, stack.split(";")):
            if tid is None and re.match(r"thread \(\d+\)", frame):
                tid = int(re.match(r"thread \((\d+)\)", frame).group(1))
            else:
                rest.append(frame)
        samples[(pid, tid)][tuple(rest)] += int(count)
    return samples


def _leaf(stack: list[str]) -> str:
    """The innermost frame as `function (file name)`."""
    if not stack:
        return "-"
    fn, path = _frames(stack[-1:])[0]
    return f"{fn} ({path.rsplit('/', 1)[-1]})"


def analyse(run_dir: Path) -> str:
    meta = json.loads((run_dir / "profile_meta.json").read_text())
    samples = parse_raw(run_dir / "py-spy.raw")
    spy = meta["py_spy_pid"]
    threads = {(t["pid"], t["tid"]): t for t in meta["threads"] if t["pid"] != spy}
    processes = meta["processes"]
    by_category: Counter = Counter()
    by_process: dict[int, Counter] = defaultdict(Counter)
    leaves: dict[str, Counter] = defaultdict(Counter)  # category -> innermost frame -> CPU
    native: Counter = Counter()
    for (pid, tid), info in threads.items():
        counts = samples.get((pid, tid))
        total = sum(counts.values()) if counts else 0
        if not total:
            native[f"{info['comm']} threads"] += info["cpu"]
            by_process[pid]["native threads (no Python stack)"] += info["cpu"]
            continue
        for stack, n in counts.items():
            cpu = info["cpu"] * n / total
            category = classify(list(stack))
            by_category[category] += cpu
            by_process[pid][category] += cpu
            leaves[category][_leaf(list(stack))] += cpu
    for name, cpu in native.items():
        by_category[f"native threads: {name}"] += cpu
    observed = sum(t["cpu"] for t in threads.values())
    spy_cpu = sum(t["cpu"] for t in meta["threads"] if t["pid"] == spy)
    tree = meta["tree_cpu_incl_py_spy"] - spy_cpu
    lines = [f"Profile of `{meta['command']}`", "",
             f"CPU of the process tree (wait4, less py-spy's own {spy_cpu:.1f} s): {tree:.1f} s; per-thread CPU "
             f"observed: {observed:.1f} s; wall {meta['wall']:.1f} s; py-spy rate {meta['rate']} Hz; largest process "
             f"{meta['max_rss_mib']:.0f} MiB", "",
             "| stage | CPU s | share |", "|---|---:|---:|"]
    groups: Counter = Counter()
    for category, cpu in by_category.items():
        groups[group_of(category)] += cpu
    for group in dict.fromkeys(label for _, label in GROUPS):
        if groups[group]:
            lines.append(f"| {group} | {groups[group]:.2f} | {100 * groups[group] / observed:.1f} % |")
    lines.append(f"| **total observed** | **{observed:.2f}** | 100 % |")
    lines += ["", "In detail:", "", "| category | CPU s | share |", "|---|---:|---:|"]
    for category, cpu in sorted(by_category.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {category} | {cpu:.2f} | {100 * cpu / observed:.1f} % |")
    lines.append(f"| **total observed** | **{observed:.2f}** | 100 % |")
    lines += ["", "Where each category's CPU is (innermost frame; top 4 of categories over 0.1 s):", ""]
    for category, cpu in sorted(by_category.items(), key=lambda kv: -kv[1]):
        if cpu >= 0.1 and leaves[category]:
            top = ", ".join(f"{frame} {seconds:.2f}" for frame, seconds in leaves[category].most_common(4))
            lines.append(f"- {category}: {top}")
    lines += ["", "Per process:", ""]
    for pid, counter in sorted(by_process.items(), key=lambda kv: -sum(kv[1].values())):
        cmd = processes.get(str(pid), {}).get("cmdline", "?")
        lines.append(f"- pid {pid} ({sum(counter.values()):.2f} s): `{cmd[:110]}`")
        for category, cpu in counter.most_common(8):
            lines.append(f"    - {category}: {cpu:.2f} s")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--keep", help="folder for the input, the run and py-spy's output (kept)")
    parser.add_argument("--analyse", help="only re-classify the run kept in this folder")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "profile_breakdown.txt"))
    args = parser.parse_args()
    if args.analyse:
        run_dir = Path(args.analyse)
    else:
        if not (shutil.which("py-spy") or Path(sys.executable).parent.joinpath("py-spy").exists()):
            raise SystemExit("profile_end_to_end: needs py-spy: pip install py-spy")
        scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="profile_e2e_"))
        shutil.rmtree(scratch / "run", ignore_errors=True)
        source = scratch / "source"
        if not (source / "crawl-data" / ONE_FILE).exists():
            write_crawl(source, ONE_FILE, 1, args.records, sample_responses())
            (source / "collinfo.json").write_text(json.dumps([{"id": ONE_FILE, "name": ONE_FILE}]))
        run_dir = scratch / "run"
        run_dir.mkdir(parents=True)
        record(run_dir, source, args.rate)
    text = analyse(run_dir)
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
        print(f"written: {args.out}")
    if not args.analyse and not args.keep:
        shutil.rmtree(run_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
