"""The whole pipeline end to end (`corpus materialize`: every asset, every GX check, three phases,
process start-up included) side by side with the peer, per CPU-second of the whole process tree.

    python benchmarks/bench_end_to_end.py [--peer-python PATH | --skip-peer] [--keep] [--records 3000]

Input, generated from the bundled sample crawl (`data/sample-crawl/`, nothing outside the repository)
into a scratch folder laid out like Common Crawl (`collinfo.json`, `warc.paths.gz`, one gzip member
per record):
  (a) crawl CC-BENCH-1FILE: one WARC file of 3,000 response records;
  (b) crawl CC-BENCH-2FILE: two WARC files of 3,000 records, materialized as ONE 2-file shard.
Records cycle the sample's 201 HTML responses; copy N of a page gets the host `copyN.<host>` and a
fresh WARC-Record-ID, the HTTP payload is kept byte for byte (block digests still verify). The copy
number goes into the host, not the path, because boilerplate removal counts lines per host: 15 copies
of a page on one host would make every line boilerplate and leave MinHash nothing to hash.

For (a) and (b), `corpus materialize` runs as a subprocess with a fresh warehouse and DAGSTER_HOME,
with `--workers 1` and with the default worker count, --repeat times each (interleaved; the run with
the least CPU counts: on a shared machine other load only ever adds CPU time). CPU = user + sys of the CLI process and every
process below it (os.wait4 on the CLI: the kernel adds each reaped descendant, e.g. the pool's workers,
to its parent); a /proc sampler cross-checks that the workers are in that sum. Peak RSS is the largest
single process's (ru_maxrss) and the largest sum over the tree seen by the sampler. The peer
(`benchmarks/peer/peer_datatrove_fineweb.py`, datatrove's FineWeb pipeline, one worker, in its own venv:
`make bench-peer-venv`) runs over the same WARC files, measured the same way (~10 records/s: ~15 min).

Both codes (ours, and --before's) have their bytecode compiled first, as an installed package has it (pip
compiles it at install; a checkout writes it at its first import, unless PYTHONDONTWRITEBYTECODE is set, as
on the machine these figures come from: without it every process compiled the package's modules anew).

Figures: ours end to end (a) in documents per CPU-s; ours marginal, (docs(b) - docs(a)) / (CPU(b) -
CPU(a)), the cost of the second 3,000 records; our fixed cost per `corpus materialize`, CPU(a) -
docs(a) x marginal CPU per document; the peer's records per CPU-s, end to end and marginal; the ratios
(targets of issue 12: end to end >= 10x, marginal >= 15x). For reference the peer also runs once over the
bundled sample itself (201 distinct pages): trafilatura memoises, so cycled copies flatter it. Printed, and written to
`benchmarks/results/end_to_end.txt` (--out). The machine may be shared: CPU seconds are the figure,
wall seconds are shown for context.
"""
from __future__ import annotations

import argparse
import compileall
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample-crawl"
PEER_SCRIPT = REPO / "benchmarks" / "peer" / "peer_datatrove_fineweb.py"
DEFAULT_PEER_PYTHON = REPO / "benchmarks" / "peer" / ".venv" / "bin" / "python"
ONE_FILE, TWO_FILES = "CC-BENCH-1FILE", "CC-BENCH-2FILE"
SEGMENT = "1700000000000.00"


# -- input ---------------------------------------------------------------------------------------
def gzip_members(path: Path) -> list[bytes]:
    """The decompressed gzip members of a file (one WARC record each in Common Crawl's layout)."""
    data, members = path.read_bytes(), []
    while data:
        decompressor = zlib.decompressobj(wbits=31)
        members.append(decompressor.decompress(data))
        data = decompressor.unused_data
    return members


def split_record(record: bytes) -> tuple[list[str], bytes]:
    """WARC header lines and the rest (the CRLF CRLF, the block, the closing CRLF CRLF)."""
    end = record.index(b"\r\n\r\n")
    return record[:end].decode("utf-8").split("\r\n"), record[end:]


def header(lines: list[str], name: str) -> str | None:
    prefix = name.lower() + ":"
    return next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith(prefix)), None)


