"""Subscriptions: customer plans and invoice-only plans/contracts, status, monthly value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.transform.builders import (
    AS_OF,
    by_id,
    catalog,
    charge,
    customer_plan,
    invoice,
    line,
    only_reject,
    rows,
    run,
    sub_line,
)

D = Decimal
JAN = datetime(2024, 1, 1, tzinfo=UTC)


def _subscription(*invoices: dict[str, Any], **run_args: Any) -> dict[str, Any]:
    [row] = rows(run(*invoices, **run_args), "subscriptions")
    return row


def test_a_customer_plan_with_its_latest_invoice() -> None:
    plan = {"id": "plan-pro", "name": "Pro", "custom_fields": {"tier": "gold"}}
    row = _subscription(
        invoice(),
        plans=[customer_plan(custom_fields={"order_form": "OF-1"})],
        cat=catalog(charge(), **{"plan-pro": plan}),
    )
    assert row == {
        "id": "cp-1",
        "customer_id": "cus-1",
        "status": "active",
        "subscription_set_id": None,
        "trial_start": None,
        "trial_end": None,
        "canceled_at": None,
        "effective_cancellation_date": None,
        "subscription_start_date": JAN,
        "deal_closed_date": None,
        "contractual_commitment_end_date": None,
        "monthly_value": D("10.00"),
        "currency_code": "USD",
        "price_id": "ch-api",
        "custom_properties": {
            "tier": "gold",
            "order_form": "OF-1",
            "metronome_plan_id": "plan-pro",
            "metronome_plan_name": "Pro",
            "metronome_subscription_source": "customer_plan",
        },
    }


@pytest.mark.parametrize(
    ("plan_fields", "status", "ended", "trial"),
    [
        ({}, "active", None, None),
        ({"starting_on": "2024-09-01T00:00:00Z"}, "active", None, None),  # starts later
        ({"ending_before": "2024-12-01T00:00:00Z"}, "active", None, None),  # ends later
        ({"ending_before": "2024-06-01T00:00:00Z"}, "canceled", "2024-06-01", None),
        ({"ending_before": "2024-06-15T00:00:00Z"}, "canceled", "2024-06-15", None),  # = as_of
        (
            {"starting_on": "2024-06-01T00:00:00Z", "trial_info": {"ending_before": "2024-07-01"}},
            "trialing",
            None,
            ("2024-06-01", "2024-07-01"),
        ),
        (
            {"trial_info": {"ending_before": "2024-02-01T00:00:00Z", "spending_caps": []}},
            "active",
            None,
            ("2024-01-01", "2024-02-01"),
        ),
        (
            {"trial_info": {"ending_before": "2024-07-01"}, "ending_before": "2024-05-01"},
            "canceled",
            "2024-05-01",
            ("2024-01-01", "2024-07-01"),
        ),
    ],
)
def test_status_from_plan_dates(
    plan_fields: dict[str, Any],
    status: str,
    ended: str | None,
    trial: tuple[str, str] | None,
) -> None:
    row = _subscription(plans=[customer_plan(**plan_fields)])
    day = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC)  # noqa: E731
    assert row["status"] == status
    assert (
        row["canceled_at"] == row["effective_cancellation_date"] == (day(ended) if ended else None)
    )
    assert (row["trial_start"], row["trial_end"]) == (
        (day(trial[0]), day(trial[1])) if trial else (None, None)
    )


def test_an_invoice_belongs_to_the_customer_plan_holding_its_period() -> None:
    plans = [
        customer_plan(id="cp-old", ending_before="2024-03-01T00:00:00Z"),
        customer_plan(id="cp-new", starting_on="2024-03-01T00:00:00Z"),
    ]
    february = invoice(
        "inv-feb", start_timestamp="2024-02-01T00:00:00Z", end_timestamp="2024-03-01T00:00:00Z"
    )
    march = invoice("inv-mar")
    lines = by_id(run(february, march, plans=plans), "invoice_line_items")
    assert lines["inv-feb:L0.S0"]["subscription_id"] == "cp-old"
    assert lines["inv-mar:L0.S0"]["subscription_id"] == "cp-new"


def test_without_customer_plan_the_subscription_comes_from_the_plan_invoices() -> None:
    draft = invoice(
        "inv-draft",
        status="DRAFT",
        start_timestamp="2024-06-01T00:00:00Z",
        end_timestamp="2024-07-01T00:00:00Z",
        plan_custom_fields={"k": "new"},
    )
    row = _subscription(invoice(plan_custom_fields={"k": "old"}), draft, plans=[])
    assert row["id"] == "cus-1:plan-pro"
    assert row["status"] == "active"  # the draft shows it still runs
    assert row["subscription_start_date"] == datetime(2024, 3, 1, tzinfo=UTC)
    assert row["custom_properties"] == {
        "k": "new",  # the newest invoice tells the plan's fields
        "metronome_plan_id": "plan-pro",
        "metronome_plan_name": "Pro",
        "metronome_subscription_source": "plan_invoices",
    }


def test_an_invoice_only_subscription_ends_with_its_last_period() -> None:
    row = _subscription(invoice(), plans=[])
    end = datetime(2024, 4, 1, tzinfo=UTC)
    assert (row["status"], row["canceled_at"], row["effective_cancellation_date"]) == (
        "canceled",
        end,
        end,
    )


def test_contract_invoices_belong_to_their_contract() -> None:
    own_period = {"starting_at": "2024-03-01T00:00:00Z", "ending_before": "2024-04-01T00:00:00Z"}
    contract = invoice(
        plan_id=None,
        contract_id="k-1",
        contract_custom_fields={"deal": "D-9"},
        lines=[line(**own_period)],
    )
    row = _subscription(contract, plans=[], as_of=datetime(2024, 3, 15, tzinfo=UTC))
    assert (row["id"], row["status"]) == ("k-1", "active")
    assert row["custom_properties"] == {
        "deal": "D-9",
        "metronome_contract_id": "k-1",
        "metronome_subscription_source": "contract",
    }


def test_monthly_value_divides_a_quarter_by_three_and_ignores_one_off_lines() -> None:
    quarter = invoice(
        lines=[line(30000), line(5000, [], type="scheduled", name="Setup")],
        end_timestamp="2024-06-01T00:00:00Z",
    )
    row = _subscription(quarter)
    assert (row["monthly_value"], row["price_id"]) == (D("100.00"), "ch-api")


def test_monthly_value_comes_from_the_latest_finalized_invoice() -> None:
    older = invoice(
        "inv-a",
        lines=[line(1000)],
        start_timestamp="2024-02-01T00:00:00Z",
        end_timestamp="2024-03-01T00:00:00Z",
    )
    newer = invoice("inv-b", lines=[line(3000)])
    voided = invoice(
        "inv-c",
        lines=[line(9000)],
        status="VOID",
        start_timestamp="2024-04-01T00:00:00Z",
        end_timestamp="2024-05-01T00:00:00Z",
    )
    draft = invoice(
        "inv-d",
        lines=[line(7000)],
        status="DRAFT",
        start_timestamp="2024-05-01T00:00:00Z",
        end_timestamp="2024-06-01T00:00:00Z",
    )
    assert _subscription(older, newer, voided, draft)["monthly_value"] == D("30.00")


def test_no_price_when_recurring_lines_use_several() -> None:
    two = invoice(lines=[line(1000), line(1000, [sub_line(1000, charge_id="ch-seat")])])
    row = _subscription(two, cat=catalog(charge(), charge("ch-seat")))
    assert (row["monthly_value"], row["price_id"]) == (D("20.00"), None)


def test_a_plan_without_finalized_invoice_has_no_monthly_value() -> None:
    row = _subscription(invoice(status="DRAFT"))
    assert (row["monthly_value"], row["currency_code"], row["price_id"]) == (None, None, None)


def test_a_malformed_customer_plan_is_rejected_and_its_invoices_fall_back() -> None:
    state = run(invoice(), plans=[customer_plan(starting_on="whenever")])
    reject = only_reject(state)
    assert (reject.collection, reject.record_id) == ("customer_plans", "cp-1")
    assert "starting_on is not an ISO 8601 date-time" in reject.reason
    assert [row["id"] for row in rows(state, "subscriptions")] == ["cus-1:plan-pro"]


def test_status_is_computed_against_as_of_not_the_clock() -> None:
    plan = customer_plan(ending_before="2024-06-01T00:00:00Z")
    before = _subscription(plans=[plan], as_of=datetime(2024, 5, 31, tzinfo=UTC))
    after = _subscription(plans=[plan], as_of=AS_OF)
    assert (before["status"], after["status"]) == ("active", "canceled")
