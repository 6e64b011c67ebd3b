"""Thread-safe counters of what a client sent, for run history and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RequestStats:
    """Every attempt is counted, retries included; `by_status` keys are codes or error names."""

    attempts: int = 0
    retries: int = 0
    throttled: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, outcome: str, *, throttled: bool = False) -> None:
        with self._lock:
            self.attempts += 1
            self.throttled += int(throttled)
            self.by_status[outcome] += 1

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "attempts": self.attempts,
                "retries": self.retries,
                "throttled": self.throttled,
                "by_status": dict(sorted(self.by_status.items())),
            }