def sample_responses() -> list[tuple[bytes, str]]:
    """Every response record of the bundled sample crawl, in listing order of crawl and file, with the
    suffix of its copies' host label: "" or, for the k-th re-crawl of a URL seen before, "r<k>"."""
    records, seen = [], {}
    for paths in sorted(SAMPLE.glob("crawl-data/*/warc.paths.gz")):
        for rel in gzip.decompress(paths.read_bytes()).decode().split():
            for member in gzip_members(SAMPLE / rel):
                lines = split_record(member)[0]
                if header(lines, "WARC-Type") == "response":
                    url = header(lines, "WARC-Target-URI")
                    seen[url] = seen.get(url, -1) + 1
                    records.append((member, f"r{seen[url]}" if seen[url] else ""))
    if not records:
        raise SystemExit(f"bench_end_to_end: no response records under {SAMPLE}")
    return records


def record_uuid(*parts: object) -> str:
    return f"<urn:uuid:{uuid.UUID(bytes=hashlib.blake2b(repr(parts).encode(), digest_size=16).digest())}>"


def copy_record(record: bytes, label: str, record_id: str, warcinfo_id: str) -> bytes:
    """The record under URL scheme://<label>.<host>/… with a new record id; block (HTTP payload) unchanged."""
    lines, rest = split_record(record)
    out = []
    for line in lines:
        name = line.split(":", 1)[0].lower()
        if name == "warc-target-uri":
            url = line.split(":", 1)[1].strip()
            line = "WARC-Target-URI: " + re.sub(r"^(https?://)", rf"\g<1>{label}.", url, count=1)
        elif name == "warc-record-id":
            line = f"WARC-Record-ID: {record_id}"
        elif name == "warc-warcinfo-id":
            line = f"WARC-Warcinfo-ID: {warcinfo_id}"
        elif name == "warc-concurrent-to":  # its request record is not copied
            continue
        out.append(line)
    return "\r\n".join(out).encode("utf-8") + rest


def warcinfo_record(filename: str, record_id: str) -> bytes:
    block = b"software: corpus_assets benchmarks/bench_end_to_end.py\r\nformat: WARC File Format 1.1\r\n"
    head = (f"WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Date: 2026-01-15T10:00:00Z\r\nWARC-Filename: {filename}\r\n"
            f"WARC-Record-ID: {record_id}\r\nContent-Type: application/warc-fields\r\n"
            f"Content-Length: {len(block)}\r\n\r\n")
    return head.encode() + block + b"\r\n\r\n"


def write_crawl(root: Path, crawl: str, files: int, records_per_file: int, sample: list[tuple[bytes, str]]) -> list[Path]:
    """`files` WARC files of `records_per_file` cycled responses each, one gzip member per record."""
    rel_paths, paths = [], []
    for number in range(files):
        name = f"{crawl}-{number:05d}.warc.gz"
        rel = f"crawl-data/{crawl}/segments/{SEGMENT}/warc/{name}"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        info_id = record_uuid(crawl, number, "warcinfo")
        with open(path, "wb") as out:
            out.write(gzip.compress(warcinfo_record(name, info_id), compresslevel=6, mtime=0))
            for i in range(number * records_per_file, (number + 1) * records_per_file):
                member, recrawl = sample[i % len(sample)]
                record = copy_record(member, f"copy{i // len(sample)}{recrawl}", record_uuid(crawl, i), info_id)
                out.write(gzip.compress(record, compresslevel=6, mtime=0))
        rel_paths.append(rel)
        paths.append(path)
    (root / "crawl-data" / crawl / "warc.paths.gz").write_bytes(gzip.compress(("\n".join(rel_paths) + "\n").encode(), mtime=0))
    return paths


def generate_source(root: Path, records_per_file: int) -> None:
    sample = sample_responses()
    write_crawl(root, ONE_FILE, 1, records_per_file, sample)
    write_crawl(root, TWO_FILES, 2, records_per_file, sample)
    crawls = [{"id": TWO_FILES, "name": "bench: one 2-file shard"}, {"id": ONE_FILE, "name": "bench: one file"}]
    (root / "collinfo.json").write_text(json.dumps(crawls, indent=1))
    print(f"input: {len(sample)} sample responses cycled into {ONE_FILE} (1 file) and {TWO_FILES} (2 files), "
          f"{records_per_file} records per file, under {root}", flush=True)


