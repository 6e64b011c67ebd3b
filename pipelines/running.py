"""A running command's progress, kept in a small JSON file so others can watch it.

DuckDB lets no other process open the data dir's file while a run writes it, so `status`
and `rejects` cannot read a running sync's tables. Instead the run keeps
`<data dir>/progress.json` current (replaced atomically by a thread of its own, at most
`WRITES_PER_SECOND` times a second when something changed, and at once at each change of
phase: the workers that count never write a file), and removes it when it ends:

    {"pid": 4242, "command": "sync", "started_at": "2026-11-21T02:00:00+00:00",
     "updated_at": "2026-11-21T02:00:41+00:00", "phase": "push",
     "counters": [{"name": "extract: customers read", "done": 300, "total": 300},
                  {"name": "push invoices", "done": 1200, "total": 4100}],
     "requests": {"attempts": 1731, "by_status": {"200": 420, "201": 1311}},
     "rejects": 2}

`rejects` counts the records set aside so far in this run (extract and transform rejects
once their stage ends, push rejects as Fincome refuses them). A file left by a killed run is
never taken for a live one: `live_run` is asked only while someone holds the data-dir lock,
and checks that the file's process is alive.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter as Tally
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from httpkit import RequestLine, listening
from pipelines.datadir import DataDir

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"
WRITES_PER_SECOND = 4


def progress_path(data_dir: DataDir) -> Path:
    return data_dir.root / PROGRESS_FILE


class RunSnapshot:
    """What a run has done so far, written to `progress.json` as it goes (thread-safe)."""

    def __init__(self, path: Path, command: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._failed = False  # a write failed: said once
        self._state: dict[str, Any] = {
            "pid": os.getpid(),
            "command": command,
            "started_at": _now(),
            "updated_at": _now(),
            "phase": "starting",
            "counters": [],
            "requests": {"attempts": 0, "by_status": {}},
            "rejects": 0,
        }
        self._counters: dict[str, list[int]] = {}  # name -> [done, total]
        self._statuses: Tally[str] = Tally()

    def phase(self, name: str) -> None:
        with self._lock:
            self._state["phase"] = name
        self.flush()

    def counted(self, name: str, *, done: int = 0, total: int = 0) -> None:
        """Add to a counter's work done and its total (a new name starts a counter)."""
        with self._lock:
            counter = self._counters.setdefault(name, [0, 0])
            counter[0] += done
            counter[1] += total
        self._changed.set()

    def rejected(self, count: int) -> None:
        with self._lock:
            self._state["rejects"] += count
        self._changed.set()

    def requested(self, line: RequestLine) -> None:
        with self._lock:
            self._statuses[line.status] += 1
        self._changed.set()

    def flush(self) -> None:
        """Write the file now."""
        self._changed.clear()
        with self._lock:
            self._write()

    def keep_written(self, stop: threading.Event) -> None:
        """Until `stop`, write the file whenever something changed, a tick apart at least."""
        while not stop.is_set():
            if self._changed.wait(timeout=0.5):
                self.flush()
                stop.wait(1 / WRITES_PER_SECOND)

    def _write(self) -> None:
        """Replace the file with the state (under the lock)."""
        self._state["updated_at"] = _now()
        self._state["counters"] = [
            {"name": name, "done": done, "total": total}
            for name, (done, total) in self._counters.items()
        ]
        self._state["requests"] = {
            "attempts": sum(self._statuses.values()),
            "by_status": dict(sorted(self._statuses.items())),
        }
        partial = self._path.with_name(f".{self._path.name}.{os.getpid()}")
        try:
            partial.write_text(json.dumps(self._state))
            os.replace(partial, self._path)  # a reader sees the old file or the new one, whole
        except OSError as exc:  # watching is a convenience: it never fails the run
            if not self._failed:
                log.warning("cannot keep the progress snapshot %s: %s", self._path, exc)
            self._failed = True


@contextmanager
def run_snapshot(data_dir: DataDir, command: str) -> Iterator[RunSnapshot]:
    """A snapshot kept in the data dir while the block runs (under the run lock), and
    removed when it ends, however it ends."""
    path = progress_path(data_dir)
    snapshot = RunSnapshot(path, command)
    snapshot.flush()
    stop = threading.Event()
    writer = threading.Thread(
        target=snapshot.keep_written, args=(stop,), name="progress-snapshot", daemon=True
    )
    writer.start()
    try:
        with listening(snapshot.requested):
            yield snapshot
    finally:
        stop.set()
        writer.join()
        path.unlink(missing_ok=True)


def live_run(data_dir: DataDir) -> dict[str, Any] | None:
    """The progress of the run that holds the data dir's lock, if its file says so.

    Call it only when the lock is held by someone else: a file whose process is gone was
    left by a killed run (None: nothing is known of the run holding the lock now).
    """
    try:
        snapshot: dict[str, Any] = json.loads(progress_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    pid = snapshot.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return None
    return snapshot


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
