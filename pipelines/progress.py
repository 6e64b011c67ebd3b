"""Progress bars for long work, drawn on stderr and only for a person at a terminal.

    with progress_bars(enabled=not json_output) as bars:
        customers = bars.counter("extract: customers read")   # total unknown: it grows
        customers.grow(); ...; customers.advance()

Without a terminal on stderr (cron, Airflow, a pipe) or with `enabled=False` (`--json`)
nothing is drawn and every call costs next to nothing. Whether drawn or not, a run's
counters, phases and rejects also go to its snapshot (`running.RunSnapshot`), which others
read while the run holds the data dir (`status`, `rejects`). Counters may be advanced from any
thread: rich's `Progress` takes its own lock. The bars vanish when the work ends, so the
command's tables and summary line follow on a clean screen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from pipelines.running import RunSnapshot


class Counter:
    """One bar: `advance` as work is done, `grow` as work is discovered."""

    def __init__(
        self, progress: Progress, description: str, total: int, snapshot: RunSnapshot | None
    ) -> None:
        self._progress = progress
        self._total = total
        self._lock = threading.Lock()  # `grow` reads and writes the total as one step
        self._task = progress.add_task(description, total=total)
        self._description = description
        self._snapshot = snapshot
        if snapshot is not None:
            snapshot.counted(description, total=total)

    def advance(self, count: int = 1) -> None:
        self._progress.advance(self._task, count)
        if self._snapshot is not None:
            self._snapshot.counted(self._description, done=count)

    def grow(self, count: int = 1) -> None:
        with self._lock:
            self._total += count
            self._progress.update(self._task, total=self._total)
        if self._snapshot is not None:
            self._snapshot.counted(self._description, total=count)


class Bars:
    """Makes counters on one live display (or on a disabled one that draws nothing), and
    tells the run's snapshot, when there is one, the phase and the rejects so far."""

    def __init__(self, progress: Progress, snapshot: RunSnapshot | None = None) -> None:
        self._progress = progress
        self._snapshot = snapshot

    def counter(self, description: str, total: int = 0) -> Counter:
        return Counter(self._progress, description, total, self._snapshot)

    def phase(self, name: str) -> None:
        """The run's current phase (`extract`, `transform`, `push`...), for watchers."""
        if self._snapshot is not None:
            self._snapshot.phase(name)

    def rejected(self, count: int = 1) -> None:
        """`count` more records set aside in this run, for watchers."""
        if self._snapshot is not None:
            self._snapshot.rejected(count)


@contextmanager
def progress_bars(
    *, enabled: bool, console: Console | None = None, snapshot: RunSnapshot | None = None
) -> Iterator[Bars]:
    """Bars on `console` (stderr by default) while the block runs, if a person can see them;
    their counts also go to `snapshot`."""
    console = console or Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (enabled and console.is_terminal),
    )
    with progress:
        yield Bars(progress, snapshot)


def no_bars() -> Bars:
    """Counters that draw nothing, for callers that show no progress (library use, tests)."""
    return Bars(Progress(disable=True))
