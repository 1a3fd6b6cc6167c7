"""Main-text extraction quality and speed: our extractors vs the peer's (datatrove FineWeb) extraction.

    python benchmarks/bench_extraction.py [--evaldata JSON] [--source DIR] [--peer-python PATH]
                                          [--no-variants] [--out benchmarks/results/extraction.md]

Test set: trafilatura's evaluation data (`benchmarks/data/trafilatura-evaldata.json`, Apache-2.0, from adbar/trafilatura's tests):
for each URL, snippets a good main-text extraction must contain (`with`) and must not contain
(`without`). The pages are taken from the WARC files of the sample crawl (every crawl under
`--source`), decoded with our charset logic (`corpus_assets.core.charset.decode_html`) and the SAME
decoded string is given to every extractor, so only the extraction differs.

Scoring is trafilatura's own (tests/eval_common.py): whitespace-normalised substring matching
(`re.sub(r"\\s+", " ", s).strip()` on snippet and text); per snippet TP = `with` found,
FN = `with` missing, FP = `without` found, TN = `without` absent; precision = TP/(TP+FP),
recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN). An empty output counts every `with` as missed.

Extractors:
  * ours `resiliparse`  - corpus_assets.core.extract.extract_main_text(html, "resiliparse") (the default),
                          i.e. whatever extract.py does today (options + post-processing)
  * ours `trafilatura`  - extract_main_text(html, "trafilatura") (trafilatura 2.x from the project venv)
  * peer                - what datatrove's `Trafilatura(favour_precision=True, timeout=1.0)` step calls:
                          `trafilatura.extract(html, favor_precision=True, include_comments=False,
                          deduplicate=True)`, run in the peer venv (trafilatura 1.11) by a small helper
                          script, one process, pages in the same order. datatrove runs it in a sandbox
                          with a 1 s wall-clock timeout per page: pages over 1 s are reported, and a
                          second peer row scores them as empty (what datatrove would have produced).
  * resiliparse option variants, unless --no-variants: extract_plain_text(main_content=True, ...) with the
    previous extract.py options plus one or more changes, with or without extract.py's `trim_edges`.

Speed: docs/s from wall time and from CPU time (time.process_time) of the extraction calls only;
the machine is shared, so docs per CPU-second is the figure to compare (resiliparse rows: best of 3
passes; trafilatura and the peer: one pass). Quality figures are deterministic.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_assets.core.ingest.charset import decode_html  # noqa: E402
from corpus_assets.core.ingest.extract import extract_main_text  # noqa: E402
from corpus_assets.core.ingest.warc_reader import iter_records  # noqa: E402

DEFAULT_EVALDATA = str(Path(__file__).resolve().parent / "data" / "trafilatura-evaldata.json")
DEFAULT_SOURCE = str(Path(__file__).resolve().parents[1] / "data" / "sample-crawl")
DEFAULT_PEER_PYTHON = str(REPO / "benchmarks" / "peer" / ".venv" / "bin" / "python")  # make bench-peer-venv
PEER_TIMEOUT_S = 1.0

# The peer's extraction, run inside the peer venv: JSONL {url, html} in -> JSONL {url, text, wall, cpu} out.
PEER_SCRIPT = r'''
import json, sys, time
from trafilatura import extract  # what datatrove.pipeline.extractors.Trafilatura.extract calls

def run(html):
    return extract(html, favor_precision=True, include_comments=False, deduplicate=True)

run("<html><body><p>warm up</p></body></html>")
with open(sys.argv[1], encoding="utf-8") as fin, open(sys.argv[2], "w", encoding="utf-8") as fout:
    for line in fin:
        page = json.loads(line)
        w, c = time.perf_counter(), time.process_time()
        try:
            text, error = run(page["html"]), None
        except Exception as exc:  # datatrove counts a crash as clean_error and drops the page
            text, error = None, repr(exc)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        fout.write(json.dumps({"url": page["url"], "text": text, "wall": wall, "cpu": cpu, "error": error}) + "\n")
'''

# Our current resiliparse call (corpus_assets/core/extract.py) and variants of it.
BASE_OPTIONS = dict(main_content=True, alt_texts=False, links=False, form_fields=False, noscript=False,
                    list_bullets=True, preserve_formatting=True)
# Selectors tried as `skip_elements`. Leave-one-out on this test set: of the long list only footer, form and
# [role=contentinfo] change anything (main_content=True already drops nav/aside/...), hence the short list.
BOILERPLATE_SELECTORS = [
    "nav", "footer", "aside", "form", "[role=navigation]", "[role=contentinfo]", "[role=complementary]",
    ".breadcrumb", ".breadcrumbs", ".share", ".sharing", ".social", ".related", ".tags", ".pagination",
    ".cookie", "#cookie", ".newsletter", ".comments", "#comments",
]
SKIP_SHORT = ["footer", "form", "[role=contentinfo]"]
CCC = dict(comments=False, post_meta=False)
# (options on top of BASE_OPTIONS, apply extract.py's `trim_edges` post-processing if it has one)
VARIANTS: dict[str, tuple[dict, bool]] = {
    "previous extract.py call (BASE)": ({}, False),
    "comments=False": (dict(comments=False), False),
    "post_meta=False": (dict(post_meta=False), False),
    "comments=False, post_meta=False": (CCC, False),
    "list_bullets=False": (dict(list_bullets=False), False),
    "preserve_formatting=False": (dict(preserve_formatting=False), False),
    "alt_texts=True": (dict(alt_texts=True), False),
    "links=True": (dict(links=True), False),
    "noscript=True": (dict(noscript=True), False),
    "form_fields=True": (dict(form_fields=True), False),
    "hidden_elements=True": (dict(hidden_elements=True), False),
    "skip_elements=<long list>": (dict(skip_elements=BOILERPLATE_SELECTORS), False),
    "skip_elements=<short list>": (dict(skip_elements=SKIP_SHORT), False),
    "comments=False, post_meta=False, skip_elements=<long list>": ({**CCC, "skip_elements": BOILERPLATE_SELECTORS}, False),
    "comments=False, post_meta=False, skip_elements=<short list>": ({**CCC, "skip_elements": SKIP_SHORT}, False),
    "comments=False, post_meta=False, skip_elements=<short list>+h1": ({**CCC, "skip_elements": SKIP_SHORT + ["h1"]}, False),
    "BASE + trim_edges": ({}, True),
    "comments=False, post_meta=False, skip_elements=<short list> + trim_edges": ({**CCC, "skip_elements": SKIP_SHORT}, True),
    "comments=False, post_meta=False, skip_elements=<short list>+h1 + trim_edges":
        ({**CCC, "skip_elements": SKIP_SHORT + ["h1"]}, True),
}
_BLANK_LINES = re.compile(r"\n{3,}")
_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    """Whitespace normalisation of trafilatura's evaluation (tests/eval_common.py)."""
    return _WS.sub(" ", text).strip()


