"""The one retry policy: which outcomes are retried and how long to wait before the next try."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; a server's Retry-After wins when it is sane.

    `max_attempts` counts the first try. `budget_seconds` bounds the total time spent waiting
    for one request, so an outage longer than the budget ends the call instead of hanging.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    budget_seconds: float = 120.0
    jitter: tuple[float, float] = (0.75, 1.0)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def is_retryable_status(self, status_code: int) -> bool:
        return status_code in RETRYABLE_STATUSES or status_code >= 500

    def backoff(self, retries_done: int) -> float:
        """Delay before retry number `retries_done + 1` when the server gave no hint."""
        delay = min(self.base_delay * (2**retries_done), self.max_delay)
        low, high = self.jitter
        return float(delay * self.rng.uniform(low, high))

    def delay(self, retries_done: int, response: httpx.Response | None) -> float:
        hinted = retry_after_seconds(response) if response is not None else None
        if hinted is not None and 0 < hinted <= self.max_retry_after:
            return hinted
        return self.backoff(retries_done)


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, else `Retry-After` (secs or date)."""
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
