"""The one retry policy: which outcomes are retried and how long to wait before the next try.

Every wait comes out of the request's retry budget (`budget_seconds`, counted from the
request's first attempt). A server that asks for more than is left (a `Retry-After` of an
hour, a date years ahead) fails the request at once with `WaitBeyondBudget`: sleeping that
long would hold the run, and its lock, far beyond what the configuration allows.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import httpx

RETRYABLE_STATUSES = frozenset({408, 429})
# RFC 9110 delay-seconds is `1*DIGIT`; fractions are a common extension (`retry-after-ms`
# too). Anything else (a sign, an exponent, `inf`, `nan`) is junk and ignored.
_DELAY = re.compile(r"[0-9]+(\.[0-9]+)?")


class WaitBeyondBudget(Exception):
    """The server asks for a pause longer than what is left of the request's retry budget.

    `reason` says who asked: the answer's Retry-After, or the pause other requests' 429s put
    on the shared pacer. The message is one line; the client adds which API and setting.
    """

    def __init__(self, *, asked_seconds: float, left_seconds: float, reason: str) -> None:
        super().__init__(
            f"asked to wait {asked_seconds:,.0f} s ({reason}), more than the "
            f"{max(left_seconds, 0.0):.1f} s left of this request's retry budget"
        )
        self.asked_seconds = asked_seconds
        self.left_seconds = left_seconds
        self.reason = reason


class Pause(NamedTuple):
    """A wait before the next try; `asked_by_server` when it is the server's Retry-After."""

    seconds: float
    asked_by_server: bool


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; a server's Retry-After wins when it fits.

    `max_attempts` counts the first try. `budget_seconds` bounds one request as a whole:
    attempts, backoffs and server-requested pauses.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 20.0
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

    def next_pause(
        self, retries_done: int, *, retry_after: float | None, left: float
    ) -> Pause | None:
        """The wait before the next try, or None to give up with the last outcome.

        `left` is what remains of the budget. A Retry-After that does not fit raises
        `WaitBeyondBudget` (the server said no sooner, so no retry can help in time); our
        own backoff that does not fit just ends the retries.
        """
        if retries_done + 1 >= self.max_attempts:
            return None
        if retry_after:
            if retry_after >= left:
                raise WaitBeyondBudget(
                    asked_seconds=retry_after, left_seconds=left, reason="Retry-After"
                )
            return Pause(retry_after, asked_by_server=True)
        backoff = self.backoff(retries_done)
        return Pause(backoff, asked_by_server=False) if backoff < left else None


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, else `Retry-After` (seconds or
    an HTTP date); None when absent or junk. A date in the past is 0."""
    millis = _delay_seconds(response.headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = response.headers.get("retry-after")
    if value is None:
        return None
    seconds = _delay_seconds(value)
    if seconds is not None:
        return seconds
    return _seconds_until(value, now or datetime.now(UTC))


def _delay_seconds(value: str | None) -> float | None:
    if value is None or not _DELAY.fullmatch(value.strip()):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) else None  # 400 digits overflow to inf


def _seconds_until(value: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):  # junk, or year 0 / 10000
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
