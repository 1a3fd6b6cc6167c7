#!/usr/bin/env python
"""Near-duplicate recall on realistic variants (issue 16): before vs after, side by side in one run.

The crawl: `tests/neardup_variants.py` publishes each source article (English news, Chinese and Japanese
Debian Handbook pages) on a news host and as four variants on other hosts (appended paragraphs, a
deleted paragraph, a corrected re-publication with ~2 % of words changed, the identical text inside a
portal's template with an about block and related links in the main content), over `--shards` shards;
portals also carry distinct articles in their template. The pages are extracted with the pipeline's
own extractor (resiliparse). `--background` unrelated documents (random mixtures of real news and
Wikipedia sentences, as in bench_dedup.py, on their own hosts) are added, so that candidate pairs and
false merges of ordinary documents are measured too.

Settings compared on the same documents:
  before     14 bands x 8 rows, boilerplate counted per host within a shard, every LSH candidate merged
  permissive 28 bands x 4 rows + verification (estimated Jaccard >= 0.5), boilerplate still per shard
  after      28 x 4 + verification, boilerplate counted per host across all shards, link-like lines skipped

Reported: pair recall over pairs whose article texts have word-5-gram (CJK: character-5-gram) Jaccard
>= 0.6, by variant kind, language and Jaccard band; pair precision; LSH candidate pairs (distinct doc
pairs sharing a band) per 1M documents (a linear extrapolation of this run's candidates per document);
MinHash signatures per CPU-second (boilerplate removal included) and clustering wall time (verification
included).

Usage: python benchmarks/bench_neardup_recall.py [--english 150 --cjk 20 --shards 40 --background 20000]
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

from corpus_assets.core.dedup.boilerplate import minhash_text  # noqa: E402
from corpus_assets.core.dedup.clustering import cluster_band_keys  # noqa: E402
from corpus_assets.core.dedup.minhash import MinHasher, minhash_tables  # noqa: E402
from corpus_assets.core.dedup.text import boilerplate_line_hashes, remove_boilerplate_df  # noqa: E402
from corpus_assets.core.ingest.extract import extract_main_text  # noqa: E402
from neardup_variants import evaluate, page_html, portal_headlines, truth_pairs, variant_pages  # noqa: E402

SETTINGS = {
    "before": dict(bands=14, rows=8, crawl_wide=False, link_lines=False, threshold=None),
    "permissive": dict(bands=28, rows=4, crawl_wide=False, link_lines=False, threshold=0.5),
    "after": dict(bands=28, rows=4, crawl_wide=True, link_lines=True, threshold=0.5),
}


def documents(a) -> tuple[pl.DataFrame, list, dict]:
    pages = variant_pages(n_english=a.english, n_cjk=a.cjk, n_shards=a.shards, n_portals=a.portals,
                          distinct_per_portal=a.distinct, seed=a.seed)
    headlines = portal_headlines(pages)
    rows = []
    for p in pages:
        _, text = extract_main_text(page_html(p, headlines).decode(), "resiliparse")
        rows.append((p.url, p.host, f"{p.shard:05d}", text or "", p.lang))
    if a.background:
        from bench_dedup import base_text
        rows += [(f"https://bg{i % 5000}.example/{i}", f"bg{i % 5000}.example", f"{i % a.shards:05d}",
                  base_text(a.seed + 1, i), "en") for i in range(a.background)]
    frame = pl.DataFrame(rows, schema=["doc_id", "url_host", "shard", "text", "lang"], orient="row")
    return frame, pages, truth_pairs(pages)


def candidate_pairs(band_keys: pl.DataFrame) -> int:
    con = duckdb.connect()
    con.register("bk", band_keys.to_arrow())
    return con.execute("""SELECT count(*) FROM (SELECT DISTINCT a.doc_id, b.doc_id FROM bk a JOIN bk b
                          ON a.band_key = b.band_key AND a.doc_id < b.doc_id)""").fetchone()[0]


def run(setting: str, docs: pl.DataFrame, pages, truth) -> dict:
    s = SETTINGS[setting]
    hasher = MinHasher(num_perm=112, bands=s["bands"], rows=s["rows"])
    cpu = time.process_time()
    if s["crawl_wide"]:
        common = boilerplate_line_hashes(docs, 3)
        by_host = {h: frozenset(v) for h, v in common.group_by("url_host").agg("line_hash").iter_rows()}
        empty: frozenset = frozenset()
        texts = [minhash_text(t, by_host.get(h, empty))[0] if s["link_lines"] else t
                 for h, t in zip(docs["url_host"].to_list(), docs["text"].to_list())]
        cleaned = docs.with_columns(pl.Series("text", texts, dtype=pl.String))
    else:  # what dedup_signatures did: lines counted per host inside one shard
        cleaned = pl.concat([remove_boilerplate_df(part, boilerplate_line_hashes(part, 3)).drop("n_boilerplate_lines")
                             for _, part in docs.group_by("shard", maintain_order=True)])
    tables = minhash_tables(cleaned.select("doc_id", "text", "lang"), hasher)
    sig_cpu = time.process_time() - cpu
    started = time.perf_counter()
    verify = s["threshold"] is not None
    clusters = cluster_band_keys(tables.band_keys, memory_limit="1GB", threshold=s["threshold"],
                                 signatures=tables.docs.select("doc_id", "signature") if verify else None)
    cluster_s = time.perf_counter() - started
    found = {tuple(sorted(pair)) for ids in clusters.group_by("cluster_id").agg("doc_id")["doc_id"]
             for pair in itertools.combinations(ids, 2)}
    report = evaluate(found, pages, truth)
    background_pairs = sum(1 for x, y in found if "//bg" in x or "//bg" in y)
    candidates = candidate_pairs(tables.band_keys)
    return {"setting": setting, **report, "background_pairs_merged": background_pairs,
            "candidates_per_1M_docs": candidates / docs.height * 1e6, "candidates": candidates,
            "sig_per_cpu_s": docs.height / sig_cpu, "cluster_s": cluster_s}


def table(results: list[dict], docs: pl.DataFrame, a) -> str:
    names = [r["setting"] for r in results]
    keys = sorted({k for r in results for k in r["recall_by"]})
    out = [f"documents: {docs.height:,} ({docs.height - a.background:,} variant-crawl pages over {a.shards} shards, "
           f"{a.background:,} background); truth pairs (Jaccard >= 0.6): {results[0]['truth_pairs']}", "",
           "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    out.append("| **pair recall (J >= 0.6)** | " + " | ".join(f"**{r['recall']:.3f}**" for r in results) + " |")
    out.append("| **pair precision** | " + " | ".join(f"**{r['precision']:.3f}**" for r in results) + " |")
    for k in keys:
        n = results[0]["recall_by"][k][1]
        out.append(f"| recall {k} (n={n}) | " + " | ".join(f"{r['recall_by'][k][0]:.3f}" for r in results) + " |")
    out.append("| pairs found | " + " | ".join(f"{r['pairs_found']:,}" for r in results) + " |")
    out.append("| background pairs merged | " + " | ".join(str(r["background_pairs_merged"]) for r in results) + " |")
    out.append("| LSH candidate pairs per 1M docs | " + " | ".join(f"{r['candidates_per_1M_docs']:,.0f}" for r in results) + " |")
    out.append("| signatures per CPU-second | " + " | ".join(f"{r['sig_per_cpu_s']:,.0f}" for r in results) + " |")
    out.append("| clustering + verification, wall s | " + " | ".join(f"{r['cluster_s']:.2f}" for r in results) + " |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--english", type=int, default=150, help="English sources (of 295; the rest are fillers)")
    p.add_argument("--cjk", type=int, default=20, help="CJK source articles (half zh, half ja; 20 in the fixture)")
    p.add_argument("--shards", type=int, default=40)
    p.add_argument("--portals", type=int, default=15)
    p.add_argument("--distinct", type=int, default=4, help="distinct English articles per portal")
    p.add_argument("--background", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(REPO / "benchmarks/results/neardup_recall.md"))
    a = p.parse_args()
    docs, pages, truth = documents(a)
    results = [run(name, docs, pages, truth) for name in SETTINGS]
    text = table(results, docs, a)
    for r in results:
        if r["false_pairs"]:
            text += f"\n\n{r['setting']}: first false pairs {r['false_pairs'][:3]}"
    print(text)
    Path(a.out).write_text(f"# Near-duplicate recall: before vs after\n\n`{' '.join(['python'] + sys.argv)}`\n\n{text}\n")


if __name__ == "__main__":
    main()
