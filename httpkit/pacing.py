"""Client-side pacing: stay under a configured request rate and back off further on 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class AdaptivePacer:
    """Hands out evenly spaced request slots to any number of threads.

    The rate starts at `rate` requests per second. A 429 halves it (never below `min_rate`)
    and holds every caller back for the server's Retry-After; each success then wins back a
    small share of the configured rate, so a transient squeeze does not slow the run forever
    (additive increase, multiplicative decrease). `rate=None` disables pacing.
    """

    def __init__(
        self,
        *,
        rate: float | None,
        min_rate: float = 0.5,
        recovery: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive or None")
        self.target_rate = rate
        self._rate = rate
        self._min_rate = min_rate if rate is None else min(min_rate, rate)
        self._recovery = recovery
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._lock = threading.Lock()

    @property
    def current_rate(self) -> float | None:
        return self._rate

    def acquire(self) -> None:
        """Block until this caller may send its request."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            if self._rate is not None:
                self._next_slot = slot + 1.0 / self._rate
            elif slot > now:  # unpaced, but a Retry-After pause still applies
                self._next_slot = slot
        wait = slot - now
        if wait > 0:
            self._sleep(wait)

    def throttled(self, retry_after: float | None) -> None:
        """The server answered 429: slow down and respect its pause for everybody."""
        with self._lock:
            if self._rate is not None:
                self._rate = max(self._min_rate, self._rate / 2)
            if retry_after:
                self._next_slot = max(self._next_slot, self._clock() + retry_after)

    def succeeded(self) -> None:
        if self._rate is None or self.target_rate is None or self._rate >= self.target_rate:
            return
        with self._lock:
            self._rate = min(self.target_rate, self._rate + self.target_rate * self._recovery)
