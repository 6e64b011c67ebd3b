"""A key or token the API refuses (401) is a configuration problem: exit 2 naming the key.

Both emulators answer 401 to a wrong secret. Fincome may also start refusing in the middle of
a push (a key revoked while the run goes on): what it acknowledged before stays in the
ledger, and the next run with a good key finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import canonical, desired
from tests.reliability.sync_runs import EmulatorControl, point_cli_at, sync_in_process

# writes: the sync reads Fincome once before its extract (its pre-flight), with the key intact
REVOKED_AFTER_SIX_WRITES = [
    {"kind": "error", "status": 401, "method": "POST", "skip": 6, "times": 1_000_000}
]


@pytest.fixture
def emulators(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[EmulatorControl, EmulatorControl]:
    return point_cli_at(monkeypatch, metronome_api, fincome_api)


@dataclass(frozen=True)
class Refusal:
    variable: str  # set to a value the API refuses
    value: str
    key: str  # the key the error must name
    refusing_side: int  # 0 Metronome, 1 Fincome


REFUSALS = [
    Refusal(
        "SOURCES__METRONOME__API_TOKEN", "wrong-token-1234", "SOURCES__METRONOME__API_TOKEN", 0
    ),
    Refusal("DESTINATION__FINCOME__API_KEY", "wrong-key-5678", "DESTINATION__FINCOME__API_KEY", 1),
    Refusal("DESTINATION__FINCOME__API_KEY_HEADER", "X-Other", "DESTINATION__FINCOME__API_KEY", 1),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda refusal: refusal.variable)
def test_a_refused_secret_exits_2_naming_its_key(
    refusal: Refusal,
    emulators: tuple[EmulatorControl, EmulatorControl],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(refusal.variable, refusal.value)

    run = sync_in_process(tmp_path)

    assert (run.exit_code, run.report["key"]) == (2, refusal.key), run.report
    assert "refused" in run.report["error"]
    assert refusal.value not in run.output
    statuses = {entry["status"] for entry in emulators[refusal.refusing_side].request_log()}
    assert statuses == {401}


def test_a_key_refused_in_the_middle_of_a_push_exits_2_and_the_next_run_finishes(
    emulators: tuple[EmulatorControl, EmulatorControl], tmp_path: Path
) -> None:
    _, fincome = emulators
    fincome.set_faults(rules=REVOKED_AFTER_SIX_WRITES)

    refused = sync_in_process(tmp_path)

    assert (refused.exit_code, refused.report["key"]) == (2, "DESTINATION__FINCOME__API_KEY")
    writes = [entry for entry in fincome.request_log() if entry["method"] != "GET"]
    accepted = {entry["status"] for entry in writes[:6]}  # after the sync's pre-flight read
    assert accepted == {201}
    fincome.set_faults()
    finished = sync_in_process(tmp_path)
    assert finished.exit_code == 3  # the pinned account's custom pricing unit, set aside
    assert canonical(fincome.state()) == desired(tmp_path)
