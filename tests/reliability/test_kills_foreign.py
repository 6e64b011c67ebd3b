"""`kill -9` at seeded random moments against servers that speak the wire formats but are
not ours (`tests/fixtures/foreign.py`): the re-run must converge just the same.

Same trials as `test_kills_emulators.py` (see `kill_trials`), fewer of them: the foreign
account is small. RELIABILITY_KILL_SEED replays them.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.kill_trials import calibrate, plan_kill_points, run_in_lanes
from tests.reliability.pairs import foreign_pair

KILLS_WANTED = 6
SEED = int(os.environ.get("RELIABILITY_KILL_SEED", "20261121"))
LANES = 2
SPARE_POINTS = 6


@pytest.mark.slow
def test_kill_9_against_foreign_servers_then_a_re_run_converges(
    tmp_path: Path, reliability_figures: ReliabilityFigures
) -> None:
    with ExitStack() as stack:
        pairs = [stack.enter_context(foreign_pair()) for _ in range(LANES)]
        reference = calibrate(pairs[0], tmp_path / "calibration")
        points = plan_kill_points(SEED + 1, KILLS_WANTED + SPARE_POINTS, reference)
        outcomes = run_in_lanes(pairs, points, KILLS_WANTED, tmp_path, reference)

    killed = [outcome for outcome in outcomes if outcome.killed]
    reliability_figures.add("kill_trials", len(killed))
    failures = [f"{o.point}: {problem}" for o in outcomes for problem in o.problems]
    assert not failures, "\n".join(failures)  # whole: the path of a missing file matters
    assert len(killed) >= KILLS_WANTED
    assert {"extract", "push"} <= {outcome.phase for outcome in killed}
