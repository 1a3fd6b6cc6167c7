"""S3 reads of a source (`s3://commoncrawl`, with the optional s3fs package), errors sorted like HTTP's.

s3fs and botocore are set to make one attempt per request, so the project's policy is the only retry:
a missing key or denied access fails at once; SlowDown, 503/500 and timeouts are transient.
"""
from __future__ import annotations

from typing import Any, BinaryIO

from corpus_assets.core.ingest.errors import SourceError, SourceNotFound, TransientSourceError
from corpus_assets.core.ingest.http_reader import CONNECT_TIMEOUT, READ_TIMEOUT
from corpus_assets.core.ingest.retry import ResumingStream, RetryPolicy

BLOCK_SIZE = 8 << 20  # bytes per ranged GET
# what S3 and botocore say when the request may succeed later
_TRANSIENT_MARKERS = ("slowdown", "reduce your request rate", "serviceunavailable", "service unavailable",
                      "internalerror", "requesttimeout", "throttl", "timed out", "timeout", "connection reset",
                      "incompleteread", "connection was closed", "(500)", "(503)")


class S3Reader:
    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self._fs: Any = None  # s3fs.S3FileSystem, imported on first use

    def open(self, uri: str) -> ResumingStream:
        return ResumingStream(lambda offset: self._open_at(uri, offset), f"read {uri}", self.policy, read_error)

    def _filesystem(self):
        if self._fs is None:
            try:
                import s3fs
            except ImportError as exc:
                raise SourceError("s3:// sources need the s3 extra: pip install 'corpus_assets[s3]'") from exc
            self._fs = s3fs.S3FileSystem(config_kwargs={"retries": {"total_max_attempts": 1},
                                                        "connect_timeout": CONNECT_TIMEOUT,
                                                        "read_timeout": READ_TIMEOUT})
            self._fs.retries = 1  # s3fs's own retry loop: one attempt
        return self._fs

    def _open_at(self, uri: str, offset: int) -> BinaryIO:
        fs = self._filesystem()
        try:
            stream = fs.open(uri, "rb", block_size=BLOCK_SIZE)
            if offset:
                stream.seek(offset)
            return stream
        except Exception as exc:
            raise s3_error(uri, exc) from exc


def s3_error(uri: str, exc: BaseException) -> Exception:
    """`SourceNotFound`, `SourceError` or `TransientSourceError` for a failed S3 request."""
    text = f"{type(exc).__name__}: {exc}".strip()
    lowered = text.lower()
    if isinstance(exc, FileNotFoundError):
        return SourceNotFound(f"read {uri}: no such key")
    if isinstance(exc, PermissionError) or "accessdenied" in lowered or "forbidden" in lowered:
        return SourceError(f"read {uri}: access denied ({text.splitlines()[0]})")
    if "nocredentials" in lowered or "unable to locate credentials" in lowered:
        return SourceError(f"read {uri}: no AWS credentials (s3://commoncrawl needs them; "
                           "https://data.commoncrawl.org does not)")
    if any(marker in lowered for marker in _TRANSIENT_MARKERS):
        return TransientSourceError(text.splitlines()[0])
    return SourceError(f"read {uri}: {text.splitlines()[0]}")


def read_error(exc: BaseException) -> TransientSourceError | None:
    error = s3_error("", exc)
    return error if isinstance(error, TransientSourceError) else None
