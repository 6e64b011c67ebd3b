"""Ledger files kept open across the batches of a load, and closed soon after it.

dlt calls the destination once per batch and says nothing when a load ends. Opening the
DuckDB file for every batch costs about 15 ms plus a checkpoint on close (roughly a tenth of a
200-row batch against a fast server), while keeping it open for the life of the process would
hold DuckDB's file lock long after the run. So a ledger stays open while batches keep coming
and is closed once it has been idle for `linger` seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from destinations.fincome.ledger import LedgerStore

DEFAULT_LINGER_SECONDS = 2.0


class LedgerPool:
    def __init__(self, *, linger: float = DEFAULT_LINGER_SECONDS) -> None:
        self.linger = linger
        self._lock = threading.Lock()
        self._open: dict[Path, LedgerStore] = {}
        self._users: dict[Path, int] = {}
        self._timers: dict[Path, threading.Timer] = {}

    @contextmanager
    def ledger(self, path: Path) -> Iterator[LedgerStore]:
        """The ledger at `path`, open for the duration of the `with` block at least."""
        store = self._acquire(path)
        try:
            yield store
        finally:
            self._release(path)

    def is_open(self, path: Path) -> bool:
        with self._lock:
            return path in self._open

    def close_all(self) -> None:
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
            for store in self._open.values():
                store.close()
            self._open.clear()
            self._users.clear()

    def _acquire(self, path: Path) -> LedgerStore:
        with self._lock:
            timer = self._timers.pop(path, None)
            if timer is not None:
                timer.cancel()
            store = self._open.get(path)
            if store is None:
                store = self._open[path] = LedgerStore.open(path)
            self._users[path] = self._users.get(path, 0) + 1
            return store

    def _release(self, path: Path) -> None:
        with self._lock:
            self._users[path] -= 1
            if self._users[path] == 0:
                timer = threading.Timer(self.linger, self._close_if_idle, args=(path,))
                timer.daemon = True
                self._timers[path] = timer
                timer.start()

    def _close_if_idle(self, path: Path) -> None:
        with self._lock:
            if self._users.get(path, 0) > 0 or path not in self._open:
                return
            self._timers.pop(path, None)
            self._users.pop(path, None)
            self._open.pop(path).close()
