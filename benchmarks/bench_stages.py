"""Per-stage throughput of the shard pipeline on one core, the peer side by side, and a decisions report.

    python benchmarks/bench_stages.py [--source DIR] [--crawl ID] [--config configs/filters.yaml]
                                      [--peer] [--peer-python PATH] [--batch-rows 2000]
                                      [--out benchmarks/results/stages.txt]
                                      [--spotcheck benchmarks/results/zh_spotcheck.md]

One process, Polars pinned to one thread, so every figure is per core. Over all WARC files of the
crawl (default: CC-SAMPLE-2026-03 of the bundled sample crawl):

  documents   iter_shard_documents (WARC read, charset, resiliparse extraction, fastText lid.176),
              all files as one shard, record batches of 2,000 rows as the asset writes them
  signals     stages.signals_frame (quality signals, PII counts, safety tags) per 2,000-doc batch
  decide      decisions.decide with configs/filters.yaml per batch
  corpus      stages.corpus_frame (PII masking) of the kept documents of each batch
              (no boilerplate removal / text hashes here: those come from the dedup assets)

Each stage is timed in wall time and in CPU time (time.process_time): the machine is shared, so
docs per CPU-second is the per-core figure to trust; wall time is printed alongside. One-time
set-up (fastText model, block/word lists, jieba dictionary) is timed separately and excluded.
Delta reads/writes are not included (see bench_pipeline.py for the Dagster end-to-end figure).

--peer runs the datatrove FineWeb pipeline (/work/shared/bench/peer_datatrove_fineweb.py, in the
peer venv) once over the same files, parses its records/s (wall, one worker) and measures its CPU
time (getrusage of the child processes), and prints ours / peer.

Then: kept share per language (languages with >= 5 docs), the top 10 drop reasons (a document
counts under each of its reasons), and a spot-check file with 20 dropped and 20 kept Chinese
documents (url, reasons, key signals, first ~400 characters) for a human to read, with a what-if table
of candidate `languages: zh:` overrides (WHATIF_ZH: which zh documents each one flips). A verdict written
above the `<!-- GENERATED -->` line of that file is kept when the file is regenerated.
Everything printed also goes to --out.
"""
from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # per-core figures; must precede the polars import

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_assets.core.ingest.ccsource import CrawlSource  # noqa: E402
from corpus_assets.core.quality.decisions import decide  # noqa: E402
from corpus_assets.core.ingest.documents import DocumentSettings, ShardStats, iter_shard_documents  # noqa: E402
from corpus_assets.core.quality.filter_config import config_hash, load_filter_config, parse_filter_config  # noqa: E402
from corpus_assets.core.ingest.langid import LanguageIdentifier  # noqa: E402
from corpus_assets.core.safety.badwords import BadWords  # noqa: E402
from corpus_assets.core.safety.blocklist import UrlBlocklist  # noqa: E402
from corpus_assets.core.ingest.shards import Shard  # noqa: E402
from corpus_assets.core.corpus.corpus_table import corpus_frame  # noqa: E402
from corpus_assets.core.quality.signals_table import SIGNALS_INPUT, signals_frame  # noqa: E402

DEFAULT_SOURCE = str(Path(__file__).resolve().parents[1] / "data" / "sample-crawl")
DEFAULT_PEER_PYTHON = str(REPO / "benchmarks" / "peer" / ".venv" / "bin" / "python")  # make bench-peer-venv
PEER_SCRIPT = REPO / "benchmarks" / "peer" / "peer_datatrove_fineweb.py"
CORPUS_SOURCE_COLUMNS = ["doc_id", "crawl", "shard", "url", "url_host", "fetch_time", "warc_path",
                         "warc_record_offset", "warc_record_length", "title", "text", "lang", "lang_score"]
SPOT_SIGNALS = ["gopher_word_count", "fineweb_dup_line_char_frac", "fineweb_line_punct_frac",
                "fineweb_short_line_frac"]
