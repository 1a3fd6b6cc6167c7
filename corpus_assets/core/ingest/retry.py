"""Retries with exponential backoff for network reads (Common Crawl answers 503/SlowDown under load)."""
from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def with_retries(fn: Callable[[], T], *, what: str, attempts: int = 6, base_delay: float = 1.0,
                 retry_on: tuple[type[BaseException], ...] = (OSError,)) -> T:
    """Call `fn`, retrying on `retry_on` with exponential backoff and jitter; re-raise after `attempts`."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except retry_on as exc:
            if attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1) * (0.5 + random.random())
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, exc, attempt, attempts - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")
