#!/usr/bin/env python
"""Mixture benchmark: build time and peak RSS, export throughput, token-count throughput.

Data, all made from the repository alone:

- **sample corpus**: every HTML page of the bundled `data/sample-crawl/` through the documents stage
  (charset, resiliparse, lid.176; ~200 pages) plus the 99 generated Q&A records of
  `data/synthetic/synthetic-qa.jsonl` tagged `synthetic` (~300 rows);
- **1M-row corpus**: those ~300 real texts cycled to `--rows` rows (default 1,000,000), each given
  its own first line (`[n]`) so no two rows are equal, written as a Delta table (zstd) under
  `--scratch` (default /tmp/bench-mixtures; reused when it is already there with the same rows).

Each phase runs in a fresh child process that reports its wall time, CPU time and peak RSS
(`VmHWM` of /proc/self/status, which includes the interpreter and imports):

1. build a mixture of the sample (spec `mixtures/web-en-zh-v1.yaml`);
2. build a 4-source + synthetic mixture of the 1M-row corpus (`--budget` approx tokens, default
   300M) with a cold token-count cache, then again with the cache warm;
3. export that mixture as Parquet and as JSON Lines (MB/s = bytes written / wall seconds);
4. count tokens: `approx` in DuckDB and in Python, and a byte-level BPE (`tokenizers`, vocab
   `--vocab`, trained here on the sample) over the first `--bpe-docs` texts of the 1M corpus.

Usage: python benchmarks/bench_mixtures.py [--rows 1000000] [--budget 300000000] [--scratch DIR]
                                           [--memory-limit 2GB] [--out benchmarks/results/mixtures.txt]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLE = REPO / "data" / "sample-crawl"
SYNTHETIC = REPO / "data" / "synthetic" / "synthetic-qa.jsonl"
BENCH_SPEC = {"name": "bench-1m", "seed": 1, "sources": [
    {"name": "web_de", "where": "lang = 'de'", "weight": 0.45},
    {"name": "web_en", "where": "lang = 'en'", "weight": 0.3},
    {"name": "web_zh", "where": "lang = 'zh'", "weight": 0.1, "max_epochs": 2},
    {"name": "web_other", "where": "lang NOT IN ('de', 'en', 'zh')", "weight": 0.1},
    {"name": "synth_qa", "where": "source = 'synthetic-qa'", "weight": 0.05, "synthetic": True, "max_share": 0.05}]}


def sample_rows() -> pl.DataFrame:
    """The sample corpus: crawled pages (documents stage) + the synthetic Q&A records."""
    from corpus_assets.core.ingest.documents import DocumentSettings, record_to_row
    from corpus_assets.core.ingest.langid import LanguageIdentifier
    from corpus_assets.core.ingest.shards import Shard
    from corpus_assets.core.ingest.warc_reader import iter_records

    langid, settings, rows = LanguageIdentifier(), DocumentSettings(), []
    for paths_file in sorted(SAMPLE.glob("crawl-data/*/warc.paths.gz")):
        for number, rel_path in enumerate(gzip.decompress(paths_file.read_bytes()).decode().split()):
            with open(SAMPLE / rel_path, "rb") as stream:
                for record in iter_records(stream):
                    row, _ = record_to_row(record, Shard(paths_file.parent.name, number, number), rel_path, settings,
                                           langid)
                    if row is not None:
                        rows.append({"doc_id": row["doc_id"], "url": row["url"], "title": row["title"],
                                     "lang": row["lang"], "text": row["text"], "source": "common-crawl",
                                     "synthetic": False})
    for line in SYNTHETIC.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        rows.append({"doc_id": hashlib.blake2b(record["id"].encode(), digest_size=16).hexdigest(), "url": None,
                     "title": record["title"], "lang": record["lang"], "text": record["text"],
                     "source": "synthetic-qa", "synthetic": True})
    return pl.DataFrame(rows).unique("doc_id", keep="first", maintain_order=True)


def write_delta(uri: str, batches, schema: pa.Schema) -> None:
    from deltalake import WriterProperties, write_deltalake

    write_deltalake(uri, pa.RecordBatchReader.from_batches(schema, batches), mode="overwrite",
                    writer_properties=WriterProperties(compression="ZSTD"))


def make_corpora(scratch: Path, n_rows: int) -> tuple[str, str]:
    """(sample corpus URI, 1M corpus URI), reusing the 1M table when it already has n_rows rows."""
    from deltalake import DeltaTable

    base = sample_rows().with_columns(n_chars=pl.col("text").str.len_chars().cast(pl.Int64))
    sample_uri = str(scratch / "sample" / "corpus")
    table = base.to_arrow()
    write_delta(sample_uri, table.to_batches(), table.schema)
    big_uri = str(scratch / f"rows-{n_rows}" / "corpus")
    marker = Path(big_uri) / "_delta_log"
    if marker.is_dir() and DeltaTable(big_uri).to_pyarrow_dataset().count_rows() == n_rows:
        return sample_uri, big_uri
    chunk = 20_000

    def batches():
        for start in range(0, n_rows, chunk):
            index = pl.int_range(start, min(start + chunk, n_rows), eager=True).alias("i")
            frame = (pl.DataFrame(index).with_columns(k=(pl.col("i") % base.height))
                     .join(base.with_row_index("k").with_columns(pl.col("k").cast(pl.Int64)), on="k")
                     .sort("i")
                     .with_columns(doc_id=pl.col("doc_id") + "-" + pl.col("i").cast(pl.String),
                                   text=pl.lit("[") + pl.col("i").cast(pl.String) + pl.lit("]\n") + pl.col("text"))
                     .with_columns(n_chars=pl.col("text").str.len_chars().cast(pl.Int64))
                     .select(base.columns))
            yield from frame.to_arrow().to_batches()

    write_delta(big_uri, batches(), table.schema)
    return sample_uri, big_uri


def child(args: list[str]) -> dict:
    """Run one phase in a fresh interpreter; returns its JSON report."""
    out = subprocess.run([sys.executable, __file__, "--phase", *args], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    if out.returncode:
        raise SystemExit(f"phase {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would carry the parent's high-water mark over fork+exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(extra: dict, started: float, cpu: float) -> None:
    peak_mib = peak_rss_mib()
    print(json.dumps({**extra, "seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
                      "peak_rss_mib": peak_mib}))


def phase(argv: list[str]) -> None:
    kind, *rest = argv
    started, cpu = time.perf_counter(), time.process_time()
    from corpus_assets.core.mixtures.build import build_mixture
    from corpus_assets.core.mixtures.export import export_mixture
    from corpus_assets.core.mixtures.inputs import open_corpus
    from corpus_assets.core.mixtures.spec import load_spec, parse_spec

    if kind == "baseline":
        report({}, started, cpu)
    elif kind == "build-sample":
        corpus_uri, memory_limit = rest
        result = build_mixture(load_spec(REPO / "mixtures" / "web-en-zh-v1.yaml"), open_corpus(corpus_uri, memory_limit=memory_limit))
        report({"rows": result.rows.height, "tokens": result.manifest["totals"]["tokens"]}, started, cpu)
    elif kind in ("build-1m", "export-1m"):
        corpus_uri, budget, cache, memory_limit, *export_args = rest
        spec = parse_spec({**BENCH_SPEC, "token_budget": int(budget)}, origin="bench-1m")
        corpus = open_corpus(corpus_uri, memory_limit=memory_limit)
        result = build_mixture(spec, corpus, token_cache_uri=cache)
        built = time.perf_counter()
        extra = {"rows": result.rows.height, "tokens": result.manifest["totals"]["tokens"],
                 "counted": result.token_counts["counted"], "cached": result.token_counts["cached"],
                 "max_share_error_pp": max(abs(s["share_error_pp"]) for s in result.manifest["stages"][0]["sources"])}
        if kind == "export-1m":
            out_dir, fmt = export_args
            exported = export_mixture(result.rows, corpus, spec, result.manifest, out_dir, fmt, shard_rows=50_000)
            extra.update(export_seconds=time.perf_counter() - built, export_bytes=exported.bytes,
                         export_files=len(exported.files))
            corpus.con.register("bench_rows", result.rows.select("doc_id"))
            extra["text_bytes"] = int(corpus.con.sql("SELECT sum(strlen(c.text)) FROM bench_rows r "
                                                     "JOIN corpus c USING (doc_id)").fetchone()[0])
        report(extra, started, cpu)
    elif kind == "count":
        corpus_uri, n_docs, bpe_docs, vocab, scratch = rest
        report(count_tokens(corpus_uri, int(n_docs), int(bpe_docs), int(vocab), Path(scratch)), started, cpu)


def count_tokens(corpus_uri: str, n_docs: int, bpe_docs: int, vocab: int, scratch: Path) -> dict:
    from corpus_assets.core.mixtures.inputs import open_corpus
    from corpus_assets.core.mixtures.tokens import HFTokenizer, approx_token_count, approx_tokens_sql, train_bpe_tokenizer

    con = open_corpus(corpus_uri).con
    con.execute(f"CREATE TABLE t AS SELECT text FROM corpus LIMIT {n_docs}")  # DuckDB storage: scanned in parallel
    texts = [t for (t,) in con.sql("SELECT text FROM t").fetchall()]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    figures = {"docs": len(texts), "megabytes": megabytes}
    start = time.perf_counter()
    figures["approx_sql_tokens"] = con.sql(f"SELECT sum({approx_tokens_sql('text')}) FROM t").fetchone()[0]
    figures["approx_sql_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    figures["approx_python_tokens"] = sum(approx_token_count(t) for t in texts)
    figures["approx_python_seconds"] = time.perf_counter() - start
    sample = sample_rows()["text"].to_list()
    start = time.perf_counter()
    tokenizer = HFTokenizer(train_bpe_tokenizer(sample, vocab, scratch / f"bpe-{vocab}.json"))
    figures["bpe_train_seconds"] = time.perf_counter() - start
    figures["bpe_vocab"] = tokenizer.vocab_size
    bpe_texts = texts[:bpe_docs]
    figures["bpe_docs"], figures["bpe_megabytes"] = len(bpe_texts), sum(len(t.encode()) for t in bpe_texts) / 1e6
    start = time.perf_counter()
    counts = []
    for i in range(0, len(bpe_texts), 1000):
        counts.extend(tokenizer.count(bpe_texts[i:i + 1000]))
    figures["bpe_seconds"] = time.perf_counter() - start
    figures["bpe_tokens"] = sum(counts)
    figures["bpe_approx_ratio"] = sum(counts) / sum(approx_token_count(t) for t in bpe_texts)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--budget", type=int, default=300_000_000)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/bench-mixtures"))
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit for builds and exports")
    parser.add_argument("--count-docs", type=int, default=50_000, help="texts for the approx token counts")
    parser.add_argument("--bpe-docs", type=int, default=3_000, help="texts for the BPE token counts")
    parser.add_argument("--vocab", type=int, default=16_000)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "mixtures.txt")
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    lines = [f"# bench_mixtures.py — {datetime.now(timezone.utc):%Y-%m-%dT%H:%MZ}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; `python benchmarks/bench_mixtures.py --rows {args.rows} "
             f"--budget {args.budget} --memory-limit {args.memory_limit}`"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    start = time.perf_counter()
    sample_uri, big_uri = make_corpora(args.scratch, args.rows)
    say(f"corpora ready in {time.perf_counter() - start:.0f}s: sample {sample_uri}, {args.rows:,} rows {big_uri} "
        f"({sum(f.stat().st_size for f in Path(big_uri).rglob('*.parquet')) / 1e9:.2f} GB zstd Parquet)")

    baseline = child(["baseline"])
    say(f"interpreter + imports (polars, duckdb, pyarrow, deltalake, pydantic): peak RSS {baseline['peak_rss_mib']:.0f} MiB "
        "(included in every peak RSS below)")
    sample = child(["build-sample", sample_uri, args.memory_limit])
    say(f"build, sample (web-en-zh-v1, {sample['rows']} rows, {sample['tokens']:,} tokens): {sample['seconds']:.2f}s wall, "
        f"{sample['cpu_seconds']:.2f}s CPU, peak RSS {sample['peak_rss_mib']:.0f} MiB")
    cache = str(args.scratch / f"token-counts-{args.rows}")
    if Path(cache).exists():
        import shutil

        shutil.rmtree(cache)
    for label in ("cold token cache", "warm token cache"):
        built = child(["build-1m", big_uri, str(args.budget), cache, args.memory_limit])
        say(f"build, {args.rows:,}-row corpus, {label} ({built['counted']:,} counted, {built['cached']:,} cached): "
            f"{built['rows']:,} rows, {built['tokens']:,} tokens, max share error {built['max_share_error_pp']:.3f} pp; "
            f"{built['seconds']:.1f}s wall, {built['cpu_seconds']:.1f}s CPU, peak RSS {built['peak_rss_mib']:.0f} MiB")
    for fmt in ("parquet", "jsonl"):
        exported = child(["export-1m", big_uri, str(args.budget), cache, args.memory_limit,
                          str(args.scratch / f"export-{fmt}"), fmt])
        megabytes, text = exported["export_bytes"] / 1e6, exported["text_bytes"] / 1e6
        say(f"export {fmt}: {exported['rows']:,} rows ({text:,.0f} MB of text) in {exported['export_seconds']:.1f}s = "
            f"{text / exported['export_seconds']:.1f} MB/s of text, {exported['rows'] / exported['export_seconds']:,.0f} "
            f"rows/s; wrote {exported['export_files']} shards, {megabytes:,.0f} MB "
            f"(peak RSS of build + export {exported['peak_rss_mib']:.0f} MiB)")
    counts = child(["count", big_uri, str(args.count_docs), str(args.bpe_docs), str(args.vocab), str(args.scratch)])
    mb = counts["megabytes"]
    say(f"token counts over {counts['docs']:,} texts ({mb:.0f} MB UTF-8):")
    say(f"  approx, DuckDB SQL ({os.cpu_count()} threads): {mb / counts['approx_sql_seconds']:8.1f} MB/s  "
        f"{counts['docs'] / counts['approx_sql_seconds']:10,.0f} docs/s  ({counts['approx_sql_tokens']:,} tokens)")
    say(f"  approx, Python (1 thread):  {mb / counts['approx_python_seconds']:8.1f} MB/s  "
        f"{counts['docs'] / counts['approx_python_seconds']:10,.0f} docs/s")
    say(f"  byte-level BPE {counts['bpe_vocab']:,} (tokenizers, trained on the sample in {counts['bpe_train_seconds']:.1f}s), "
        f"first {counts['bpe_docs']:,} texts ({counts['bpe_megabytes']:.0f} MB): "
        f"{counts['bpe_megabytes'] / counts['bpe_seconds']:.1f} MB/s, {counts['bpe_docs'] / counts['bpe_seconds']:,.0f} "
        f"docs/s, {counts['bpe_tokens'] / counts['bpe_seconds']:,.0f} tokens/s "
        f"(BPE tokens / approx tokens = {counts['bpe_approx_ratio']:.2f})")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        phase(sys.argv[2:])
    else:
        main()
