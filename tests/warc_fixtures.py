"""Build small WARC files in tests: real sample records, crafted records, damaged copies."""
from __future__ import annotations

import gzip
import random
import shutil
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample-crawl"


def warc_response(url: str, body: bytes, content_type: str = "text/html", status: int = 200,
                  date: str = "2026-01-15T10:00:00Z") -> bytes:
    """One gzip member holding a WARC response record (no digests: nothing to verify)."""
    http = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    headers = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + date)}>\r\n"
               f"WARC-Target-URI: {url}\r\nWARC-Date: {date}\r\n"
               f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n").encode()
    return gzip.compress(headers + http + b"\r\n\r\n")


def write_crawl(root: Path, crawl: str, files: dict[str, bytes]) -> None:
    """Write a crawl in Common Crawl's layout: crawl-data/<crawl>/warc.paths.gz and the files."""
    rel_paths = []
    for name, data in files.items():
        rel = f"crawl-data/{crawl}/segments/0000.00/warc/{name}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        rel_paths.append(rel)
    (root / f"crawl-data/{crawl}/warc.paths.gz").write_bytes(gzip.compress(("\n".join(rel_paths) + "\n").encode()))
    collinfo = root / "collinfo.json"
    import json
    crawls = json.loads(collinfo.read_text()) if collinfo.exists() else []
    if crawl not in [c["id"] for c in crawls]:
        crawls.insert(0, {"id": crawl, "name": crawl})
    collinfo.write_text(json.dumps(crawls))


def damaged_variants(good: bytes) -> dict[str, bytes]:
    """The four kinds of damaged file seen in crawls, made from a good WARC file's bytes."""
    return {
        "zero_bytes": b"",  # an interrupted download
        "random_bytes": random.Random(11).randbytes(200_000),  # not a WARC file at all
        "truncated": good[: len(good) // 2],
        "garbage_first_record": gzip.compress(b"<html>not a WARC record</html>\r\n" * 50) + good,  # valid gzip
    }


def copy_sample(dest: Path, crawls: list[str] | None = None) -> Path:
    """A copy of the bundled sample crawl (optionally only some crawls)."""
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("README.md"))
    if crawls is not None:
        import json
        for crawl_dir in (dest / "crawl-data").iterdir():
            if crawl_dir.name not in crawls:
                shutil.rmtree(crawl_dir)
        collinfo = dest / "collinfo.json"
        collinfo.write_text(json.dumps([c for c in json.loads(collinfo.read_text()) if c["id"] in crawls]))
    return dest


def sample_files(crawl: str) -> list[Path]:
    paths = gzip.decompress((SAMPLE / f"crawl-data/{crawl}/warc.paths.gz").read_bytes()).decode().split()
    return [SAMPLE / p for p in paths]


def extract_pages(paths: list[Path]) -> list[dict]:
    """`{"path", "url", "text"}` for every HTML response of WARC files: plain resiliparse main text, a
    simple reader independent of the pipeline's (for tests of PII and safety on real page text)."""
    import re

    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    rows = []
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
                ct = rec.http_headers.get("Content-Type") or ""
                m = re.search(r"charset=([\w-]+)", ct, re.I)
                body = rec.reader.read()
                try:
                    html = body.decode(m.group(1) if m else "utf-8", errors="replace")
                except LookupError:
                    html = body.decode("utf-8", errors="replace")
                if "html" not in ct.lower() and "<html" not in html[:2000].lower():
                    continue
                text = extract_plain_text(HTMLTree.parse(html), main_content=True)
                rows.append({"path": path, "url": rec.headers.get("WARC-Target-URI"), "text": text})
    return rows
