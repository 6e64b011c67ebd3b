"""Timeouts, dropped connections and outages, on both sides.

A request that hangs past the client's timeout and a connection dropped mid-response are
retried like any 5xx, so one run still finishes. An outage longer than the retry budget ends
the run with exit 1 and one clear line (no traceback, no secret), and the next run, once the
server is back, finishes the job.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import Bodies, canonical
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.convergence import converged_problems
from tests.reliability.sync_runs import (
    EmulatorControl,
    fault_free_reference,
    pair_env,
    point_cli_at,
    process_env,
    run_cli,
    sync_in_process,
)

HANG_SECONDS = 5.0
SHORT_TIMEOUTS = {
    "DESTINATION__FINCOME__TIMEOUT_SECONDS": "1",
    "SOURCES__METRONOME__TIMEOUT_SECONDS": "1",
}
# scripted so that each fault surely happens, on a read and on a write
METRONOME_FAULTS = [
    {"kind": "hang", "method": "GET", "path_contains": "/invoices", "skip": 3, "times": 2},
    {"kind": "drop", "method": "GET", "path_contains": "/plans", "skip": 1, "times": 2},
]
FINCOME_FAULTS = [
    {"kind": "hang", "method": "POST", "path_contains": "/customers", "skip": 2, "times": 2},
    {"kind": "drop", "method": "POST", "path_contains": "/invoices", "skip": 4, "times": 2},
]


@pytest.fixture
def emulators(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[EmulatorControl, EmulatorControl]:
    return point_cli_at(monkeypatch, metronome_api, fincome_api)


@pytest.fixture
def apis(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator
) -> tuple[MetronomeEmulator, FincomeEmulator]:
    return metronome_api, fincome_api


@pytest.fixture
def reference(
    emulators: tuple[EmulatorControl, EmulatorControl], tmp_path: Path
) -> tuple[int, Bodies]:
    return fault_free_reference(tmp_path / "fault-free", emulators[1])


def test_hangs_past_the_timeout_and_dropped_connections_are_retried_on_both_sides(
    emulators: tuple[EmulatorControl, EmulatorControl],
    reference: tuple[int, Bodies],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reliability_figures: ReliabilityFigures,
) -> None:
    metronome, fincome = emulators
    for name, value in SHORT_TIMEOUTS.items():
        monkeypatch.setenv(name, value)
    metronome.set_faults(hang_seconds=HANG_SECONDS, rules=METRONOME_FAULTS)
    fincome.set_faults(hang_seconds=HANG_SECONDS, rules=FINCOME_FAULTS)

    run = sync_in_process(tmp_path / "faulty")

    injected = [metronome.injected(), fincome.injected()]
    reliability_figures.add("faults_injected", sum(sum(c.values()) for c in injected))
    assert injected == [{"hang": 2, "drop": 2}] * 2
    expected_code, expected_state = reference
    assert run.exit_code == expected_code, run.report
    for side in ("extract", "push"):  # the clients saw both faults and tried again
        seen = run.report[side]["requests"]["by_status"]
        assert {"ReadTimeout", "RemoteProtocolError"} <= set(seen), seen
    held = canonical(fincome.state())
    assert converged_problems(held, expected_state, tmp_path / "faulty") == []


def test_a_fincome_outage_past_the_retry_budget_fails_in_one_line_then_the_next_run_finishes(
    emulators: tuple[EmulatorControl, EmulatorControl],
    reference: tuple[int, Bodies],
    apis: tuple[MetronomeEmulator, FincomeEmulator],
    tmp_path: Path,
    reliability_figures: ReliabilityFigures,
) -> None:
    _, fincome = emulators
    metronome_api, fincome_api = apis
    fincome.set_faults(error_rate=1.0)
    variables = pair_env(
        metronome_url=metronome_api.url,
        token=metronome_api.token,
        fincome_url=fincome_api.url,
        key=fincome_api.api_key,
    )
    budget = {"DESTINATION__FINCOME__RETRY_BUDGET_SECONDS": "1.5"}
    args = ["sync", "--data-dir", str(tmp_path / "outage")]

    failed = run_cli(args, process_env({**variables, **budget}))

    reliability_figures.add("faults_injected", sum(fincome.injected().values()))
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.count("\n") == 1, failed.stderr
    assert "sync failed (exit 1)" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert "answered 500" in failed.stderr
    assert fincome_api.api_key not in failed.stderr
    fincome.set_faults()
    finished = sync_in_process(tmp_path / "outage")
    expected_code, expected_state = reference
    assert finished.exit_code == expected_code
    held = canonical(fincome.state())
    assert converged_problems(held, expected_state, tmp_path / "outage") == []


def test_a_metronome_outage_past_the_retry_budget_fails_in_one_line_then_the_next_run_finishes(
    emulators: tuple[EmulatorControl, EmulatorControl],
    reference: tuple[int, Bodies],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reliability_figures: ReliabilityFigures,
) -> None:
    metronome, fincome = emulators
    metronome.set_faults(error_rate=1.0)
    monkeypatch.setenv("SOURCES__METRONOME__RETRY_BUDGET_SECONDS", "1.5")

    failed = sync_in_process(tmp_path / "outage")

    reliability_figures.add("faults_injected", sum(metronome.injected().values()))
    assert failed.exit_code == 1
    assert failed.report["error"].startswith("extract step failed: GET /v1/")
    assert "\n" not in failed.report["error"]
    assert fincome.request_count() == 0  # nothing half-extracted was pushed
    metronome.set_faults()
    finished = sync_in_process(tmp_path / "outage")
    expected_code, expected_state = reference
    assert finished.exit_code == expected_code
    held = canonical(fincome.state())
    assert converged_problems(held, expected_state, tmp_path / "outage") == []
