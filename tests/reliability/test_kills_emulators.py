"""`kill -9` at seeded random moments of extract and push, against our two emulators.

Each trial kills the real `billing-sync sync` (a process) at a kill point drawn from a seeded
generator, checks the DuckDB file it left still opens and answers, then re-runs to completion
past the dead run's lock file: Fincome must hold exactly the fault-free state, every id
created once (see `kill_trials`). Trials run in two lanes, each with its own emulator pair.

With the 6 of `test_kills_foreign.py`, the suite kills 20 runs. Knobs (environment):
RELIABILITY_KILL_TRIALS (kills that must land here, default 14) and
RELIABILITY_KILL_SEED (default 20261121): a failing trial prints its kill point, and the
same seed replays the same points.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.kill_trials import calibrate, plan_kill_points, run_in_lanes
from tests.reliability.pairs import emulator_pair

KILLS_WANTED = int(os.environ.get("RELIABILITY_KILL_TRIALS", "14"))
SEED = int(os.environ.get("RELIABILITY_KILL_SEED", "20261121"))
LANES = 2
SPARE_POINTS = 10  # a point past the end of a run kills nothing; the next one is drawn


@pytest.mark.slow
def test_kill_9_anywhere_in_extract_or_push_then_a_re_run_converges(
    tmp_path: Path, reliability_figures: ReliabilityFigures
) -> None:
    with ExitStack() as stack:
        pairs = [stack.enter_context(emulator_pair()) for _ in range(LANES)]
        reference = calibrate(pairs[0], tmp_path / "calibration")
        points = plan_kill_points(SEED, KILLS_WANTED + SPARE_POINTS, reference)
        outcomes = run_in_lanes(pairs, points, KILLS_WANTED, tmp_path, reference)

    killed = [outcome for outcome in outcomes if outcome.killed]
    reliability_figures.add("kill_trials", len(killed))
    failures = [f"{o.point}: {problem}" for o in outcomes for problem in o.problems]
    assert not failures, "\n".join(failures)  # whole: the path of a missing file matters
    assert len(killed) >= KILLS_WANTED
    assert {"extract", "push"} <= {outcome.phase for outcome in killed}
    assert any(outcome.stale_lock for outcome in killed)
