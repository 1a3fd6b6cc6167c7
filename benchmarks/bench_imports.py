"""`corpus import` throughput: reading a JSON Lines / Parquet file into `documents` rows (parse, checks,
lid.176) on one core, and one `corpus import` end to end through Dagster (ingest, dedup, publish, summary,
worker start-up included) into a fresh warehouse.

Input: N records whose texts cycle through the bundled WikiText excerpt and synthetic Q&A (each record gets
its own id and a numbered first line, so no two texts are equal), plus 1 % bad lines of each kind.

    .venv/bin/python benchmarks/bench_imports.py [--records 20000] [--e2e-records 2000] [--out benchmarks/results/imports.txt]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from corpus_assets.core.imports.documents import iter_import_documents  # noqa: E402
from corpus_assets.core.imports.reader import ReadStats, iter_records  # noqa: E402
from corpus_assets.core.imports.staging import make_spec  # noqa: E402
from corpus_assets.core.ingest.documents import ShardStats  # noqa: E402
from corpus_assets.core.ingest.langid import LanguageIdentifier  # noqa: E402
from corpus_assets.core.package_data import bundled_synthetic_qa, package_path  # noqa: E402


def texts() -> list[str]:
    out = []
    for path in (package_path("data", "reference", "wikitext-2-valid-excerpt.jsonl"), bundled_synthetic_qa()):
        out += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    return out


def write_inputs(folder: Path, n: int) -> tuple[Path, Path, int]:
    pool = texts()
    records = [{"id": f"r{i}", "text": f"Record {i}.\n{pool[i % len(pool)]}"} for i in range(n)]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    bad = max(1, n // 100)
    lines += ['{"id": "x", "text": "cut'] * bad + [json.dumps({"id": f"e{i}", "text": " "}) for i in range(bad)]
    lines += [json.dumps({"id": "r0", "text": "again"})] * bad
    jsonl = folder / f"bench-{n}.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parquet = folder / f"bench-{n}.parquet"
    pq.write_table(pa.table({"id": [r["id"] for r in records], "text": [r["text"] for r in records]}), parquet)
    return jsonl, parquet, 3 * bad


def time_read(path: Path, langid: LanguageIdentifier | None) -> dict:
    spec = make_spec(path, "bench")
    stats, read = ShardStats(), ReadStats()
    started, cpu = time.perf_counter(), time.process_time()
    if langid is None:
        n = sum(1 for _ in iter_records(str(path), spec, read))
    else:
        n = sum(batch.num_rows for batch in iter_import_documents(str(path), spec, stats, read, langid))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    mb = path.stat().st_size / 1e6
    return {"documents": n, "skipped": sum(read.skips.values()), "cpu_s": cpu, "wall_s": wall,
            "docs_per_cpu_s": n / cpu, "mb_per_cpu_s": mb / cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--e2e-records", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "imports.txt")
    args = parser.parse_args()
    report = [f"# bench_imports.py --records {args.records} --e2e-records {args.e2e_records}  "
              f"({time.strftime('%Y-%m-%d')}, shared 2-core box, one run)"]
    langid = LanguageIdentifier()
    with tempfile.TemporaryDirectory() as tmp:
        jsonl, parquet, bad = write_inputs(Path(tmp), args.records)
        report.append(f"input: {args.records:,} records + {bad:,} bad lines; JSONL {jsonl.stat().st_size / 1e6:.1f} MB, "
                      f"Parquet {parquet.stat().st_size / 1e6:.1f} MB")
        for label, path, lid in (("JSONL read + checks", jsonl, None), ("JSONL -> documents rows (+ lid.176)", jsonl, langid),
                                 ("Parquet read + checks", parquet, None),
                                 ("Parquet -> documents rows (+ lid.176)", parquet, langid)):
            r = time_read(path, lid)
            report.append(f"{label:40s} {r['documents']:>7,} docs, {r['skipped']:>4} skipped  "
                          f"{r['cpu_s']:6.2f} CPU-s  {r['docs_per_cpu_s']:>9,.0f} docs/CPU-s  {r['mb_per_cpu_s']:6.1f} MB/CPU-s")
        small, _, _ = write_inputs(Path(tmp), args.e2e_records)
        from corpus_assets.cli import main as corpus

        warehouse = Path(tmp) / "warehouse"
        started = time.perf_counter()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = corpus(["import", str(small), "--source", "bench", "--warehouse", str(warehouse)])
        wall = time.perf_counter() - started
        summary = [line for line in out.getvalue().splitlines() if line.startswith(("records", "corpus:", "["))]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        report.append(f"corpus import, {args.e2e_records:,} records, fresh warehouse: exit {code}, {wall:.1f} s wall, "
                      f"children {children.ru_utime + children.ru_stime:.1f} CPU-s, peak RSS of a worker "
                      f"{children.ru_maxrss / 1024:.0f} MiB")
        report += [f"  {line}" for line in summary]
    text = "\n".join(report) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
