"""Every record the emulator holds is an instance of the SDK model it is served as."""

from __future__ import annotations

from tests.conformance.census import Ledger
from tests.conformance.conftest import Account, record
from tests.conformance.records import state_census


def test_every_stored_record_matches_its_sdk_model(account: Account, ledger: Ledger) -> None:
    census = state_census(account.state())
    record(ledger, account, "stored records", census)
    assert census.records_by_model["v1.customers.Invoice"] > 0
    assert census.problems == [], "\n".join(census.problems)
