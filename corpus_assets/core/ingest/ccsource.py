"""A Common Crawl source: list crawls, list a crawl's WARC/WET files, stream one file.

The same code reads the bundled sample (a local path or `file://` URI laid out like Common Crawl),
`https://data.commoncrawl.org` and `s3://commoncrawl` (with the optional `s3fs` package). Files are
streamed, never loaded whole; network opens and listings are retried with backoff.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from corpus_assets.core.ingest.retry import with_retries

CC_COLLINFO_URL = "https://index.commoncrawl.org/collinfo.json"
_CC_HOSTS = {"data.commoncrawl.org", "commoncrawl"}  # https host, s3 bucket
PATH_LISTS = {"warc": "warc.paths.gz", "wet": "wet.paths.gz"}


class SourceError(RuntimeError):
    """A source could not be read (missing crawl, missing listing, bad URI)."""


class CrawlSource:
    def __init__(self, uri: str):
        if not uri:
            raise SourceError("empty source URI")
        parsed = urlparse(uri)
        self.scheme = parsed.scheme if len(parsed.scheme) > 1 else ""  # "C:\..." is a path, not a scheme
        if self.scheme in ("", "file"):
            root = Path(parsed.path if self.scheme == "file" else uri).expanduser().resolve()
            if not root.is_dir():
                raise SourceError(f"source folder not found: {root}")
            self.root = str(root)
        elif self.scheme in ("http", "https", "s3"):
            self.root = uri.rstrip("/")
        else:
            raise SourceError(f"unsupported source URI scheme {self.scheme!r} in {uri!r} (use a path, file://, https:// or s3://)")
        self.host = parsed.netloc
        self._http = None

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
            data = self._read_bytes_url(CC_COLLINFO_URL)
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
        except FileNotFoundError as exc:
            raise SourceError(f"crawl {crawl!r} has no {PATH_LISTS[record_format]} at {self.uri_of(rel)}") from exc
        return [line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip()]

    # -- reading ---------------------------------------------------------------------------------
    def read_bytes(self, rel_path: str) -> bytes:
        with self.open(rel_path) as stream:
            return stream.read()

    def open(self, rel_path: str) -> BinaryIO:
        """Open one file of the source as a binary stream (read sequentially; nothing is loaded whole)."""
        if self.is_local:
            return open(Path(self.root, rel_path), "rb")
        if self.scheme == "s3":
            return with_retries(lambda: self._s3().open(self.uri_of(rel_path), "rb", block_size=8 << 20),
                                what=f"open {self.uri_of(rel_path)}")
        return self._open_url(self.uri_of(rel_path))

    def _open_url(self, url: str) -> BinaryIO:
        def get():
            response = self._session().get(url, stream=True, timeout=(15, 120))
            if response.status_code == 404:
                response.close()
                raise FileNotFoundError(url)
            response.raise_for_status()
            response.raw.decode_content = True  # undo a transport Content-Encoding only; .gz files stay gzip
            return response.raw
        return with_retries(get, what=f"GET {url}")

    def _read_bytes_url(self, url: str) -> bytes:
        with self._open_url(url) as stream:
            return stream.read()

    def _session(self):
        if self._http is None:
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            retry = Retry(total=6, backoff_factor=1.0, status_forcelist=(429, 500, 502, 503, 504),
                          allowed_methods=("GET", "HEAD"), respect_retry_after_header=True)
            self._http = requests.Session()
            self._http.mount("https://", HTTPAdapter(max_retries=retry))
            self._http.mount("http://", HTTPAdapter(max_retries=retry))
            self._http.headers["User-Agent"] = "corpus_assets (+https://github.com/corpus-assets)"
        return self._http

    def _s3(self):
        try:
            import s3fs
        except ImportError as exc:
            raise SourceError("s3:// sources need the s3 extra: pip install 'corpus_assets[s3]'") from exc
        return s3fs.S3FileSystem(config_kwargs={"retries": {"max_attempts": 10, "mode": "adaptive"}})
