#!/usr/bin/env python
"""Fuzzy-dedup benchmark: corpus_assets MinHash + DuckDB clustering vs datasketch.

For each corpus size (default 10k and 100k docs; ``--with-1m`` adds 1M):

1. **Corpus** - generated deterministically (``--seed``) and chunk by chunk, so
   generation is memory-bounded: every *base* document is 8-30 sentences drawn
   from a pool of real sentences (articles_1000 + wikitext-2 valid); ~25% of the
   documents are *variants* of an earlier base document (anywhere in the corpus,
   so families span chunks) with 1-3% of the words randomly substituted or
   deleted.  Doc ids are 16 random-looking hex chars.  The family (base id) of
   every doc is kept as ground truth.
2. **Ours, signatures** - ``minhash_batch`` over 10k-doc chunks in a process
   pool (``--workers``); band keys are written to Parquet chunk by chunk.
   Throughput per core = docs / CPU seconds (``time.process_time``) inside
   ``minhash_batch`` - on a shared machine wall time would mostly measure the
   neighbours.  datasketch is measured the same way.
3. **Ours, clustering** - ``cluster_band_keys`` over the Parquet band index in a
   fresh subprocess with a fixed DuckDB ``--memory-limit``; the child reports its
   wall time and peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``).
4. **datasketch** - ``MinHash(num_perm=112).update_batch`` over word-5-gram
   shingles (same tokenisation idea: ``\\w+`` of the lower-cased text) and
   ``MinHashLSH(num_perm=112, params=(14, 8))`` insert + query + a dict
   union-find, single process, in a subprocess (peak RSS reported the same
   way).  Above ``--datasketch-max`` docs only its signature throughput is
   measured (on ``--datasketch-sample`` docs).
5. **Quality** - pair precision / recall of both clusterings against the
   generated families.

Reference run (this repo's 2-core / 24 GB dev box, shared with other jobs;
``--with-1m``, memory_limit=512MB, total ~6 min)::

    | docs      | ours sig/s/core | datasketch sig/s/core | speed-up | ours cluster s | ours peak RSS MB | datasketch LSH s | datasketch peak RSS MB | ours P / R    | datasketch P / R |
    | 10,000    | 9,965           | 1,122                 | 8.9x     | 0.4            | 211              | 0.6              | 232                    | 1.000 / 0.904 | 1.000 / 0.909    |
    | 100,000   | 10,779          | 1,018                 | 10.6x    | 0.7            | 317              | 8.1              | 884                    | 1.000 / 0.904 | 1.000 / 0.907    |
    | 1,000,000 | 10,841          | 1,122 (20k sample)    | 9.7x     | 8.1            | 409              | -                | -                      | 1.000 / 0.907 | -                |

(avg doc 2,890 chars / ~480 words; interpreter + imports = 122 MB of each RSS.
Recall < 1 for both because variant-vs-variant pairs of one family can fall
below the LSH threshold - each variant has up to 3% of its words changed.)

Usage::

    python benchmarks/bench_dedup.py                      # 10k + 100k
    python benchmarks/bench_dedup.py --with-1m            # + 1M (ours; datasketch sig/s only)
    python benchmarks/bench_dedup.py --sizes 2000 --datasketch-max 2000   # smoke test
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "tests" / "fixtures" / "neardup" / "articles_1000.train"
WIKITEXT = Path("/work/shared/data/reference/wikitext-2-valid.txt")
CHUNK = 10_000
VARIANT_PCT = 25
NUM_PERM, BANDS, ROWS = 112, 14, 8

_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


# --------------------------------------------------------------------------- corpus

_POOL: tuple[list[str], list[str]] | None = None


def sentence_pool() -> tuple[list[str], list[str]]:
    global _POOL
    if _POOL is None:
        texts = [line.split(" ", 1)[1] for line in ARTICLES.read_text().splitlines()]
        if WIKITEXT.exists():
            for line in WIKITEXT.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("="):
                    texts.append(line.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", "."))
        sentences = []
        for t in texts:
            for s in re.split(r"(?<=[.!?])\s+", t):
                if len(s.split()) >= 6:
                    sentences.append(s)
        vocab = sorted({w for s in sentences[:5000] for w in s.split()})
        _POOL = (sentences, vocab)
    return _POOL


def doc_id(seed: int, i: int) -> str:
    return f"{_mix((seed << 40) ^ i):016x}"


def is_variant(seed: int, i: int) -> bool:
    return i > 0 and _mix((seed << 41) ^ i ^ 0x5555) % 100 < VARIANT_PCT


def base_text(seed: int, i: int) -> str:
    sentences, _ = sentence_pool()
    r = random.Random((seed << 40) | i)
    return " ".join(sentences[r.randrange(len(sentences))] for _ in range(r.randint(8, 30)))


def make_doc(seed: int, i: int) -> tuple[str, str, str]:
    """(doc_id, text, family doc_id)."""
    if not is_variant(seed, i):
        return doc_id(seed, i), base_text(seed, i), doc_id(seed, i)
    r = random.Random((seed << 40) | i | (1 << 39))
    b = r.randrange(i)
    while is_variant(seed, b):
        b -= 1
    _, vocab = sentence_pool()
    rate = r.uniform(0.01, 0.03)
    out = []
    for w in base_text(seed, b).split():
        x = r.random()
        if x < rate / 2:
            continue
        out.append(vocab[r.randrange(len(vocab))] if x < rate else w)
    return doc_id(seed, i), " ".join(out), doc_id(seed, b)


def gen_chunk(seed: int, start: int, stop: int) -> tuple[list[str], list[str], list[str]]:
    ids, texts, fams = [], [], []
    for i in range(start, stop):
        d, t, f = make_doc(seed, i)
        ids.append(d)
        texts.append(t)
        fams.append(f)
    return ids, texts, fams


# --------------------------------------------------------------------------- ours: signatures


def _worker_init() -> None:
    from corpus_assets.core.dedup.minhash import MinHasher

    MinHasher().signature("warm up the code point tables please")  # one-off ~0.3 s table build
    sentence_pool()


def _ours_chunk(args) -> dict:
    import polars as pl

    from corpus_assets.core.dedup.minhash import minhash_batch

    seed, start, stop, bk_dir, fam_dir = args
    t0 = time.perf_counter()
    ids, texts, fams = gen_chunk(seed, start, stop)
    df = pl.DataFrame({"doc_id": ids, "text": texts, "lang": ["en"] * len(ids)})
    t1, c1 = time.perf_counter(), time.process_time()
    bk = minhash_batch(df)
    t2, c2 = time.perf_counter(), time.process_time()
    bk.write_parquet(Path(bk_dir) / f"part-{start:09d}.parquet")
    pl.DataFrame({"doc_id": ids, "family": fams}).write_parquet(Path(fam_dir) / f"part-{start:09d}.parquet")
    return {"docs": stop - start, "gen_s": t1 - t0, "sig_s": t2 - t1, "sig_cpu_s": c2 - c1, "chars": sum(map(len, texts))}


def ours_signatures(n: int, seed: int, workdir: Path, workers: int) -> dict:
    bk_dir, fam_dir = workdir / "band_keys", workdir / "families"
    for d in (bk_dir, fam_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    tasks = [(seed, s, min(n, s + CHUNK), str(bk_dir), str(fam_dir)) for s in range(0, n, CHUNK)]
    t0 = time.perf_counter()
    # spawn, not fork: forking a process whose Polars thread pool is already running can deadlock
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as ex:
        parts = list(ex.map(_ours_chunk, tasks))
    wall = time.perf_counter() - t0
    sig_cpu = sum(p["sig_cpu_s"] for p in parts)
    return {
        "docs": n,
        "sig_cpu_s": sig_cpu,
        "sig_worker_wall_s": sum(p["sig_s"] for p in parts),
        "gen_s": sum(p["gen_s"] for p in parts),
        "wall_s": wall,
        "sig_per_s_per_core": n / sig_cpu,
        "avg_chars": sum(p["chars"] for p in parts) / n,
        "bk_dir": str(bk_dir),
        "fam_dir": str(fam_dir),
    }


# --------------------------------------------------------------------------- subprocess bodies


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_cluster(a: argparse.Namespace) -> None:
    from corpus_assets.core.dedup.clustering import cluster_band_keys

    rss0 = _maxrss_mb()
    t0 = time.perf_counter()
    out = cluster_band_keys(
        a.bk_dir,
        memory_limit=a.memory_limit,
        temp_directory=a.tmp,
        threads=a.threads,
        output_path=a.out,
    )
    dt = time.perf_counter() - t0
    print(json.dumps({"cluster_s": dt, "maxrss_mb": _maxrss_mb(), "rss_after_import_mb": rss0, "out": str(out)}))


def child_datasketch(a: argparse.Namespace) -> None:
    import polars as pl
    from datasketch import MinHash, MinHashLSH

    rss0 = _maxrss_mb()
    word = re.compile(r"\w+")
    n = a.n
    do_lsh = not a.sig_only
    gen_s = sig_s = 0.0
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS)) if do_lsh else None
    sigs: dict[str, MinHash] = {}
    lsh_s = 0.0
    sentence_pool()
    for start in range(0, n, CHUNK):
        t0 = time.perf_counter()
        ids, texts, _ = gen_chunk(a.seed, start, min(n, start + CHUNK))
        t1 = time.perf_counter()
        c1 = time.process_time()
        ms = []
        for t in texts:
            w = word.findall(t.lower())
            m = MinHash(num_perm=NUM_PERM, seed=1)
            m.update_batch([" ".join(w[i : i + 5]).encode("utf-8") for i in range(len(w) - 4)])
            ms.append(m)
        t2 = time.perf_counter()
        gen_s += t1 - t0
        sig_s += time.process_time() - c1
        if do_lsh:
            with lsh.insertion_session() as session:
                for d, m in zip(ids, ms):
                    session.insert(d, m)
                    sigs[d] = m
            lsh_s += time.perf_counter() - t2
    result = {"docs": n, "sig_s": sig_s, "gen_s": gen_s, "sig_per_s": n / sig_s}
    if do_lsh:
        t0 = time.perf_counter()
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:
                parent[x], x = root, parent[x]
            return root

        for d, m in sigs.items():
            for c in lsh.query(m):
                if c != d:
                    ra, rb = find(d), find(c)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
        roots = {d: find(d) for d in parent}
        for r in set(roots.values()):
            roots.setdefault(r, r)
        lsh_s += time.perf_counter() - t0
        pl.DataFrame({"doc_id": list(roots), "cluster_id": list(roots.values())}).write_parquet(a.out)
        result.update({"lsh_s": lsh_s, "out": a.out})
    result.update({"maxrss_mb": _maxrss_mb(), "rss_after_import_mb": rss0})
    print(json.dumps(result))


def run_child(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - t0
    return out


# --------------------------------------------------------------------------- quality


def pair_quality(clusters_path: str, fam_dir: str) -> tuple[float, float]:
    import polars as pl

    c = pl.scan_parquet(clusters_path).select("doc_id", "cluster_id")
    f = pl.scan_parquet(str(Path(fam_dir) / "*.parquet"))
    pred = (
        c.join(c, on="cluster_id", suffix="_b").filter(pl.col("doc_id") < pl.col("doc_id_b")).select(a="doc_id", b="doc_id_b")
    )
    fam = f.join(f.group_by("family").len().filter(pl.col("len") > 1).select("family"), on="family")
    truth = (
        fam.join(fam, on="family", suffix="_b").filter(pl.col("doc_id") < pl.col("doc_id_b")).select(a="doc_id", b="doc_id_b")
    )
    n_pred = pred.select(pl.len()).collect().item()
    n_truth = truth.select(pl.len()).collect().item()
    tp = pred.join(truth, on=["a", "b"], how="semi").select(pl.len()).collect().item()
    return (tp / n_pred if n_pred else 1.0), (tp / n_truth if n_truth else 1.0)


# --------------------------------------------------------------------------- main


def bench_size(n: int, a: argparse.Namespace) -> dict:
    workdir = Path(a.out_dir) / f"n{n}"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"[{n:,} docs] generating + MinHash ({a.workers} workers) ...", flush=True)
    ours = ours_signatures(n, a.seed, workdir, a.workers)
    print(f"  ours: {ours['sig_per_s_per_core']:,.0f} sig/s/core, wall {ours['wall_s']:.1f}s", flush=True)
    tmp = workdir / "spill"
    out = workdir / "clusters_ours.parquet"
    cl = run_child(
        ["_cluster", "--bk-dir", ours["bk_dir"], "--out", str(out), "--memory-limit", a.memory_limit,
         "--threads", str(a.threads), "--tmp", str(tmp)],
        timeout=1800,
    )
    cl["precision"], cl["recall"] = pair_quality(str(out), ours["fam_dir"])
    print(f"  ours clustering: {cl['cluster_s']:.1f}s, peak RSS {cl['maxrss_mb']:.0f} MB, "
          f"P={cl['precision']:.3f} R={cl['recall']:.3f}", flush=True)
    res = {"docs": n, "ours_sig": ours, "ours_cluster": cl}
    if a.datasketch_max and n <= a.datasketch_max:
        dout = workdir / "clusters_datasketch.parquet"
        ds = run_child(["_datasketch", "--n", str(n), "--seed", str(a.seed), "--out", str(dout)], timeout=3600)
        ds["precision"], ds["recall"] = pair_quality(str(dout), ours["fam_dir"])
        print(f"  datasketch: {ds['sig_per_s']:,.0f} sig/s, LSH+clusters {ds['lsh_s']:.1f}s, "
              f"peak RSS {ds['maxrss_mb']:.0f} MB, P={ds['precision']:.3f} R={ds['recall']:.3f}", flush=True)
    else:
        k = min(n, a.datasketch_sample)
        ds = run_child(["_datasketch", "--n", str(k), "--seed", str(a.seed), "--out", "-", "--sig-only"], timeout=3600)
        ds["sampled_docs"] = k
        print(f"  datasketch (signatures only, {k:,} docs): {ds['sig_per_s']:,.0f} sig/s", flush=True)
    res["datasketch"] = ds
    if not a.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return res


def fmt_table(results: list[dict], a: argparse.Namespace) -> str:
    cols = [
        "docs", "ours sig/s/core", "datasketch sig/s/core", "speed-up", "ours MinHash wall s", "ours cluster s",
        "ours peak RSS MB",
        "datasketch LSH s", "datasketch peak RSS MB", "ours P / R", "datasketch P / R",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        o, c, d = r["ours_sig"], r["ours_cluster"], r["datasketch"]
        full = "lsh_s" in d
        row = [
            f"{r['docs']:,}",
            f"{o['sig_per_s_per_core']:,.0f}",
            f"{d['sig_per_s']:,.0f}" + ("" if full else f" ({d['sampled_docs']:,}-doc sample)"),
            f"{o['sig_per_s_per_core'] / d['sig_per_s']:.1f}x",
            f"{o['wall_s']:.0f}",
            f"{c['cluster_s']:.1f}",
            f"{c['maxrss_mb']:.0f}",
            f"{d['lsh_s']:.1f}" if full else "-",
            f"{d['maxrss_mb']:.0f}" if full else "-",
            f"{c['precision']:.3f} / {c['recall']:.3f}",
            f"{d['precision']:.3f} / {d['recall']:.3f}" if full else "-",
        ]
        lines.append("| " + " | ".join(row) + " |")
    note = (
        f"\nmemory_limit={a.memory_limit}, DuckDB threads={a.threads}, signature workers={a.workers}; "
        f"num_perm={NUM_PERM}, bands x rows={BANDS}x{ROWS}, word 5-grams; avg doc "
        f"{results[0]['ours_sig']['avg_chars']:,.0f} chars.  Peak RSS = the clustering child's ru_maxrss "
        f"(interpreter + imports alone: {results[0]['ours_cluster']['rss_after_import_mb']:.0f} MB ours, "
        f"{results[0]['datasketch']['rss_after_import_mb']:.0f} MB datasketch).  sig/s/core = docs / CPU seconds (process_time) spent hashing, so it is robust to other load; "
        f"'ours MinHash wall' = generation + MinHash + Parquet writes with {a.workers} processes."
    )
    return "\n".join(lines) + note


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_cluster", "_datasketch"):
        p = argparse.ArgumentParser()
        p.add_argument("mode")
        p.add_argument("--bk-dir")
        p.add_argument("--out")
        p.add_argument("--memory-limit")
        p.add_argument("--threads", type=int)
        p.add_argument("--tmp")
        p.add_argument("--n", type=int)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--sig-only", action="store_true")
        a = p.parse_args(argv)
        (child_cluster if a.mode == "_cluster" else child_datasketch)(a)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--with-1m", action="store_true", help="also run 1,000,000 docs")
    p.add_argument("--memory-limit", default="512MB", help="DuckDB memory_limit for clustering (fixed across sizes)")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for our signatures")
    p.add_argument("--datasketch-max", type=int, default=100_000, help="largest size with full datasketch LSH run")
    p.add_argument("--datasketch-sample", type=int, default=20_000, help="docs for datasketch sig/s above that")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="/tmp/bench_dedup")
    p.add_argument("--keep", action="store_true", help="keep generated band keys / clusters")
    p.add_argument("--json", help="also write results as JSON here")
    a = p.parse_args(argv)
    sizes = list(a.sizes) + ([1_000_000] if a.with_1m and 1_000_000 not in a.sizes else [])
    results = [bench_size(n, a) for n in sizes]
    print()
    print(fmt_table(results, a))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
