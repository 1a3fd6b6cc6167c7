"""What can go wrong reading a source: a permanent error (one line, no retry) or a transient one.

Only `TransientSourceError` is ever retried (by `core.ingest.retry`); everything else fails at once.
"""
from __future__ import annotations


class SourceError(RuntimeError):
    """A source cannot be read and retrying will not help (404, 403, refused, bad URI, missing file...).

    The message is one line naming the URL or path and the cause.
    """


class SourceNotFound(SourceError):
    """The URL or path does not exist (HTTP 404/410, no such key, no such file)."""


class TransientSourceError(Exception):
    """A failure that may pass (reset, timeout, 429, 5xx, S3 SlowDown): worth a retry after a wait.

    `retry_after` is the server's own hint in seconds (HTTP Retry-After), when it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
