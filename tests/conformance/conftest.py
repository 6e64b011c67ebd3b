"""The ring's accounts, an SDK client on the emulator, and the counts of the run.

Every test that validates records adds its `Census` to the session's ledger; at the end of
the run the ledger is written to `conformance-counts.json` in pytest's base temp dir and
printed in the terminal summary (endpoints called, records validated per model, errors).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import metronome
import pytest

from tests.conformance.census import Census, Ledger
from tests.fixtures.metronome import PINNED_ACCOUNT, PINNED_NOW, MetronomeEmulator

NOW = PINNED_NOW.isoformat()
# what `metronome_api` serves; a reset keeps the options it is not given, hence the default
PINNED = {"contract_customers": 0, **PINNED_ACCOUNT}
# The pinned account holds every edge case of the plan generator (and, with 9 contract
# customers, every contract case: sandbox/metronome/contract_stories.py); the other seeds are
# larger and draw other combinations, plans only, contracts only, or both.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "pinned": PINNED,
    "plans-7": {**PINNED, "contract_customers": 0},
    "plans-1": {"seed": 1, "customers": 40, "months": 12, "contract_customers": 0, "now": NOW},
    "plans-2024": {
        "seed": 2024,
        "customers": 30,
        "months": 24,
        "contract_customers": 0,
        "now": NOW,
    },
    "contracts-7": {**PINNED, "customers": 0, "contract_customers": 9},
    "contracts-2024": {
        "seed": 2024,
        "customers": 0,
        "months": 24,
        "contract_customers": 25,
        "now": NOW,
    },
    "mixed-42": {"seed": 42, "customers": 30, "months": 12, "contract_customers": 30, "now": NOW},
}
COUNTS_FILE = "conformance-counts.json"
LEDGER = pytest.StashKey[Ledger]()


@dataclass
class Account:
    name: str
    emulator: MetronomeEmulator

    def state(self) -> dict[str, Any]:
        """What the emulator holds, numbers parsed as the SDK parses them (floats)."""
        state: dict[str, Any] = self.emulator.request("GET", "/_emulator/state").json()
        return state


@pytest.fixture(params=sorted(ACCOUNTS))
def account(request: pytest.FixtureRequest, metronome_api: MetronomeEmulator) -> Iterator[Account]:
    metronome_api.reset(**ACCOUNTS[request.param])
    yield Account(name=request.param, emulator=metronome_api)
    metronome_api.reset(**PINNED)  # the session's emulator goes back to the pinned account


@pytest.fixture
def sdk(metronome_api: MetronomeEmulator) -> Iterator[metronome.Metronome]:
    """The official client, refusing any response that does not match its models."""
    client = metronome.Metronome(
        bearer_token=metronome_api.token,
        base_url=metronome_api.url,
        _strict_response_validation=True,
        max_retries=0,
    )
    with client:
        yield client


@pytest.fixture(scope="session")
def ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    kept = request.config.stash.setdefault(LEDGER, Ledger())
    yield kept
    counts = tmp_path_factory.getbasetemp() / COUNTS_FILE
    counts.write_text(json.dumps(kept.to_json(), indent=2) + "\n")


def record(ledger: Ledger, account: Account, check: str, census: Census) -> None:
    ledger.add(f"{account.name}: {check}", census)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    kept = config.stash.get(LEDGER, None)
    if kept is None or not kept.accounts:
        return
    counts = kept.to_json()
    terminalreporter.section("conformance ring: counts")
    terminalreporter.write_line(json.dumps(counts["total"], indent=2))
    for name, census in counts["accounts"].items():
        terminalreporter.write_line(
            f"{name}: {census['records']} records, {census['errors']} errors, "
            f"{census['endpoints']} endpoints"
        )