# Candidate `languages: zh:` overrides whose effect the spot-check reports (config file untouched).
WHATIF_ZH: dict[str, dict] = {
    "fineweb_dup_line_char_frac: 0.01 (FineWeb default)": {"fineweb_dup_line_char_frac": 0.01},
    "fineweb_dup_line_char_frac: 0.02": {"fineweb_dup_line_char_frac": 0.02},
    "fineweb_dup_line_char_frac: 0.03": {"fineweb_dup_line_char_frac": 0.03},
    "fineweb_dup_line_char_frac: 0.05": {"fineweb_dup_line_char_frac": 0.05},
    "fineweb_dup_line_char_frac: 0.025": {"fineweb_dup_line_char_frac": 0.025},
    "c4_curly_bracket: false": {"c4_curly_bracket": False},
    "gopher_min_mean_word_length: 1.3": {"gopher_min_mean_word_length": 1.3},
    "min_lang_score: 0.5": {"min_lang_score": 0.5},
    "fineweb_line_punct_frac: null (rule off)": {"fineweb_line_punct_frac": None},
    "fineweb_short_line_frac: 0.67 (FineWeb default)": {"fineweb_short_line_frac": 0.67},
    "dup_line_char 0.03 + curly false": {"fineweb_dup_line_char_frac": 0.03, "c4_curly_bracket": False},
    "c4_curly_bracket: false + min_lang_score: 0.5": {"c4_curly_bracket": False, "min_lang_score": 0.5},
}
SPOT_EXTRA = ["gopher_mean_word_length", "gopher_alpha_word_frac", "gopher_dup_line_frac", "c4_sentence_count",
              "fineweb_newline_word_ratio", "lang_score"]


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


