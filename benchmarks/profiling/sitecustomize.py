"""A per-thread CPU sampling profiler that starts in every Python process of a run (for
`benchmarks/profile_end_to_end.py`); inactive unless $CORPUS_CPU_PROFILE_DIR is set.

Put this folder first on PYTHONPATH: Python imports `sitecustomize` at start-up, and the processes a run
spawns (the worker pool, Dagster's helpers) inherit the environment, so each one profiles itself.

A daemon thread wakes every $CORPUS_CPU_PROFILE_INTERVAL seconds (default 0.005), reads the CPU time of
every thread of the process (/proc/self/task/*/schedstat, ns) and charges each thread's CPU since the last
sample to that thread's current Python stack (`sys._current_frames`). CPU of threads that have no known
Python stack (Polars/rayon, delta-rs/tokio, DuckDB workers, or a foreign thread that runs a Python
generator for a native writer) is charged to the Python stacks of the unknown threads when there are
any (that is the generator a native writer pulls), otherwise to the main thread's stack (the Python call
waiting for the native work). So the profile sums to the process's CPU (getrusage), not its wall time.
CPU before this module runs is one "<interpreter start>" entry; the sampler's own CPU is "<profiler>".
At exit each process writes `<pid>.stacks`: a header line, then `frame;frame;... <CPU seconds>` lines.
"""
import os

_DIR = os.environ.get("CORPUS_CPU_PROFILE_DIR")

if _DIR:
    import atexit
    import resource
    import sys
    import threading
    from collections import Counter

    _INTERVAL = float(os.environ.get("CORPUS_CPU_PROFILE_INTERVAL", "0.005"))
    # frames labelled with one argument: which table a check validates, which job a run executes
    _LABELS = {"validate_table": "table", "validate_frame": "table", "run_custom_checks": "table",
               "run_partition": "job_name", "_check": "table"}

    def _process_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def _thread_cpu() -> dict[int, float]:
        out = {}
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/schedstat", "rb") as f:
                    out[int(tid)] = int(f.read().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                continue
        return out

    def _frame_name(frame) -> str:
        code = frame.f_code
        name = f"{code.co_qualname} ({code.co_filename})"
        label = _LABELS.get(code.co_name)
        if label is not None:
            value = frame.f_locals.get(label)
            if value is not None:
                name += f" [{label}={value}]"
        return name

    def _stack(frame) -> str:
        parts = []
        while frame is not None:
            parts.append(_frame_name(frame))
            frame = frame.f_back
        return ";".join(reversed(parts))

    class _Sampler(threading.Thread):
        def __init__(self) -> None:
            super().__init__(name="corpus-cpu-profiler", daemon=True)
            self.stacks: Counter = Counter()
            self.lock = threading.Lock()
            self.halt = threading.Event()
            self.main_ident = threading.main_thread().ident
            self.last_threads = _thread_cpu()
            self.last_total = _process_cpu()
            self.stacks["<interpreter start>"] = self.last_total

        def sample(self) -> None:
            with self.lock:
                frames = sys._current_frames()
                threads = _thread_cpu()
                total = _process_cpu()
                own = threading.get_native_id()
                known = {t.native_id: t.ident for t in threading.enumerate() if t.native_id is not None}
                foreign = [ident for ident in frames if ident not in known.values()]
                unmapped = 0.0
                covered = 0.0
                for tid, cpu in threads.items():
                    delta = max(0.0, cpu - self.last_threads.get(tid, 0.0))
                    covered += delta
                    if delta == 0.0:
                        continue
                    ident = known.get(tid)
                    if tid == own:
                        self.stacks["<profiler>"] += delta
                    elif ident is not None and ident in frames:
                        self.stacks[_stack(frames[ident])] += delta
                    else:
                        unmapped += delta
                # CPU of threads that ended since the last sample is in the process total only
                unmapped += max(0.0, (total - self.last_total) - covered)
                if unmapped:
                    targets = [frames[i] for i in foreign] or [frames.get(self.main_ident)]
                    for frame in targets:
                        self.stacks[_stack(frame) if frame is not None else "<no python stack>"] += unmapped / len(targets)
                self.last_threads, self.last_total = threads, total

        def run(self) -> None:
            while not self.halt.wait(_INTERVAL):
                self.sample()

    _sampler = _Sampler()
    _sampler.start()

    def _dump() -> None:
        _sampler.halt.set()
        _sampler.sample()
        command = " ".join(sys.argv)[:300].replace("\n", " ")
        with open(os.path.join(_DIR, f"{os.getpid()}.stacks"), "w") as out:
            out.write(f"# pid {os.getpid()} ppid {os.getppid()} cpu {_process_cpu():.6f} argv {command}\n")
            for stack, seconds in _sampler.stacks.most_common():
                out.write(f"{stack} {seconds:.6f}\n")

    atexit.register(_dump)
