"""The one retry policy of the project: transient source errors only, exponential backoff, a time cap.

Nothing else retries reads: requests/urllib3 and s3fs/botocore are configured not to, and the
`documents` asset has no Dagster retry policy. A caller raises `TransientSourceError` for what may pass
(reset, read timeout, 429, 5xx, S3 SlowDown); any other exception ends the call at once.
A stream that fails mid-file is reopened where it stopped (`ResumingStream`), under the same policy.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, TypeVar

from corpus_assets.core.ingest.errors import SourceError, TransientSourceError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # attempts of one operation, the first included
    base_delay: float = 1.0  # seconds before the first retry; doubles each time (with jitter)
    max_delay: float = 60.0  # longest single wait, Retry-After included
    total_seconds: float = 300.0  # give up when the next wait would end past this, counted from the first failure
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)


class RetryBudget:
    """The attempts and time left to one operation that keeps failing transiently."""

    def __init__(self, policy: RetryPolicy, what: str):
        self.policy, self.what = policy, what
        self.failures = 0
        self.first_failure = 0.0

    def wait_or_give_up(self, error: TransientSourceError) -> None:
        """Sleep before the next attempt, or raise `SourceError` when the attempts or the time are spent."""
        now = time.monotonic()
        if self.failures == 0:
            self.first_failure = now
        self.failures += 1
        policy = self.policy
        delay = min(policy.max_delay, policy.base_delay * 2 ** (self.failures - 1) * (0.5 + random.random()))
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, policy.max_delay))
        spent = now - self.first_failure
        if self.failures >= policy.max_attempts or spent + delay > policy.total_seconds:
            raise SourceError(f"{self.what}: {error} (gave up after {self.failures} attempt(s) in {spent:.1f}s)") from error
        hint = " (Retry-After)" if error.retry_after is not None and delay >= error.retry_after else ""
        log.warning("%s: %s; retry %d/%d in %.1fs%s", self.what, error, self.failures, policy.max_attempts - 1,
                    delay, hint)
        policy.sleep(delay)

    def reset(self) -> None:
        self.failures = 0


def retrying(operation: Callable[[], T], what: str, policy: RetryPolicy) -> T:
    """`operation()`, retried on `TransientSourceError` within `policy`; any other error passes at once."""
    budget = RetryBudget(policy, what)
    while True:
        try:
            return operation()
        except TransientSourceError as error:
            budget.wait_or_give_up(error)


class ResumingStream:
    """A read-only stream that reopens at the byte where a transient failure cut it.

    `open_at(offset)` opens the resource from `offset` (an HTTP Range request, an S3 seek) and raises
    `TransientSourceError` or `SourceError`; `classify(exc)` turns a read error into a
    `TransientSourceError`, or returns None for errors that must pass unchanged. The budget is spent
    only while no byte arrives: a long download may survive several separate hiccups.
    """

    def __init__(self, open_at: Callable[[int], BinaryIO], what: str, policy: RetryPolicy,
                 classify: Callable[[BaseException], TransientSourceError | None]):
        self._open_at, self._classify, self.what = open_at, classify, what
        self._budget = RetryBudget(policy, what)
        self.position = 0
        self._stream: BinaryIO = self._reopen()

    def _reopen(self) -> BinaryIO:
        while True:
            try:
                return self._open_at(self.position)
            except TransientSourceError as error:
                self._budget.wait_or_give_up(error)

    def read(self, size: int = -1) -> bytes:
        while True:
            try:
                data = self._stream.read(size)
            except Exception as exc:
                error = self._classify(exc)
                if error is None:
                    raise
                self._budget.wait_or_give_up(TransientSourceError(f"{error} at byte {self.position}"))
                self._close_current()
                self._stream = self._reopen()
                continue
            if data:
                self._budget.reset()
            self.position += len(data)
            return data

    def tell(self) -> int:
        return self.position

    def _close_current(self) -> None:
        try:
            self._stream.close()
        except Exception:  # the connection is already broken; closing it is best effort
            pass

    def close(self) -> None:
        if self._stream is not None:
            self._close_current()

    def __enter__(self) -> "ResumingStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

