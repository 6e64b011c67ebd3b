"""Kill trials: SIGKILL the real `billing-sync sync` at a seeded random moment, then re-run.

A trial on a `Pair` (any Metronome + Fincome pair the CLI can reach over loopback):

1. Fincome starts empty and a new data dir is used;
2. `billing-sync sync` starts as a process and is killed at its `KillPoint`: after the n-th
   request one of the servers answered (extract: Metronome; push: a Fincome write, since a
   sync reads Fincome once before its extract), plus a pause, or
   a pause after the start (imports, lock, run record);
3. the DuckDB file left behind must open and answer a count on every table;
4. a re-run (the lock file of the dead process still there) must finish with the exit code
   of a fault-free run, and leave Fincome in exactly the fault-free state (`convergence`).

Kill points are drawn from a seeded `random.Random` over the phases measured once by a
calibration run (`Calibration`), so the same seed gives the same trials on any machine: the
anchors are request counts, not times.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import duckdb

from tests.integration.bodies import Bodies
from tests.reliability.convergence import converged_problems
from tests.reliability.sync_runs import PROCESS_TIMEOUT, run_cli, start_cli

Anchor = Literal["start", "metronome", "fincome"]
POLL_SECONDS = 0.01
REQUEST_PAUSE = 0.2  # at most this long after the anchoring request
DUCKDB_FILE = "billing_sync.duckdb"
LOCK_FILE = "billing-sync.lock"


class Pair(Protocol):
    """What a kill trial needs from a Metronome + Fincome pair."""

    @property
    def env(self) -> dict[str, str]: ...

    def metronome_requests(self) -> int: ...
    def fincome_writes(self) -> int: ...
    def fresh_start(self) -> None: ...
    def held(self) -> Bodies: ...
    def creation_problems(self) -> list[str]: ...


@dataclass(frozen=True)
class KillPoint:
    """Kill `pause_seconds` after the `after_requests`-th answer of `anchor` (or the start)."""

    anchor: Anchor
    after_requests: int
    pause_seconds: float

    def __str__(self) -> str:
        if self.anchor == "start":
            return f"{self.pause_seconds:.2f}s after the start"
        return f"{self.pause_seconds:.2f}s after {self.anchor} request #{self.after_requests}"


@dataclass(frozen=True)
class Calibration:
    """A fault-free run of the pair: its outcome, its requests, the time before extract."""

    exit_code: int
    state: Bodies
    metronome_requests: int
    fincome_writes: int
    startup_seconds: float


def calibrate(pair: Pair, data_dir: Path) -> Calibration:
    """One complete fault-free run of the pair."""
    pair.fresh_start()
    started = time.monotonic()
    process = start_cli(["sync", "--data-dir", str(data_dir)], pair.env)
    startup = _wait_for(lambda: pair.metronome_requests() > 0, process)
    exit_code = process.wait(timeout=PROCESS_TIMEOUT)
    return Calibration(
        exit_code=exit_code,
        state=pair.held(),
        metronome_requests=pair.metronome_requests(),
        fincome_writes=pair.fincome_writes(),
        startup_seconds=startup - started,
    )


def plan_kill_points(seed: int, count: int, calibration: Calibration) -> list[KillPoint]:
    """`count` kill points, a tenth at start-up and the rest split between extract and push."""
    rng = random.Random(seed)
    anchors: list[Anchor] = ["start", "metronome", "fincome"]
    points = []
    for _ in range(count):
        anchor = rng.choices(anchors, weights=(1, 4.5, 4.5))[0]
        if anchor == "start":
            points.append(KillPoint("start", 0, rng.uniform(0, calibration.startup_seconds)))
            continue
        requests = (
            calibration.metronome_requests if anchor == "metronome" else calibration.fincome_writes
        )
        points.append(KillPoint(anchor, rng.randint(1, requests), rng.uniform(0, REQUEST_PAUSE)))
    return points


@dataclass
class TrialOutcome:
    point: KillPoint
    killed: bool  # False when the run finished before its kill point
    phase: str = ""  # where the kill landed: start-up, extract or push
    stale_lock: bool = False  # the dead run's lock file was left behind
    problems: list[str] = field(default_factory=list)


def run_trial(pair: Pair, point: KillPoint, data_dir: Path, reference: Calibration) -> TrialOutcome:
    pair.fresh_start()
    process = start_cli(["sync", "--data-dir", str(data_dir)], pair.env)
    killed = _kill_at(process, point, pair)
    outcome = TrialOutcome(point, killed, phase=_phase(pair))
    outcome.stale_lock = (data_dir / LOCK_FILE).exists()
    outcome.problems += _unusable_duckdb(data_dir / DUCKDB_FILE)
    expected = _expected_exit(data_dir, pair.env, reference.exit_code)
    rerun = run_cli(["sync", "--data-dir", str(data_dir), "--json"], pair.env)
    if rerun.returncode != expected:
        outcome.problems.append(
            f"the re-run exited {rerun.returncode}: {rerun.stdout[-500:]}\n{rerun.stderr[-2000:]}"
        )
        return outcome
    outcome.problems += converged_problems(pair.held(), reference.state, data_dir)
    outcome.problems += pair.creation_problems()
    return outcome


def run_in_lanes(
    pairs: Sequence[Pair],
    points: Sequence[KillPoint],
    kills_wanted: int,
    workdir: Path,
    reference: Calibration,
) -> list[TrialOutcome]:
    """Trials in point order, one lane per pair, until `kills_wanted` kills have landed."""
    queue = iter(enumerate(points))
    outcomes: list[TrialOutcome] = []
    lock = threading.Lock()

    def lane(pair: Pair) -> None:
        while True:
            with lock:
                landed = sum(outcome.killed for outcome in outcomes)
                index, point = next(queue, (-1, None)) if landed < kills_wanted else (-1, None)
            if point is None:
                return
            outcome = run_trial(pair, point, workdir / f"trial-{index}", reference)
            with lock:
                outcomes.append(outcome)

    with ThreadPoolExecutor(len(pairs)) as pool:
        for finished in [pool.submit(lane, pair) for pair in pairs]:
            finished.result()
    return outcomes


def _expected_exit(data_dir: Path, env: dict[str, str], fault_free: int) -> int:
    """The re-run exits as a fault-free run would, except for exit 3, which is for records
    no finished run has reported: a run killed after it recorded its end (exit 3) had
    reported them, so the re-run that finds only those exits 0."""
    if fault_free != 3:
        return fault_free
    status = run_cli(["status", "--data-dir", str(data_dir), "--json"], env)
    runs = json.loads(status.stdout)["runs"] if status.returncode == 0 else []
    return 0 if runs and runs[0]["exit_code"] == 3 else 3


def _kill_at(process: subprocess.Popen[bytes], point: KillPoint, pair: Pair) -> bool:
    """SIGKILL at the point; False when the process had already ended by then."""
    counters: dict[Anchor, Callable[[], int]] = {
        "start": lambda: 0,
        "metronome": pair.metronome_requests,
        "fincome": pair.fincome_writes,
    }
    count = counters[point.anchor]
    _wait_for(lambda: count() >= point.after_requests, process)
    time.sleep(point.pause_seconds)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=PROCESS_TIMEOUT)
    return alive


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> float:
    """Poll until `condition` holds or the process ends; the monotonic time it happened."""
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not condition() and process.poll() is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the run neither reached its kill point nor ended")
        time.sleep(POLL_SECONDS)
    return time.monotonic()


def _phase(pair: Pair) -> str:
    if pair.fincome_writes():
        return "push"
    return "extract" if pair.metronome_requests() else "start-up"


def _unusable_duckdb(path: Path) -> list[str]:
    """Open the file a killed run left (read-only: the re-run must do its own recovery)."""
    if not path.exists():
        return []
    try:
        with duckdb.connect(str(path), read_only=True) as db:
            tables = db.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
            for schema, table in tables:
                db.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()
    except duckdb.Error as exc:
        return [f"the DuckDB file is unusable after the kill: {exc}"]
    return []
