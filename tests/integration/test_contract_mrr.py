"""MRR end to end: what Fincome shows for contract subscriptions is their price, by hand.

The pinned mixed account is synced into the Fincome emulator, whose `mrr` metric counts each
`subscription` line at its amount over its own service period in months, at the end of the
month. The expected figure is computed apart from the transform, from the generated
contracts and their rate card (`sandbox/metronome/ratecard.py`): for every subscription
active at the month's end, `quantity x price / months per billing period`, in the contract's
currency. Annual, quarterly and monthly prices, seats changed mid-period (prorated lines),
subscriptions billed in advance and in arrears all meet there; an unbillable customer's
subscription is not revenue, so it is left out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.metronome.contracts import Contract, ContractSubscription
from sandbox.metronome.generator import AccountSettings, generate_account
from sandbox.metronome.periods import add_months
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import PINNED_ACCOUNT, PINNED_NOW
from tests.integration.test_sync_end_to_end import cli, configured  # noqa: F401 (a fixture)

# MRR of January to May 2026, each taken at the month's end (lines covering its last instant)
MONTH_ENDS = [datetime(2026, month, 1, tzinfo=UTC) for month in range(2, 7)]
DIVISORS = {"USD (cents)": ("USD", Decimal(100)), "EUR": ("EUR", Decimal(1))}


def _contracts() -> list[Contract]:
    settings = AccountSettings(
        PINNED_ACCOUNT["seed"],
        PINNED_ACCOUNT["customers"],
        PINNED_ACCOUNT["months"],
        PINNED_NOW,
        PINNED_ACCOUNT["contract_customers"],
    )
    return [c for record in generate_account(settings).customers for c in record.contracts]


def _billed_at(subscription: ContractSubscription, month_end: datetime) -> datetime:
    """The start of the monthly invoice that carries the month's line (the emulator judges an
    invoice billable or not at its period's start): the line's first month when billed in
    advance, its last month when billed in arrears."""
    period = subscription.period_of(month_end - timedelta(seconds=1))
    return period.start if subscription.collection == "ADVANCE" else add_months(period.end, -1)


def _expected_mrr(contracts: list[Contract], month_end: datetime) -> dict[str, Decimal]:
    mrr: dict[str, Decimal] = defaultdict(Decimal)
    for contract in contracts:
        if contract.archived_at is not None:
            continue
        for subscription in contract.subscriptions:
            end = subscription.ending_before
            if subscription.starting_at >= month_end or (end is not None and end < month_end):
                continue
            if not contract.billable_at(_billed_at(subscription, month_end)):
                continue
            currency, divisor = DIVISORS[subscription.product.credit_type.name]
            quantity = subscription.quantity_at(month_end - timedelta(seconds=1))
            monthly = quantity * subscription.product.price / subscription.months / divisor
            mrr[currency] += monthly
    return {currency: value.quantize(Decimal("0.01")) for currency, value in mrr.items() if value}


@pytest.mark.usefixtures("configured")
def test_fincome_mrr_of_contract_subscriptions_is_their_price(
    fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    contracts = _contracts()
    expected = {
        (end - timedelta(days=1)).strftime("%Y-%m"): _expected_mrr(contracts, end)
        for end in MONTH_ENDS
    }
    assert {"USD", "EUR"} <= set(expected["2026-05"])  # the account bills both
    subscriptions = sorted(s.id for c in contracts for s in c.subscriptions)
    code, _ = cli("sync", "--data-dir", str(tmp_path))
    assert code in (0, 3)  # plan invoices in a custom pricing unit are set aside

    answer = fincome_api.client().get(
        "/metrics/mrr",
        params={
            "date_start": "2026-01-01",
            "date_end": "2026-05-31",
            "dimension": "currency",
            "filters": json.dumps(
                [{"field": "subscription_id", "op": "in", "value": subscriptions}]
            ),
        },
    )
    assert answer.status_code == 200, answer.text
    shown: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for item in answer.json()["series"]:
        for point in item["points"]:
            if point["value"]:
                value = Decimal(str(point["value"]))
                shown[point["period_start"][:7]][item["keys"]["currency"]] = value
    assert {month: shown.get(month, {}) for month in expected} == expected
