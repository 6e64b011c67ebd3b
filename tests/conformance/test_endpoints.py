"""The official SDK reads every endpoint the source reads, its paging included."""

from __future__ import annotations

import metronome

from tests.conformance.census import Ledger
from tests.conformance.conftest import Account, record
from tests.conformance.sdk_walk import walk_account

SOURCE_ROUTES = {  # sources/metronome/settings.py and the contract reads
    "GET /v1/customers",
    "GET /v1/customers/{id}/plans",
    "GET /v1/customers/{id}/invoices",
    "GET /v1/customers/{id}/invoices/{id}",
    "GET /v1/plans",
    "GET /v1/planDetails/{id}",
    "GET /v1/planDetails/{id}/charges",
    "GET /v1/credit-types/list",
    "POST /v2/contracts/list",
}


def test_the_sdk_walks_the_whole_account(
    account: Account, sdk: metronome.Metronome, ledger: Ledger
) -> None:
    census = walk_account(sdk, account.state())
    census.requests_by_route.update(account.emulator.requests()["by_route"])
    record(ledger, account, "SDK walk", census)
    assert census.problems == [], "\n".join(census.problems)
    assert set(census.requests_by_route) >= SOURCE_ROUTES
