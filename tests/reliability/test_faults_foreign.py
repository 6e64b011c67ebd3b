"""Fault convergence against servers that speak the wire formats but are not ours.

The foreign Fincome (`ContractServer`) fails 10% of requests with a 500, 10% with a 429 and
a Retry-After, and applies 5% of writes but still answers 500; the foreign Metronome, behind
`FaultMiddleware`, throttles and fails pages in the middle of an invoice walk (one customer
at a time, two invoices a page, so the 2nd and 5th invoice pages are cursor pages). A sync
re-run while it exits 1 must leave exactly the state of a fault-free sync.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.common.faults import FaultSettings
from tests.fixtures.foreign import ContractFaults
from tests.integration.bodies import Bodies
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.convergence import converged_problems
from tests.reliability.pairs import ForeignPair, foreign_pair
from tests.reliability.sync_runs import sync_in_process, sync_until_done

FINCOME_CHAOS = {"error_rate": 0.10, "throttle_rate": 0.10, "applied_error_rate": 0.05}
MID_WALK = [
    {
        "kind": "throttle",
        "status": 429,
        "path_contains": "/invoices",
        "skip": 1,
        "retry_after": 0.05,
    },
    {"kind": "error", "status": 500, "path_contains": "/invoices", "skip": 3},
]
WALK_ONE_CUSTOMER_AT_A_TIME = {
    "SOURCES__METRONOME__PAGE_SIZE": "2",
    "SOURCES__METRONOME__MAX_CONCURRENCY": "1",
    "SOURCES__METRONOME__MAX_ATTEMPTS": "3",
    "DESTINATION__FINCOME__MAX_ATTEMPTS": "3",
}


def point_at(pair: ForeignPair, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**pair.variables, **WALK_ONE_CUSTOMER_AT_A_TIME}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Bodies]:
    with foreign_pair() as pair, monkeypatch.context() as patch:
        point_at(pair, patch)
        run = sync_in_process(tmp_path / "fault-free")
        return run.exit_code, pair.held()


def test_a_sync_under_faults_on_foreign_servers_converges_to_the_fault_free_state(
    reference: tuple[int, Bodies],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reliability_figures: ReliabilityFigures,
) -> None:
    fincome_chaos = ContractFaults(seed=3, retry_after=0.05, **FINCOME_CHAOS)
    metronome_chaos = FaultSettings.model_validate(
        {
            "seed": 4,
            "error_rate": 0.05,
            "throttle_rate": 0.05,
            "retry_after": 0.05,
            "rules": MID_WALK,
        }
    )
    with foreign_pair(fincome_chaos, metronome_chaos) as pair:
        point_at(pair, monkeypatch)
        runs = sync_until_done(tmp_path / "faulty")
        held = pair.held()
        created = dict(pair.fincome.created)
        assert pair.metronome_faults is not None
        injected = {
            "fincome": dict(fincome_chaos.injected),
            "metronome": pair.metronome_faults.injected,
        }

    reliability_figures.add("faults_injected", sum(sum(c.values()) for c in injected.values()))
    expected_code, expected_state = reference
    assert runs[-1].exit_code == expected_code, [run.report for run in runs]
    for run in runs:  # a failed run says why in one line
        assert "Traceback" not in run.report.get("error", "")
    assert converged_problems(held, expected_state, tmp_path / "faulty") == []
    assert set(created.values()) == {1}  # every record created exactly once
    assert len(created) == sum(len(records) for records in held.values())
    assert set(injected["fincome"]) == {"error", "throttle", "applied_error"}
    assert {"error", "throttle"} <= set(injected["metronome"])
