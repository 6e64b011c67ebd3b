"""Under faults on both sides, `billing-sync sync` (re-run while it exits 1) converges.

Fincome fails 10% of requests with a 5xx, 10% with a 429 and a Retry-After, and applies 5%
of writes but still answers 500; Metronome answers 429s and 500s in the middle of its cursor
walks. Retries are short (3 attempts on Fincome, 4 on Metronome), so some runs give up and
the next run continues. The end state must be the fault-free run's, exactly, with every id
created exactly once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import Bodies, canonical, desired
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.convergence import converged_problems, creation_problems
from tests.reliability.sync_runs import (
    EmulatorControl,
    fault_free_reference,
    point_cli_at,
    sync_in_process,
    sync_until_done,
)

FINCOME_CHAOS = {
    "seed": 11,
    "error_rate": 0.10,
    "throttle_rate": 0.10,
    "applied_error_rate": 0.05,
    "retry_after": 0.05,
}
METRONOME_CHAOS = {"seed": 12, "error_rate": 0.08, "throttle_rate": 0.08, "retry_after": 0.05}
SHORT_RETRIES = {
    "DESTINATION__FINCOME__MAX_ATTEMPTS": "3",
    "SOURCES__METRONOME__MAX_ATTEMPTS": "4",
    "SOURCES__METRONOME__PAGE_SIZE": "2",  # several pages per customer: faults land mid-walk
}


@pytest.fixture
def emulators(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[EmulatorControl, EmulatorControl]:
    return point_cli_at(monkeypatch, metronome_api, fincome_api)


@pytest.fixture
def reference(
    emulators: tuple[EmulatorControl, EmulatorControl], tmp_path: Path
) -> tuple[int, Bodies]:
    return fault_free_reference(tmp_path / "fault-free", emulators[1])


def test_a_sync_under_faults_on_both_sides_converges_to_the_fault_free_state(
    emulators: tuple[EmulatorControl, EmulatorControl],
    reference: tuple[int, Bodies],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reliability_figures: ReliabilityFigures,
) -> None:
    metronome, fincome = emulators
    for name, value in SHORT_RETRIES.items():
        monkeypatch.setenv(name, value)
    fincome.capture_bodies()
    fincome.set_faults(**FINCOME_CHAOS)
    metronome.set_faults(**METRONOME_CHAOS)

    runs = sync_until_done(tmp_path / "faulty")

    injected = {"fincome": fincome.injected(), "metronome": metronome.injected()}
    reliability_figures.add("faults_injected", sum(sum(c.values()) for c in injected.values()))
    reliability_figures.add("failed_runs_rerun", len(runs) - 1)
    fincome.set_faults()
    metronome.set_faults()
    expected_code, expected_state = reference
    assert [run.exit_code for run in runs][-1] == expected_code, [r.report for r in runs]
    for run in runs:  # a failed run says why in one line
        assert "Traceback" not in run.report.get("error", "")
    held = canonical(fincome.state())
    assert converged_problems(held, expected_state, tmp_path / "faulty") == []
    assert creation_problems(fincome.request_log()) == []
    assert set(injected["fincome"]) == {"error", "throttle", "applied_error"}
    assert set(injected["metronome"]) == {"error", "throttle"}
    assert _faulted_mid_walk(metronome)


def test_updates_voids_and_new_invoices_under_faults_converge_to_the_mapped_state(
    emulators: tuple[EmulatorControl, EmulatorControl],
    metronome_api: MetronomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reliability_figures: ReliabilityFigures,
) -> None:
    """A month later: drafts finalized, invoices paid, voided and regenerated upstream. The
    PATCHes (some applied and still answered 500) and creates converge like the first sync."""
    metronome, fincome = emulators
    first = sync_in_process(tmp_path)
    changed = metronome_api.advance(days=31, void=3, regenerate=True)
    assert all(changed[what] for what in ("voided", "finalized", "settled"))
    for name, value in SHORT_RETRIES.items():
        monkeypatch.setenv(name, value)
    fincome.capture_bodies()
    fincome.set_faults(**FINCOME_CHAOS)
    metronome.set_faults(**METRONOME_CHAOS)

    runs = sync_until_done(tmp_path)

    injected = [fincome.injected(), metronome.injected()]
    reliability_figures.add("faults_injected", sum(sum(c.values()) for c in injected))
    reliability_figures.add("failed_runs_rerun", len(runs) - 1)
    fincome.set_faults()
    metronome.set_faults()
    assert runs[-1].exit_code == first.exit_code, [run.report for run in runs]
    held = canonical(fincome.state())
    assert converged_problems(held, desired(tmp_path), tmp_path) == []
    log = fincome.request_log()
    assert creation_problems(log) == []
    assert {"PATCH", "POST"} <= {entry["method"] for entry in log if entry["status"] < 300}


def _faulted_mid_walk(metronome: EmulatorControl) -> bool:
    """Metronome refused at least one page that a cursor pointed to (not a first page)."""
    return any(
        entry["status"] in (429, 500) and "next_page=" in entry["query"]
        for entry in metronome.request_log()
    )
