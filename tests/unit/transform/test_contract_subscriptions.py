"""Contract subscriptions: one Fincome subscription each, its monthly value from its own line."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pipelines.transform.options import MappingOptions
from tests.unit.transform.contracts import (
    MARCH,
    contract,
    contract_invoice,
    contract_subscription,
    lines_of,
    run_contracts,
    subscription,
    subscription_row,
    usage,
)

D = Decimal
YEAR = ("2024-03-01T00:00:00Z", "2025-03-01T00:00:00Z")
QUARTER = ("2024-03-01T00:00:00Z", "2024-06-01T00:00:00Z")
WEEK = ("2024-03-04T00:00:00Z", "2024-03-11T00:00:00Z")


@pytest.mark.parametrize(
    ("period", "total_cents", "expected"),
    [
        (MARCH, 100000, D("1000.00")),
        (QUARTER, 300000, D("1000.00")),
        (YEAR, 1200000, D("1000.00")),
        (WEEK, 70000, D("3100.00")),  # 7 of March's 31 days: 700 a week is 3,100 a month
    ],
)
def test_monthly_value_is_the_latest_full_line_over_its_own_period(
    period: tuple[str, str], total_cents: int, expected: Decimal
) -> None:
    """An annual 12,000 subscription billed on a monthly invoice is 1,000 a month."""
    state = run_contracts(contract_invoice(lines=[subscription(total_cents, period)]))
    row = subscription_row(state, "sub-1")
    assert (row["monthly_value"], row["currency_code"]) == (expected, "USD")


def test_a_prorated_line_never_sets_the_monthly_value() -> None:
    full = contract_invoice("inv-1", [subscription(100000)])
    half = ("2024-03-16T00:00:00Z", MARCH[1])
    prorated = contract_invoice(
        "inv-2", [subscription(25000, half, prorated=True)], issued_at="2024-03-16T00:00:00Z"
    )
    state = run_contracts(full, prorated)
    assert subscription_row(state, "sub-1")["monthly_value"] == D("1000.00")
    [line] = lines_of(state, "inv-2")
    assert (line["period_start"], line["period_end"]) == (
        datetime(2024, 3, 16, tzinfo=UTC),
        datetime(2024, 4, 1, tzinfo=UTC),
    )
    assert line["proration_target_line_item_id"] == "inv-1:L0"
    assert line["subscription_id"] == "sub-1"


def test_a_prorated_line_without_a_known_full_line_has_no_target() -> None:
    half = ("2024-03-16T00:00:00Z", MARCH[1])
    state = run_contracts(contract_invoice(lines=[subscription(25000, half, prorated=True)]))
    [line] = lines_of(state)
    assert line["proration_target_line_item_id"] is None
    assert subscription_row(state, "sub-1")["monthly_value"] is None


def test_a_subscription_line_s_period_is_its_own_never_the_invoice_s() -> None:
    state = run_contracts(contract_invoice(lines=[subscription(1200000, YEAR)]))
    [line] = lines_of(state)
    assert (line["period_start"], line["period_end"]) == (
        datetime(2024, 3, 1, tzinfo=UTC),
        datetime(2025, 3, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("ending_before", "as_of", "status", "canceled_at"),
    [
        (None, datetime(2024, 6, 15, tzinfo=UTC), "active", None),
        ("2025-01-01T00:00:00Z", datetime(2024, 6, 15, tzinfo=UTC), "active", None),
        (
            "2024-05-01T00:00:00Z",
            datetime(2024, 6, 15, tzinfo=UTC),
            "canceled",
            datetime(2024, 5, 1, tzinfo=UTC),
        ),
    ],
)
def test_status_and_dates_come_from_the_contract_subscription(
    ending_before: str | None, as_of: datetime, status: str, canceled_at: datetime | None
) -> None:
    staged = [contract(subscriptions=[contract_subscription(ending_before=ending_before)])]
    state = run_contracts(contract_invoice(), contracts=staged, as_of=as_of)
    row = subscription_row(state, "sub-1")
    assert (row["status"], row["canceled_at"], row["effective_cancellation_date"]) == (
        status,
        canceled_at,
        canceled_at,
    )
    assert row["subscription_start_date"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert row["custom_properties"]["metronome_contract_id"] == "k-1"
    assert row["custom_properties"]["metronome_subscription_source"] == "contract_subscription"


def test_a_staged_subscription_without_lines_is_still_a_subscription() -> None:
    state = run_contracts(contract_invoice(lines=[usage(1000)]))
    row = subscription_row(state, "sub-1")
    assert (row["status"], row["monthly_value"]) == ("active", None)


def test_a_subscription_line_whose_subscription_is_not_staged_builds_it_from_its_lines() -> None:
    raw = contract_invoice(lines=[subscription(300000, QUARTER, "sub-9")])
    state = run_contracts(raw, contracts=[], as_of=datetime(2024, 5, 15, tzinfo=UTC))
    row = subscription_row(state, "sub-9")
    assert (row["monthly_value"], row["status"]) == (D("1000.00"), "active")
    ended = subscription_row(run_contracts(raw, contracts=[]), "sub-9")  # as of June 15
    assert (ended["status"], ended["canceled_at"]) == ("canceled", datetime(2024, 6, 1, tzinfo=UTC))
    assert row["subscription_start_date"] == datetime(2024, 3, 1, tzinfo=UTC)
    assert row["custom_properties"]["metronome_subscription_source"] == "subscription_lines"


def test_usage_lines_link_to_the_contract_and_subscription_lines_to_their_subscription() -> None:
    state = run_contracts(contract_invoice(lines=[subscription(100000), usage(5000)]))
    links = [line["subscription_id"] for line in lines_of(state)]
    assert links == ["sub-1", "k-1"]
    assert subscription_row(state, "k-1")["monthly_value"] == D("50.00")
    assert subscription_row(state, "sub-1")["monthly_value"] == D("1000.00")


def test_a_contract_with_only_subscription_lines_has_no_contract_subscription() -> None:
    state = run_contracts(contract_invoice(lines=[subscription(100000)]))
    assert [row["id"] for row in state.rows["subscriptions"]] == ["sub-1"]


def test_a_usage_only_contract_is_its_own_subscription() -> None:
    state = run_contracts(contract_invoice(), contracts=[contract()])
    assert [row["id"] for row in state.rows["subscriptions"]] == ["k-1"]


def test_line_type_override_still_applies_to_contract_lines() -> None:
    options = MappingOptions(line_types={"prod-seat": "one_off"})
    state = run_contracts(contract_invoice(lines=[subscription(100000)]), options=options)
    [line] = lines_of(state)
    assert (line["type"], line["period_start"]) == ("one_off", None)
