"""A Common Crawl source: list crawls, list a crawl's WARC/WET files, stream one file.

The same code reads the bundled sample (a local path or `file://` URI laid out like Common Crawl),
`https://data.commoncrawl.org` and `s3://commoncrawl` (with the optional `s3fs` package). Files are
streamed, never loaded whole. A permanent error (missing file or crawl, 403/404, refused connection)
raises `SourceError` at once with one line; transient ones are retried by `core.ingest.retry`.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import urlparse

from corpus_assets.core.ingest.errors import SourceError, SourceNotFound
from corpus_assets.core.ingest.http_reader import HttpReader
from corpus_assets.core.ingest.retry import RetryPolicy
from corpus_assets.core.ingest.s3_reader import S3Reader

CC_COLLINFO_URL = "https://index.commoncrawl.org/collinfo.json"
_CC_HOSTS = {"data.commoncrawl.org", "commoncrawl"}  # https host, s3 bucket
PATH_LISTS = {"warc": "warc.paths.gz", "wet": "wet.paths.gz"}

__all__ = ["CrawlSource", "SourceError", "SourceNotFound", "PATH_LISTS"]


class CrawlSource:
    def __init__(self, uri: str, retry: RetryPolicy = RetryPolicy()):
        if not uri:
            raise SourceError("empty source URI")
        parsed = urlparse(uri)
        self.scheme = parsed.scheme if len(parsed.scheme) > 1 else ""  # "C:\..." is a path, not a scheme
        if self.scheme in ("", "file"):
            root = Path(parsed.path if self.scheme == "file" else uri).expanduser().resolve()
            if not root.is_dir():
                problem = "is a file, not a folder" if root.exists() else "not found"
                raise SourceError(f"source folder {problem}: {root}")
            self.root = str(root)
        elif self.scheme in ("http", "https", "s3"):
            self.root = uri.rstrip("/")
        else:
            raise SourceError(f"unsupported source URI scheme {self.scheme!r} in {uri!r} (use a path, file://, https:// or s3://)")
        self.host = parsed.netloc
        self.retry = retry
        self._http = HttpReader(retry)
        self._s3 = S3Reader(retry)

    def __repr__(self) -> str:
        return f"CrawlSource({self.root!r})"

    @property
    def is_local(self) -> bool:
        return self.scheme in ("", "file")

    def local_path(self, rel_path: str) -> Path | None:
        return Path(self.root, rel_path) if self.is_local else None

    def uri_of(self, rel_path: str) -> str:
        return f"{self.root}/{rel_path}"

    # -- listings -------------------------------------------------------------------------------
    def list_crawls(self) -> list[dict]:
        """Crawls the source knows, newest first, as `{"id": ..., "name": ...}` (Common Crawl's collinfo.json)."""
        if self.host in _CC_HOSTS:
            data = self._http.read_bytes(CC_COLLINFO_URL)
        else:
            data = self.read_bytes("collinfo.json")
        try:
            crawls = json.loads(data)
            return [{"id": c["id"], "name": c.get("name", c["id"])} for c in crawls]
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"malformed collinfo.json at {self.root}: {exc}") from exc

    def list_files(self, crawl: str, record_format: str = "warc") -> list[str]:
        """Relative paths of a crawl's files, in Common Crawl's listing order."""
        if record_format not in PATH_LISTS:
            raise SourceError(f"unknown record format {record_format!r} (use one of {sorted(PATH_LISTS)})")
        rel = f"crawl-data/{crawl}/{PATH_LISTS[record_format]}"
        try:
            data = self.read_bytes(rel)
        except SourceNotFound as exc:
            raise SourceError(f"unknown crawl {crawl!r}: no {PATH_LISTS[record_format]} at {self.uri_of(rel)}"
                              f"{self._known_crawls_hint()}") from exc
        try:
            text = gzip.decompress(data).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise SourceError(f"unreadable file listing {self.uri_of(rel)}: {exc}") from exc
        return [line.strip() for line in text.splitlines() if line.strip()]

    def _known_crawls_hint(self) -> str:
        """`; known crawls: A, B, ...` when the source's crawl list can be had in one quick read, else ''."""
        try:
            ids = [c["id"] for c in CrawlSource(self.root, RetryPolicy(max_attempts=1)).list_crawls()]
        except Exception:  # only a hint: the error being reported is the unknown crawl
            return ""
        shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        return f"; known crawls: {shown}" if ids else ""

    # -- reading ---------------------------------------------------------------------------------
    def read_bytes(self, rel_path: str) -> bytes:
        with self.open(rel_path) as stream:
            return stream.read()

    def open(self, rel_path: str) -> BinaryIO:
        """Open one file of the source as a binary stream (read sequentially; nothing is loaded whole)."""
        if self.is_local:
            path = Path(self.root, rel_path)
            try:
                return open(path, "rb")
            except FileNotFoundError as exc:
                raise SourceNotFound(f"missing file {path}") from exc
            except OSError as exc:
                raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if self.scheme == "s3":
            return cast(BinaryIO, self._s3.open(self.uri_of(rel_path)))  # ResumingStream: read, tell, close
        return cast(BinaryIO, self._http.open(self.uri_of(rel_path)))