@dataclass
class Result:
    name: str
    version: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    empty: int = 0
    pages: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    note: str = ""

    def add(self, item: dict, text: str | None) -> None:
        self.pages += 1
        if not text:
            self.empty += 1
            self.fn += len(item["with"])
            self.tn += len(item["without"])
            return
        t = norm(text)
        tp = sum(1 for s in item["with"] if norm(s) in t)
        fp = sum(1 for s in item["without"] if norm(s) in t)
        self.tp += tp
        self.fn += len(item["with"]) - tp
        self.fp += fp
        self.tn += len(item["without"]) - fp

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else 0.0

    def row(self) -> str:
        wall = f"{self.pages / self.wall:,.0f}" if self.wall else "-"
        cpu = f"{self.pages / self.cpu:,.0f}" if self.cpu else "-"
        return (f"| {self.name} | {self.version} | {self.precision:.3f} | {self.recall:.3f} | {self.f1:.3f} | "
                f"{self.accuracy:.3f} | {self.tp} | {self.fn} | {self.fp} | {self.tn} | {self.empty} | "
                f"{wall} | {cpu} | {self.note} |")


HEADER = ("| extractor | version | precision | recall | F1 | accuracy | TP | FN | FP | TN | empty | "
          "docs/s (wall) | docs/CPU-s | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def load_pages(evaldata: dict, source: str) -> tuple[list[tuple[str, str, dict]], dict]:
    """[(url, decoded html, eval item)] for every eval URL found as an HTTP-200 HTML response in the WARCs."""
    items = {url.strip(): item for url, item in evaldata.items()}
    html: dict[str, str] = {}
    stats = {"warc_files": 0, "records": 0, "duplicates": 0, "undecodable": 0}
    for path in sorted(glob.glob(os.path.join(source, "crawl-data", "*", "segments", "*", "warc", "*.warc.gz"))):
        stats["warc_files"] += 1
        with open(path, "rb") as stream:
            for record in iter_records(stream):
                stats["records"] += 1
                url = record.url.strip()
                if url not in items or record.http_status != 200:
                    continue
                if url in html:  # the two crawls share some URLs (identical payloads): keep the first
                    stats["duplicates"] += 1
                    continue
                decoded = decode_html(record.payload, record.content_type)
                if decoded is None:
                    stats["undecodable"] += 1
                    continue
                html[url] = decoded.text
    pages = [(url, html[url], items[url]) for url in items if url in html]
    stats["eval_urls"] = len(items)
    stats["matched"] = len(pages)
    stats["with_snippets"] = sum(len(item["with"]) for _, _, item in pages)
    stats["without_snippets"] = sum(len(item["without"]) for _, _, item in pages)
    return pages, stats


def run_ours(pages, name: str, ver: str, extract, repeat: int = 1) -> Result:
    """Score one extractor; timings are the best of `repeat` passes (the output is deterministic)."""
    result = Result(name, ver)
    extract(pages[0][1])  # warm-up (lazy imports)
    best_wall = best_cpu = float("inf")
    for attempt in range(repeat):
        wall = cpu = 0.0
        for _, html, item in pages:
            w, c = time.perf_counter(), time.process_time()
            try:
                text = extract(html)
            except Exception:  # counted as a full miss, as trafilatura's evaluation does
                text = None
            wall += time.perf_counter() - w
            cpu += time.process_time() - c
            if attempt == 0:
                result.add(item, text)
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    result.wall, result.cpu = best_wall, best_cpu
    return result


def resiliparse_variant(options: dict, trim: bool = False):
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    import corpus_assets.core.ingest.extract as extract_module

    kwargs = {**BASE_OPTIONS, **options}
    post = getattr(extract_module, "trim_edges", None) if trim else None

    def extract(html: str) -> str:
        text = extract_plain_text(HTMLTree.parse(html), **kwargs)
        if post is not None:
            text = post(text)
        return _BLANK_LINES.sub("\n\n", text).strip()
    return extract


def run_peer(pages, peer_python: str) -> tuple[Result, Result, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        script, pin, pout = (os.path.join(tmp, n) for n in ("peer_extract.py", "pages.jsonl", "out.jsonl"))
        Path(script).write_text(PEER_SCRIPT)
        with open(pin, "w", encoding="utf-8") as fh:
            for url, html, _ in pages:
                fh.write(json.dumps({"url": url, "html": html}) + "\n")
        subprocess.run([peer_python, script, pin, pout], check=True, cwd=tmp)
        out = [json.loads(line) for line in open(pout, encoding="utf-8")]
        ver = subprocess.run([peer_python, "-c", "import trafilatura; print(trafilatura.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    by_url = {o["url"]: o for o in out}
    full = Result("peer: datatrove Trafilatura (favour_precision)", f"trafilatura {ver}")
    timed = Result("peer, 1 s timeout applied", f"trafilatura {ver}")
    slow = []
    for url, _, item in pages:
        o = by_url[url]
        full.wall += o["wall"]
        full.cpu += o["cpu"]
        full.add(item, o["text"])
        if o["wall"] > PEER_TIMEOUT_S:
            slow.append(f"{url} ({o['wall']:.2f}s)")
            timed.add(item, None)
        else:
            timed.add(item, o["text"])
    timed.wall, timed.cpu = full.wall, full.cpu
    timed.note = f"{len(slow)} pages > {PEER_TIMEOUT_S:.0f} s scored empty"
    errors = sum(1 for o in out if o.get("error"))
    full.note = f"{errors} errors" if errors else ""
    return full, timed, slow


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", default=DEFAULT_EVALDATA)
    ap.add_argument("--source", default=DEFAULT_SOURCE, help="Common Crawl-layout folder (all crawls are read)")
    ap.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON, help="python of the peer venv ('' to skip)")
    ap.add_argument("--no-variants", action="store_true", help="skip the resiliparse option variants")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "extraction.md"))
    args = ap.parse_args()
    if not Path(args.evaldata).is_file() or not Path(args.source).is_dir():
        raise SystemExit(f"bench_extraction: needs trafilatura's evaluation snippets and the crawl holding their pages "
                         f"(not in the repository): pass --evaldata FILE --source DIR (defaults: {DEFAULT_EVALDATA}, "
                         f"{DEFAULT_SOURCE})")
    if args.peer_python and not Path(args.peer_python).exists():
        print(f"no peer venv at {args.peer_python} (`make bench-peer-venv`): the peer is skipped")
        args.peer_python = ""

    evaldata = json.load(open(args.evaldata, encoding="utf-8"))
    t = time.perf_counter()
    pages, stats = load_pages(evaldata, args.source)
    print(f"eval data: {stats['eval_urls']} URLs; found {stats['matched']} as HTTP-200 HTML in "
          f"{stats['warc_files']} WARC files ({stats['records']} records, {stats['duplicates']} duplicate URLs "
          f"across crawls skipped, {stats['undecodable']} undecodable); {stats['with_snippets']} 'with' and "
          f"{stats['without_snippets']} 'without' snippets ({time.perf_counter() - t:.1f}s to load)", flush=True)

    results = [
        run_ours(pages, "ours: resiliparse (default)", f"resiliparse {version('resiliparse')}",
                 lambda h: extract_main_text(h, "resiliparse")[1], repeat=3),
        run_ours(pages, "ours: trafilatura", f"trafilatura {version('trafilatura')}",
                 lambda h: extract_main_text(h, "trafilatura")[1]),
    ]
    slow: list[str] = []
    if args.peer_python:
        full, timed, slow = run_peer(pages, args.peer_python)
        results += [full, timed]
    variants = []
    if not args.no_variants:
        import corpus_assets.core.ingest.extract as extract_module

        has_trim = hasattr(extract_module, "trim_edges")
        for name, (options, trim) in VARIANTS.items():
            if trim and not has_trim:
                continue
            variants.append(run_ours(pages, f"resiliparse {name}", version("resiliparse"),
                                     resiliparse_variant(options, trim), repeat=3))
    lines = [
        f"# Extraction quality: ours vs the peer ({date.today().isoformat()})",
        "",
        f"Data: trafilatura evaluation set, {stats['matched']} of {stats['eval_urls']} URLs found as HTTP-200 HTML "
        f"in the sample crawl ({args.source}, both crawls; the rest are `hard::` entries without a URL); "
        f"{stats['with_snippets']} `with` / {stats['without_snippets']} `without` snippets. Same decoded HTML for "
        f"every extractor. Scoring as trafilatura's evaluation (whitespace-normalised substring match). "
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), shared; "
        f"docs/CPU-s = pages per CPU-second of the extraction calls (time.process_time), one process; "
        f"resiliparse rows best of 3 passes, trafilatura/peer one pass.",
        "",
        HEADER,
        *(r.row() for r in results),
    ]
    if variants:
        best = max(variants, key=lambda r: r.f1)
        lines += ["", "## resiliparse option variants",
                  "",
                  "BASE = the extract.py call before 2026-11-22: "
                  + ", ".join(f"{k}={v}" for k, v in BASE_OPTIONS.items())
                  + "; each row changes the listed options; `+ trim_edges` applies extract.py's `trim_edges` "
                  "(drops runs of short unpunctuated lines at the start and end). `<long list>` = " + ", ".join(BOILERPLATE_SELECTORS)
                  + "; `<short list>` = " + ", ".join(SKIP_SHORT) + ".", "", HEADER, *(r.row() for r in variants),
                  "", f"Best variant by F1: **{best.name}** (F1 {best.f1:.3f}, precision {best.precision:.3f}, "
                      f"recall {best.recall:.3f})."]
    peer = next((r for r in results if r.name.startswith("peer:")), None)
    if peer is not None:
        ours = results[0]
        lines += ["", "## Summary", "",
                  f"- ours resiliparse (default) F1 {ours.f1:.3f} vs peer F1 {peer.f1:.3f} "
                  f"({ours.f1 - peer.f1:+.3f}): recall {ours.recall:.3f} vs {peer.recall:.3f}, precision "
                  f"{ours.precision:.3f} vs {peer.precision:.3f} - resiliparse keeps more boilerplate "
                  f"({ours.fp} `without` snippets found vs {peer.fp}); it extracts "
                  f"{ours.pages / max(ours.cpu, 1e-9) / (peer.pages / max(peer.cpu, 1e-9)):.0f}x more pages per "
                  f"CPU-second."]
        if variants:
            if best.f1 > ours.f1 + 0.001:
                gap = peer.f1 - ours.f1
                closed = f" - closes {(best.f1 - ours.f1) / gap:.0%} of the gap to the peer" if gap > 0 else ""
                lines.append(f"- best resiliparse variant beats the current extract.py: **{best.name}**, F1 "
                             f"{best.f1:.3f} ({best.f1 - ours.f1:+.3f}){closed}.")
            else:
                lines.append(f"- the current extract.py (F1 {ours.f1:.3f}) is at least as good as every variant tested "
                             f"(best: {best.name}, F1 {best.f1:.3f}).")
            if all(v.f1 < peer.f1 for v in variants) and ours.f1 < peer.f1:
                lines.append("- no resiliparse configuration tested reaches the peer's F1.")
            lines.append("- options with no effect on this set: list_bullets, preserve_formatting; alt_texts, links, "
                         "form_fields lower F1; of the long skip list only footer, form and [role=contentinfo] matter.")
        traf = results[1]
        lines.append(f"- ours trafilatura F1 {traf.f1:.3f} ({traf.f1 - peer.f1:+.3f} vs the peer) at "
                     f"{traf.pages / max(traf.cpu, 1e-9):.0f} docs/CPU-s.")
    if slow:
        lines += ["", f"Peer pages over {PEER_TIMEOUT_S:.0f} s (datatrove would drop them): " + "; ".join(slow)]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