class Clock:
    """Accumulates wall and CPU seconds over `with clock:` blocks."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall += time.perf_counter() - self._w
        self.cpu += time.process_time() - self._c


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate_line(label: str, n: int, clock: Clock, unit: str = "docs") -> str:
    return (f"{label:34s} {n:6d} {unit}  wall {clock.wall:7.2f}s {n / max(clock.wall, 1e-9):8.1f} {unit}/s   "
            f"CPU {clock.cpu:7.2f}s {n / max(clock.cpu, 1e-9):8.1f} {unit}/CPU-s   "
            f"{1000 * clock.cpu / max(n, 1):7.3f} ms CPU/doc")


# Runs the peer as its child and reports the peer's own CPU time and peak RSS: measured from this
# small launcher because a child forked from the benchmark process inherits its RSS high-water mark.
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(f'PEER_RUSAGE cpu={r.ru_utime + r.ru_stime:.3f} maxrss_kib={r.ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_peer(peer_python: str, crawl_dir: Path) -> dict:
    import gzip

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, peer_python, str(PEER_SCRIPT), str(crawl_dir), tmp],
                              capture_output=True, text=True, cwd=PEER_SCRIPT.parent)
        wall = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"the peer failed ({proc.returncode}): {proc.stderr[-2000:]}")
        kept = 0
        for path in Path(tmp, "output").glob("*"):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as fh:
                kept += sum(1 for _ in fh)
    match = re.search(r"records=(\d+) seconds=([\d.]+) records_per_s=([\d.]+)", proc.stdout)
    usage = re.search(r"PEER_RUSAGE cpu=([\d.]+) maxrss_kib=(\d+)", proc.stderr)
    if not match or not usage:
        raise SystemExit(f"could not parse the peer's output: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    return {"records": int(match.group(1)), "seconds": float(match.group(2)), "records_per_s": float(match.group(3)),
            "line": match.group(0), "wall_incl_startup": wall, "cpu": float(usage.group(1)), "kept": kept,
            "peak_rss_mib": int(usage.group(2)) / 1024, "stats": proc.stderr}


def spotcheck(frame: pl.DataFrame, lang: str, n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    zh = frame.filter(pl.col("lang") == lang).sort("doc_id")  # doc_id = hash: a stable pseudo-random order
    return zh.filter(~pl.col("keep")).head(n), zh.filter(pl.col("keep")).head(n)


def spot_rows(df: pl.DataFrame) -> list[str]:
    out = []
    for i, row in enumerate(df.iter_rows(named=True), 1):
        head = row["text"][:400].replace("\n", " ⏎ ")
        sig = ", ".join(f"{k.removeprefix('gopher_').removeprefix('fineweb_')}={row[k]:.3g}"
                        for k in SPOT_SIGNALS + SPOT_EXTRA)
        lines = [ln for ln in row["text"].splitlines() if ln.strip()]
        out += [f"### {i}. {row['url']}", "",
                f"- drop_reasons: {', '.join(row['drop_reasons']) or '(kept)'}",
                f"- signals: {sig}",
                f"- n_chars={row['n_chars']}, non-empty lines={len(lines)}",
                "", "```text", head, "```", ""]
    return out


def whatif_zh(config_path: str, signals: pl.DataFrame, frame: pl.DataFrame, spot_n: int) -> list[str]:
    """Markdown lines: for each WHATIF_ZH override, zh documents whose verdict flips."""
    import yaml

    raw = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    zh_ids = frame.filter(pl.col("lang") == "zh").sort("doc_id")
    spot = {doc: i for i, doc in enumerate(zh_ids.filter(~pl.col("keep")).head(spot_n)["doc_id"], 1)}
    before = dict(zh_ids.select("doc_id", "keep").iter_rows())
    urls = dict(zh_ids.select("doc_id", "url").iter_rows())
    zh_signals = signals.filter(pl.col("lang") == "zh")
    out = [f"Baseline: {sum(before.values())} of {len(before)} zh documents kept. `#n` = number in the Dropped "
           f"list below.", "", "| override (zh only) | zh kept | dropped→kept (spot-check #) | other zh flips | "
           "kept→dropped |", "|---|---|---|---|---|"]
    for name, override in WHATIF_ZH.items():
        cfg_raw = {**raw, "languages": {**(raw.get("languages") or {})}}
        cfg_raw["languages"]["zh"] = {**(cfg_raw["languages"].get("zh") or {}), **override}
        after = dict(decide(zh_signals, parse_filter_config(cfg_raw, "what-if")).select("doc_id", "keep").iter_rows())
        up = [d for d in before if after[d] and not before[d]]
        down = [d for d in before if before[d] and not after[d]]
        in_spot = sorted(spot[d] for d in up if d in spot)
        others = [urls[d] for d in up if d not in spot]
        out.append(f"| `{name}` | {sum(after.values())} | {len(in_spot)}: "
                   f"{', '.join(f'#{i}' for i in in_spot) or '-'} | {len(others)}"
                   f"{': ' + ', '.join(u.split('//', 1)[-1][:60] for u in others) if others else ''} | "
                   f"{len(down)}{': ' + ', '.join(urls[d].split('//', 1)[-1][:60] for d in down) if down else ''} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    ap.add_argument("--crawl", default="CC-SAMPLE-2026-03")
    ap.add_argument("--config", default=str(REPO / "configs" / "filters.yaml"))
    ap.add_argument("--batch-rows", type=int, default=2000)
    ap.add_argument("--peer", action="store_true", help="also run the datatrove FineWeb peer once")
    ap.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "stages.txt"))
    ap.add_argument("--spotcheck", default=str(REPO / "benchmarks" / "results" / "zh_spotcheck.md"),
                    help="where to write the zh spot-check ('' to skip)")
    ap.add_argument("--spot-n", type=int, default=20)
    args = ap.parse_args()
    if not Path(args.source).is_dir():
        raise SystemExit(f"bench_stages: no crawl source at {args.source}; pass --source DIR "
                         "(the bundled sample: --source data/sample-crawl)")
    if args.peer and not Path(args.peer_python).exists():
        raise SystemExit(f"bench_stages: no peer venv at {args.peer_python}; run `make bench-peer-venv` or pass --peer-python")
    say = Report()

    source = CrawlSource(args.source)
    files = source.list_files(args.crawl)
    cfg = load_filter_config(args.config)
    say(f"bench_stages {date.today().isoformat()}: crawl {args.crawl}, {len(files)} WARC files from {args.source}; "
        f"{os.cpu_count()} cores (shared), one process, POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']}; "
        f"filter config {cfg.version} ({config_hash(cfg)})")

    # ---- one-time set-up (not counted) -------------------------------------------------
    setup = Clock()
    with setup:
        langid = LanguageIdentifier()
        langid.predict("warm up the model")
        blocklist, badwords = UrlBlocklist.default(), BadWords.load(None)
        warm = pl.DataFrame({"doc_id": ["w1", "w2"], "crawl": ["c", "c"], "shard": ["s", "s"],
                             "url": ["http://a.example/", "http://b.example/"], "url_host": ["a.example", "b.example"],
                             "text": ["中文的句子。这是第二句。", "An English sentence. Another one, mail a@b.org."],
                             "lang": ["zh", "en"], "lang_score": [1.0, 1.0], "n_chars": [12, 46]})
        decide(signals_frame(warm, blocklist, badwords), cfg)  # jieba dictionary, regex caches
        corpus_frame(warm)
    say(f"one-time set-up (fastText model, block/word lists, jieba dictionary; not counted): "
        f"wall {setup.wall:.2f}s, CPU {setup.cpu:.2f}s")

    # ---- documents -----------------------------------------------------------------------
    stats = ShardStats()
    t_docs = Clock()
    batches: list[pa.RecordBatch] = []
    with t_docs:
        for batch in iter_shard_documents(source, Shard(args.crawl, 0, len(files) - 1), files,
                                          DocumentSettings(batch_rows=args.batch_rows), stats, langid,
                                          progress=lambda m: None):
            batches.append(batch)
    t_frame = Clock()
    with t_frame:
        docs = pl.from_arrow(pa.Table.from_batches(batches))
    html_records = stats.records_read - stats.skips.get("http_status", 0) - stats.skips.get("not_html", 0)
    n = docs.height
    say(f"records read {stats.records_read}, HTTP-200 HTML responses {html_records}, documents {n}; "
        f"skips {dict(stats.skips)}; {docs['n_chars'].mean():.0f} chars/doc")

    # ---- signals / decide / corpus in batches like the assets -------------------------------
    t_sig, t_dec, t_cor = Clock(), Clock(), Clock()
    sig_parts, dec_parts = [], []
    kept_docs = 0
    for offset in range(0, n, args.batch_rows):
        part = docs.slice(offset, args.batch_rows)
        with t_sig:
            sig = signals_frame(part.select(SIGNALS_INPUT), blocklist, badwords)
        with t_dec:
            dec = decide(sig, cfg)
        kept_ids = dec.filter("keep")["doc_id"]
        kept = part.filter(pl.col("doc_id").is_in(kept_ids.implode())).select(CORPUS_SOURCE_COLUMNS)
        with t_cor:
            out = corpus_frame(kept)
        kept_docs += out.height
        sig_parts.append(sig)
        dec_parts.append(dec)
    signals = pl.concat(sig_parts)
    decisions = pl.concat(dec_parts)

    both = Clock()
    both.wall = t_sig.wall + t_dec.wall + t_cor.wall
    both.cpu = t_sig.cpu + t_dec.cpu + t_cor.cpu
    full = Clock()
    full.wall = t_docs.wall + t_frame.wall + both.wall
    full.cpu = t_docs.cpu + t_frame.cpu + both.cpu
    say()
    say("per stage (one core):")
    say(rate_line("documents (WARC→text→lang)", n, t_docs))
    say(rate_line("  arrow → polars frame", n, t_frame))
    say(rate_line("signals_frame (quality+PII+safety)", n, t_sig))
    say(rate_line("decide", n, t_dec))
    say(rate_line(f"corpus_frame (PII mask, {kept_docs} kept)", kept_docs, t_cor, "docs"))
    say(rate_line("signals+decisions+PII (per input)", n, both))
    say(rate_line("whole pipeline extraction→corpus", n, full))
    say(f"peak RSS {peak_rss_mib():.0f} MiB (process, incl. all {n} documents held in memory)")

    # ---- the peer -------------------------------------------------------------------------
    if args.peer:
        crawl_dir = Path(args.source, "crawl-data", args.crawl)
        say()
        say(f"peer: {args.peer_python} {PEER_SCRIPT} {crawl_dir} (one worker)")
        peer = run_peer(args.peer_python, crawl_dir)
        peer_cpu_rate = peer["records"] / max(peer["cpu"], 1e-9)
        say(f"peer printed: {peer['line']}")
        say(f"peer: {peer['records']} records in, {peer['kept']} documents out; wall incl. start-up "
            f"{peer['wall_incl_startup']:.1f}s; CPU (all its processes) {peer['cpu']:.1f}s = "
            f"{peer_cpu_rate:.1f} records/CPU-s; peak RSS of its largest process {peer['peak_rss_mib']:.0f} MiB")
        ours_wall = n / max(full.wall, 1e-9)
        ours_cpu = n / max(full.cpu, 1e-9)
        say(f"ratio ours (whole pipeline, docs/s per core) / peer records/s: wall {ours_wall:.1f} / "
            f"{peer['records_per_s']:.1f} = {ours_wall / peer['records_per_s']:.1f}x;  CPU {ours_cpu:.1f} / "
            f"{peer_cpu_rate:.1f} = {ours_cpu / peer_cpu_rate:.1f}x  (target >= 10x)")
        summary = peer["stats"].split("All 1 tasks")[-1]
        drops = sorted(((int(c), r) for r, c in re.findall(r"dropped_(\w+): (\d+)", summary)), reverse=True)
        if drops:
            say("  peer drops by rule: " + ", ".join(f"{r} {c}" for c, r in drops[:10]))
        say(f"  (ours counts {n} documents of {html_records} HTML responses; per HTML response the ratios are "
            f"{html_records / max(full.wall, 1e-9) / peer['records_per_s']:.1f}x wall, "
            f"{html_records / max(full.cpu, 1e-9) / peer_cpu_rate:.1f}x CPU)")

    # ---- decisions report -----------------------------------------------------------------
    frame = (docs.select("doc_id", "url", "text", "n_chars")
             .join(signals, on="doc_id", how="left", maintain_order="left")
             .join(decisions.select("doc_id", "keep", "drop_reasons"), on="doc_id", how="left",
                   maintain_order="left"))
    say()
    say(f"kept {int(frame['keep'].sum())} of {n} documents ({frame['keep'].mean():.1%}); per language (>= 5 docs):")
    per_lang = (frame.group_by("lang").agg(docs=pl.len(), kept=pl.col("keep").sum())
                .with_columns(kept_share=(pl.col("kept") / pl.col("docs")).round(3))
                .filter(pl.col("docs") >= 5).sort(["docs", "lang"], descending=[True, False]))
    say(f"  {'lang':6s} {'docs':>5s} {'kept':>5s} {'share':>6s}")
    for lang, d, k, s in per_lang.iter_rows():
        say(f"  {lang:6s} {d:5d} {k:5d} {s:6.1%}")
    small = frame.group_by("lang").len().filter(pl.col("len") < 5)
    say(f"  ({small.height} languages with < 5 docs, {int(small['len'].sum() or 0)} docs)")
    reasons = (frame.select(pl.col("drop_reasons").explode().alias("reason")).drop_nulls()
               .group_by("reason").len("docs").sort(["docs", "reason"], descending=[True, False]))
    say()
    say("top 10 drop reasons (a document counts under each of its reasons; share of all documents):")
    for reason, d in reasons.head(10).iter_rows():
        say(f"  {reason:36s} {d:5d}  {d / n:6.1%}")
    only = (frame.filter(pl.col("drop_reasons").list.len() == 1)
            .select(pl.col("drop_reasons").list.first().alias("reason")).group_by("reason").len("docs")
            .sort(["docs", "reason"], descending=[True, False]))
    say("sole reason (documents dropped by exactly one rule): "
        + ", ".join(f"{r} {d}" for r, d in only.head(8).iter_rows()))

    whatif = whatif_zh(args.config, signals, frame, args.spot_n) if args.spotcheck else []
    if whatif:
        say()
        say("zh what-if (one override under languages.zh at a time; config file untouched):")
        for line in whatif:
            say("  " + line.replace("`", ""))

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")

    if args.spotcheck:
        dropped, kept = spotcheck(frame, "zh", args.spot_n)
        zh = frame.filter(pl.col("lang") == "zh")
        zh_reasons = (zh.select(pl.col("drop_reasons").explode().alias("reason")).drop_nulls()
                      .group_by("reason").len("docs").sort(["docs", "reason"], descending=[True, False]))
        body = [
            f"# zh spot-check: {args.spot_n} dropped and {args.spot_n} kept Chinese documents",
            "",
            f"Generated by benchmarks/bench_stages.py on {date.today().isoformat()}: crawl {args.crawl}, resiliparse "
            f"extraction, filter config {cfg.version} ({config_hash(cfg)}). {zh.height} zh documents, "
            f"{int(zh['keep'].sum())} kept. Documents are the first by doc_id (a hash, so a stable pseudo-random "
            f"sample). Signals: word_count = jieba words; dup_line_char_frac = FineWeb's (drop if >= threshold); "
            f"line_punct_frac = share of lines ending in terminal punctuation incl. 。！？ (drop if <= threshold); "
            f"short_line_frac = share of lines <= 30 chars (drop if >= threshold). ⏎ marks a line break.",
            "",
            "zh drop reasons (all zh documents): " + ", ".join(f"{r} {d}" for r, d in zh_reasons.iter_rows()),
            "",
            "## What-if: candidate `languages: zh:` overrides",
            "",
            *whatif,
            "",
            f"## Dropped ({dropped.height})", "", *spot_rows(dropped),
            f"## Kept ({kept.height})", "", *spot_rows(kept),
        ]
        path = Path(args.spotcheck)
        verdict = ""
        if path.exists():  # keep a human-written verdict (everything above the generated part)
            old = path.read_text(encoding="utf-8")
            if "<!-- GENERATED -->" in old:
                verdict = old.split("<!-- GENERATED -->", 1)[0]
        path.write_text(verdict + "<!-- GENERATED -->\n" + "\n".join(body) + "\n", encoding="utf-8")
        print(f"spot-check written to {path}")


if __name__ == "__main__":
    main()
