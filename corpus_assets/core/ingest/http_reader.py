"""HTTP(S) reads of a source: one GET per file, each failure sorted into permanent or transient.

Permanent, reported at once in one line: 4xx other than 408/429 (401, 403, 404...), a host name that
does not resolve, a refused or unanswered connection to a host that has never answered, TLS errors.
Transient, retried by `core.ingest.retry`: 408, 429 (honouring Retry-After), 5xx, a connection reset or
read timeout, and a refused connection to a host that answered before (it is restarting).
requests/urllib3 do no retries of their own (a plain `requests.Session` has `max_retries=0`).
"""
from __future__ import annotations

import socket
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from corpus_assets.core.ingest.errors import SourceError, SourceNotFound, TransientSourceError
from corpus_assets.core.ingest.retry import ResumingStream, RetryPolicy

CONNECT_TIMEOUT = 10.0  # seconds to establish a connection
READ_TIMEOUT = 60.0  # seconds without a byte from a connected server
USER_AGENT = "corpus_assets (+https://github.com/corpus-assets)"


class HttpReader:
    """GETs with the project's retry policy; remembers which hosts have answered in this process."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self._session: Any = None  # requests.Session, imported on first use
        self._answered: set[str] = set()

    def open(self, url: str) -> ResumingStream:
        """The body of `url` as a stream, resumed with a Range request if the connection breaks."""
        return ResumingStream(lambda offset: self._get(url, offset), f"GET {url}", self.policy, read_error)

    def read_bytes(self, url: str) -> bytes:
        with self.open(url) as stream:
            return stream.read()

    def _http_session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = USER_AGENT
        return self._session

    def _get(self, url: str, offset: int) -> BinaryIO:
        """One attempt: the open body from `offset`, or `SourceError` / `TransientSourceError`."""
        import requests

        host = urlsplit(url).netloc
        headers = {"Accept-Encoding": "identity"}  # the bytes of the file itself, so byte ranges match it
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = self._http_session().get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), headers=headers)
        except requests.RequestException as exc:
            raise self._request_error(url, host, exc) from exc
        self._answered.add(host)
        status = response.status_code
        if status == 200 or (status == 206 and offset):
            if offset and status == 200:  # the server ignored the Range header: skip what was read before
                _discard(response.raw, offset)
            return response.raw
        response.close()
        cause = f"HTTP {status} {response.reason or ''}".strip()
        if status in (408, 429) or status >= 500:
            raise TransientSourceError(cause, retry_after=_retry_after(response.headers.get("Retry-After")))
        if status in (404, 410):
            raise SourceNotFound(f"GET {url}: {cause}")
        raise SourceError(f"GET {url}: {cause}")

    def _request_error(self, url: str, host: str, exc: Exception) -> Exception:
        import requests
        from urllib3.exceptions import NameResolutionError, NewConnectionError

        answered = host in self._answered
        causes = _causes(exc)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            cause = f"no connection to {host} within {CONNECT_TIMEOUT:.0f}s"
            return TransientSourceError(cause) if answered else SourceError(f"GET {url}: {cause}")
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return TransientSourceError(f"no data from {host} within {READ_TIMEOUT:.0f}s (read timeout)")
        if isinstance(exc, requests.exceptions.SSLError):
            return SourceError(f"GET {url}: TLS error ({_last_line(causes[-1])})")
        if any(isinstance(c, (NameResolutionError, socket.gaierror)) for c in causes):
            return SourceError(f"GET {url}: cannot resolve host {urlsplit(url).hostname!r} (DNS)")
        if any(isinstance(c, (NewConnectionError, ConnectionRefusedError)) for c in causes):
            cause = f"connection refused (nothing listening at {host})"
            return TransientSourceError(cause) if answered else SourceError(f"GET {url}: {cause}")
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return TransientSourceError(f"connection lost ({_last_line(causes[-1])})")
        return SourceError(f"GET {url}: {_last_line(exc)}")  # invalid URL, too many redirects...


def read_error(exc: BaseException) -> TransientSourceError | None:
    """A failure while reading a body that a reconnection may cure (reset, timeout, cut short), else None."""
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    if isinstance(exc, (ProtocolError, ReadTimeoutError, ConnectionError, TimeoutError)):
        return TransientSourceError(f"connection lost while reading ({_last_line(_causes(exc)[-1])})")
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps (requests wraps urllib3's MaxRetryError, which holds the reason)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        reason = getattr(current, "reason", None)
        wrapped = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = (reason if isinstance(reason, BaseException) else None) or wrapped or current.__cause__ \
            or current.__context__
    return chain


def _last_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[-1]}" if text else type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _discard(stream: BinaryIO, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            raise TransientSourceError("the body ended before the resume offset")
        count -= len(chunk)
