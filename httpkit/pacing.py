"""Client-side pacing: stay under a configured request rate and back off further on 429s."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class AdaptivePacer:
    """Hands out evenly spaced request slots to any number of threads.

    The rate starts at `rate` requests per second. A 429 halves it (never below `min_rate`)
    and the pause its request really takes holds every caller back (`hold`); each success
    then wins back a small share of the configured rate, so a transient squeeze does not slow
    the run forever (additive increase, multiplicative decrease). `rate=None` disables pacing.

    The pacer only schedules: callers wait for their slot themselves (`ResilientSender` does,
    so the wait counts against the request's budget and wakes when the process stops).
    """

    def __init__(
        self,
        *,
        rate: float | None,
        min_rate: float = 0.5,
        recovery: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive or None")
        self.target_rate = rate
        self._rate = rate
        self._min_rate = min_rate if rate is None else min(min_rate, rate)
        self._recovery = recovery
        self._clock = clock
        self._next_slot = 0.0
        self._lock = threading.Lock()

    @property
    def current_rate(self) -> float | None:
        return self._rate

    def reserve(self, *, within: float = math.inf) -> float:
        """Seconds this caller must wait for its slot.

        The slot is taken only when that wait is at most `within`; a longer wait is returned
        with nothing taken, for a caller whose budget it exceeds to give up instead.
        """
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            wait = slot - now
            if wait <= within and self._rate is not None:
                self._next_slot = slot + 1.0 / self._rate
        return wait

    def throttled(self) -> None:
        """The server answered 429: halve the rate."""
        if self._rate is None:
            return
        with self._lock:
            self._rate = max(self._min_rate, self._rate / 2)

    def hold(self, seconds: float) -> None:
        """No slot for anybody sooner than `seconds` from now (a server-requested pause)."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + seconds)

    def succeeded(self) -> None:
        if self._rate is None or self.target_rate is None or self._rate >= self.target_rate:
            return
        with self._lock:
            self._rate = min(self.target_rate, self._rate + self.target_rate * self._recovery)