# -- measurement ---------------------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _proc_table() -> dict[int, tuple[int, float, int, str]]:
    """pid -> (ppid, CPU seconds so far, RSS KiB, command name) of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): ppid 4, utime 14, stime 15, rss 24
        table[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
                            int(fields[21]) * PAGE_KIB, comm)
    return table


class TreeSampler(threading.Thread):
    """Polls /proc for the descendants of `root`: the last CPU seen per process and the peak RSS sum.
    An independent lower bound for the wait4 figure (it misses a process's last interval)."""

    def __init__(self, root: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.peak_rss_sum_kib = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            table = _proc_table()
            tree, frontier = set(), {self.root}
            while frontier:
                tree |= frontier
                frontier = {pid for pid, row in table.items() if row[0] in frontier and pid not in tree}
            rss = 0
            for pid in tree & table.keys():
                self.cpu[pid] = table[pid][1]
                self.names[pid] = table[pid][3]
                rss += table[pid][2]
            self.peak_rss_sum_kib = max(self.peak_rss_sum_kib, rss)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Measured:
    wall: float
    cpu: float  # user + sys of the process and all its reaped descendants
    user: float
    sys: float
    max_rss_mib: float  # largest single process
    sampled_cpu: float  # sum over the processes the sampler saw
    sampled_root_cpu: float
    processes: int
    peak_rss_sum_mib: float
    returncode: int
    log: Path


def measure(command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> Measured:
    """Run `command` to completion in `cwd`, stdout+stderr to `log`; CPU of the whole process tree via wait4."""
    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall=wall, cpu=usage.ru_utime + usage.ru_stime, user=usage.ru_utime, sys=usage.ru_stime,
                    max_rss_mib=usage.ru_maxrss / 1024, sampled_cpu=sum(sampler.cpu.values()),
                    sampled_root_cpu=sampler.cpu.get(process.pid, 0.0), processes=len(sampler.cpu),
                    peak_rss_sum_mib=sampler.peak_rss_sum_kib / 1024, returncode=process.returncode, log=log)


def fail(what: str, run: Measured) -> None:
    tail = run.log.read_text(errors="replace").strip().splitlines()[-15:]
    raise SystemExit(f"bench_end_to_end: {what} failed (exit {run.returncode}); last lines of {run.log}:\n"
                     + "\n".join(tail))


@dataclass
class Result:
    label: str
    crawl: str
    measured: Measured
    records: int
    documents: int  # ours: rows written to `documents`; the peer: records in
    extra: dict = field(default_factory=dict)


def table_rows(warehouse: Path, table: str) -> int:
    import polars as pl

    return pl.scan_delta(str(warehouse / table)).select(pl.len()).collect().item()


def run_ours(source: Path, crawl: str, files: int, records: int, workers: int | None, scratch: Path,
             attempt: int = 1, dagster_yaml: Path | None = None, code: Path = REPO, label: str = "ours") -> Result:
    """`corpus materialize` of the code in `code` (this checkout, or the --before one)."""
    name = f"{label}-{crawl}-w{workers or 'default'}"
    run_dir = scratch / "runs" / f"{name}-{attempt}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))
    if dagster_yaml:  # else `corpus` makes <warehouse>/_dagster with the project's settings, as for a user
        (run_dir / "dagster_home").mkdir()
        instance_config = dagster_yaml.read_text().replace("$DAGSTER_HOME", str(run_dir / "dagster_home"))
        (run_dir / "dagster_home" / "dagster.yaml").write_text(instance_config)
        env["DAGSTER_HOME"] = str(run_dir / "dagster_home")
    command = [sys.executable, "-m", "corpus_assets.cli", "materialize", "--source", str(source), "--crawl", crawl,
               "--warehouse", str(run_dir / "warehouse"), "--shard-size", str(files)]
    if workers is not None:
        command += ["--workers", str(workers)]
    print(f"  {name} #{attempt}: corpus materialize ...", end=" ", flush=True)
    run = measure(command, env, run_dir / "materialize.log", cwd=code)  # `-m` imports from the working directory first
    if run.returncode != 0:
        fail(name, run)
    result = Result(name, crawl, run, records, table_rows(run_dir / "warehouse", "documents"),
                    {"corpus": table_rows(run_dir / "warehouse", "corpus"),
                     "workers": workers or (os.cpu_count() or 2)})
    print(f"{result.documents} documents, {result.extra['corpus']} in corpus; CPU {run.cpu:.1f}s, wall {run.wall:.1f}s",
          flush=True)
    return result


def run_peer(peer_python: Path, crawl_dir: Path, name: str, scratch: Path) -> Result:
    out_dir = scratch / "runs" / name
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    print(f"  {name}: datatrove FineWeb, one worker ...", end=" ", flush=True)
    run = measure([str(peer_python), str(PEER_SCRIPT), str(crawl_dir), str(out_dir / "out")],
                  dict(os.environ), out_dir / "peer.log")
    if run.returncode != 0:
        fail(name, run)
    match = re.search(r"records=(\d+) seconds=([\d.]+)", run.log.read_text())
    if not match:
        fail(f"{name} (no 'records=' line)", run)
    records = int(match.group(1))
    kept = sum(1 for path in (out_dir / "out" / "output").glob("*.jsonl.gz") for _ in gzip.open(path, "rt"))
    print(f"{records} records, {kept} kept; CPU {run.cpu:.1f}s, wall {run.wall:.1f}s", flush=True)
    return Result(name, crawl_dir.name, run, records, records, {"kept": kept})


def save_peer(path: Path, peer: tuple[Result, ...], started: datetime, loads: list[float]) -> None:
    def plain(result: Result) -> dict:
        measured = {k: (str(v) if isinstance(v, Path) else v) for k, v in result.measured.__dict__.items()}
        return {**{k: v for k, v in result.__dict__.items() if k != "measured"}, "measured": measured}

    path.write_text(json.dumps({"started": f"{started:%Y-%m-%dT%H:%MZ}", "ended": f"{datetime.now(timezone.utc):%H:%MZ}",
                                "load": [min(loads or [0]), sum(loads) / max(len(loads), 1), max(loads or [0])],
                                "runs": [plain(r) for r in peer]}, indent=1))


def load_peer(path: Path, wait_s: float = 3600) -> tuple[tuple[Result, ...], str]:
    deadline = time.monotonic() + wait_s
    while not path.exists() and time.monotonic() < deadline:  # a --peer-only run alongside may still be measuring
        time.sleep(10)
    saved = json.loads(path.read_text())
    runs = tuple(Result(**{**r, "measured": Measured(**{**r["measured"], "log": Path(r["measured"]["log"])})})
                 for r in saved["runs"])
    low, mean, high = saved["load"]
    return runs, (f"the peer's runs: measured by `--peer-only` {saved['started']}-{saved['ended']} on the same machine, "
                  f"alongside these runs (load min {low:.1f} / mean {mean:.1f} / max {high:.1f}), read from {path.name}")


# -- report --------------------------------------------------------------------------------------
def best_of(results: list[Result]) -> Result:
    """The run with the least CPU (the least disturbed by other load), with every run's CPU noted."""
    best = min(results, key=lambda r: r.measured.cpu)
    best.extra["cpu_runs"] = [r.measured.cpu for r in results]
    return best


def marginal(a: Result, b: Result) -> tuple[float, float]:
    """(units per CPU-s, CPU-s per unit) of what (b) has beyond (a)."""
    units, cpu = b.documents - a.documents, b.measured.cpu - a.measured.cpu
    return (units / cpu if cpu > 0 else float("inf")), (cpu / units if units else float("nan"))


def git_state() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(ours: dict[str, tuple[Result, Result]], peer: tuple[Result, Result, Result] | None,
           header_lines: list[str]) -> str:
    lines = list(header_lines)
    lines.append("")
    lines.append(f"{'run':34} {'records':>8} {'docs':>6} {'corpus':>6} {'CPU s':>8} {'wall s':>8} {'docs/CPU-s':>10} "
                 f"{'max RSS':>8} {'tree RSS':>8}  {'CPU s of every run':22} check: CPU seen by /proc sampler (processes)")
    runs = [r for pair in ours.values() for r in pair] + (list(peer) if peer else [])
    for r in runs:
        m = r.measured
        corpus = r.extra.get("corpus", r.extra.get("kept", ""))
        lines.append(f"{r.label:34} {r.records:8d} {r.documents:6d} {corpus:>6} {m.cpu:8.1f} {m.wall:8.1f} "
                     f"{r.documents / m.cpu:10.1f} {m.max_rss_mib:6.0f}Mi {m.peak_rss_sum_mib:6.0f}Mi  "
                     f"{' '.join(f'{c:.1f}' for c in r.extra.get('cpu_runs', [m.cpu])):22} "
                     f"{m.sampled_cpu:.1f}s = root {m.sampled_root_cpu:.1f}s + rest {m.sampled_cpu - m.sampled_root_cpu:.1f}s "
                     f"({m.processes})")
    lines.append("(ours: docs = rows written to `documents`, corpus = rows in `corpus`; peer: docs = records in, corpus "
                 "column = documents it kept. max RSS: largest single process; tree RSS: largest sum over the tree.)")
    lines.append("")
    peer_e2e = peer_marg = None
    if peer:
        pa_, pb_, distinct = peer
        peer_e2e = pa_.documents / pa_.measured.cpu
        peer_marg, peer_marg_cpu = marginal(pa_, pb_)
        peer_distinct = distinct.documents / distinct.measured.cpu
        lines.append(f"peer (datatrove FineWeb, 1 worker): end to end {peer_e2e:.1f} records/CPU-s (1 file); "
                     f"{pb_.documents / pb_.measured.cpu:.1f} (2 files); marginal {peer_marg:.1f} records/CPU-s; "
                     f"fixed cost {pa_.measured.cpu - peer_marg_cpu * pa_.documents:.1f} CPU-s")
        lines.append(f"peer on the sample's {distinct.documents} distinct pages (no copies), end to end: {peer_distinct:.1f} "
                     f"records/CPU-s; on the copies it runs at {peer_e2e / peer_distinct:.1f}x that rate: trafilatura memoises "
                     "text processing (lru_cache) and drops segments it has seen (deduplicate=True), so cycled copies "
                     "flatter the peer; the ratios below use the copies, as issue 12 defines the input.")
    for label, (a, b) in ours.items():
        e2e = a.documents / a.measured.cpu
        rate, per_doc = marginal(a, b)
        if rate == float("inf"):  # (b) took no more CPU than (a): the input is too small for the noise
            lines.append(f"ours, {label}: end to end {e2e:.1f} docs/CPU-s (1 file); no marginal rate: the 2-file "
                         "run took no more CPU than the 1-file run (use more --records)")
            continue
        fixed = a.measured.cpu - per_doc * a.documents
        lines.append(f"ours, {label}: end to end {e2e:.1f} docs/CPU-s (1 file), {b.documents / b.measured.cpu:.1f} "
                     f"(2-file shard); marginal {rate:.1f} docs/CPU-s ({per_doc * 1000:.2f} ms CPU/doc); "
                     f"fixed cost per `corpus materialize` {fixed:.1f} CPU-s")
        if peer_e2e:
            lines.append(f"  ratio end to end: {e2e:.1f} / {peer_e2e:.1f} = {e2e / peer_e2e:.1f}x (target >= 10x); "
                         f"marginal: {rate:.1f} / {peer_marg:.1f} = {rate / peer_marg:.1f}x vs the peer's marginal, "
                         f"{rate / peer_e2e:.1f}x vs its end to end (target >= 15x); vs the peer on distinct pages: "
                         f"{e2e / peer_distinct:.1f}x end to end, {rate / peer_distinct:.1f}x marginal")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default=str(DEFAULT_PEER_PYTHON),
                        help="python of the peer's venv (default benchmarks/peer/.venv, made by `make bench-peer-venv`)")
    parser.add_argument("--skip-peer", action="store_true", help="measure ours only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (input, warehouses, logs)")
    parser.add_argument("--scratch", help="scratch folder (default: a new temporary folder)")
    parser.add_argument("--records", type=int, default=3000, help="records per WARC file (default 3000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours per input and setting; the least CPU counts")
    parser.add_argument("--dagster-yaml", help="instance config for each fresh DAGSTER_HOME ($DAGSTER_HOME is replaced "
                        "by its path), to measure storage settings; default: an empty dagster.yaml as `corpus` makes")
    parser.add_argument("--before", help="a checkout of the code before a change (e.g. `git archive REV | tar -x -C DIR`): "
                        "its runs interleave with ours, labelled `before`, so both are measured under the same load")
    parser.add_argument("--peer-only", metavar="JSON", help="measure only the peer and save its runs to JSON (to run it "
                        "alongside a later `--peer-results JSON` run on a machine too loaded for one sequential run)")
    parser.add_argument("--peer-results", metavar="JSON", help="take the peer's runs from a --peer-only file instead of "
                        "running it again (the report says when they were measured)")
    parser.add_argument("--only-workers-1", action="store_true", help="skip the runs with the default worker count")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "end_to_end.txt"),
                        help="report file ('' for none)")
    args = parser.parse_args()

    peer_python = None if args.skip_peer else Path(args.peer_python)
    dagster_yaml = Path(args.dagster_yaml) if args.dagster_yaml else None
    if peer_python is not None and not peer_python.exists():
        print(f"peer venv not found at {peer_python}: run `make bench-peer-venv` to measure the peer; measuring ours only")
        peer_python = None
    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="bench_e2e_"))
    scratch.mkdir(parents=True, exist_ok=True)
    source = scratch / "source"
    started = datetime.now(timezone.utc)
    load_before = os.getloadavg()
    loads: list[float] = []
    stop_load = threading.Event()

    def sample_load() -> None:  # the 1-minute load average every 15 s, to report how loaded the machine was
        while not stop_load.wait(15):
            loads.append(os.getloadavg()[0])

    threading.Thread(target=sample_load, daemon=True).start()
    code_state = git_state()
    try:
        shutil.rmtree(source, ignore_errors=True)
        generate_source(source, args.records)
        ours: dict[str, tuple[Result, Result]] = {}
        settings = [] if args.peer_only else [1] if args.only_workers_1 else [1, None]
        for workers in settings:
            label = f"--workers {workers}" if workers else f"default workers ({os.cpu_count()})"
            codes = [("ours", REPO)] + ([("before", Path(args.before).resolve())] if args.before else [])
            for _, code in codes:  # as installed: pip compiles a package's bytecode (see the docstring)
                compileall.compile_dir(str(code / "corpus_assets"), quiet=1)
            runs: dict[str, tuple[list, list]] = {name: ([], []) for name, _ in codes}
            for attempt in range(1, args.repeat + 1):  # interleaved, so drifting load hits both inputs alike
                for name, code in codes:
                    runs[name][0].append(run_ours(source, ONE_FILE, 1, args.records, workers, scratch, attempt,
                                                  dagster_yaml, code, name))
                    runs[name][1].append(run_ours(source, TWO_FILES, 2, 2 * args.records, workers, scratch, attempt,
                                                  dagster_yaml, code, name))
            for name, _ in codes:
                ours[label if name == "ours" else f"{label}, code before the change ({args.before})"] = (
                    best_of(runs[name][0]), best_of(runs[name][1]))
        peer = None
        if args.peer_results:
            peer, peer_note = load_peer(Path(args.peer_results))
        elif peer_python is not None:
            peer_started = datetime.now(timezone.utc)
            peer = (run_peer(peer_python, source / "crawl-data" / ONE_FILE, f"peer-{ONE_FILE}", scratch),
                    run_peer(peer_python, source / "crawl-data" / TWO_FILES, f"peer-{TWO_FILES}", scratch),
                    run_peer(peer_python, SAMPLE / "crawl-data", "peer-sample-distinct-pages", scratch))
            if args.peer_only:
                save_peer(Path(args.peer_only), peer, peer_started, loads)
    finally:
        stop_load.set()
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    header_lines = [
        f"bench_end_to_end {started:%Y-%m-%dT%H:%MZ}: `python benchmarks/bench_end_to_end.py`"
        f"{' --skip-peer' if peer is None else ''}; code {code_state}",
        f"machine: {os.cpu_count()} cores ({platform.machine()}), shared; load average at start "
        f"{load_before[0]:.1f}, at end {os.getloadavg()[0]:.1f}, during the runs min {min(loads or [0]):.1f} / mean "
        f"{sum(loads) / max(len(loads), 1):.1f} / max {max(loads or [0]):.1f}; Python {platform.python_version()}",
        f"input: {ONE_FILE} = 1 WARC file of {args.records} response records; {TWO_FILES} = 2 files of "
        f"{args.records} as one 2-file shard (cycled sample responses, distinct hosts per copy)",
        "ours: `corpus materialize` (every asset and check, every phase, worker start-up), fresh warehouse and "
        f"Dagster instance per run{' (dagster.yaml: ' + args.dagster_yaml + ')' if dagster_yaml else ' (<warehouse>/_dagster, the project settings)'}; CPU = user+sys of the whole process tree (wait4); {args.repeat} runs per input and "
        "setting, interleaved, the one with the least CPU shown; the peer: one run per input",
    ]
    if args.peer_results:
        header_lines.append(peer_note)
    if args.peer_only:
        print(f"peer runs saved: {args.peer_only}")
        return
    text = report(ours, peer, header_lines)
    print("\n" + text, end="")
    if args.out:
        Path(args.out).write_text(text)
        print(f"written: {args.out}")


if __name__ == "__main__":
    main()
