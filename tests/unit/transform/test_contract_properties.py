"""Properties of contract-era invoices: money adds up, and MRR is the subscription's price.

(a) The lines of every mapped contract invoice, whatever mix of line types (applied POSTPAID
    and custom-unit lines included), add up exactly to its converted total.
(b) For a steady subscription, whatever its billing frequency and collection schedule, the
    Fincome lines counted at each month's end the way the Fincome emulator counts MRR
    (sandbox/fincome/mrr.py: a line counts when its period covers the instant, for its amount
    over its period's calendar months) add up to the subscription's `monthly_value`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.fincome.mrr import months_between
from sandbox.fincome.periods import add_months
from tests.unit.transform.builders import EUR, USD
from tests.unit.transform.contracts import (
    applied,
    commit_purchase,
    contract,
    contract_invoice,
    contract_subscription,
    cpu_conversion,
    custom_unit_usage,
    lines_of,
    run_contracts,
    scheduled,
    subscription,
    subscription_row,
    usage,
)

D = Decimal
CENT = D("0.01")
PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FREQUENCIES = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUAL": 12}

charges = st.decimals(min_value=0, max_value=10**8, places=4, allow_nan=False)
credits = st.decimals(min_value=-(10**8), max_value=0, places=4, allow_nan=False)


@st.composite
def contract_lines(draw: st.DrawFn, credit_type: dict[str, str]) -> dict[str, Any]:
    """One line item of any contract type, in the invoice's credit type unless custom."""
    kind = draw(
        st.sampled_from(
            [
                "usage",
                "subscription",
                "prorated",
                "scheduled",
                "commit_purchase",
                "prepaid",
                "credit",
                "postpaid",
                "true_up",
                "cpu_conversion",
                "custom_unit",
            ]
        )
    )
    money = {"credit_type": credit_type}
    if kind in ("prepaid", "credit", "postpaid"):
        return applied(draw(credits), kind.upper(), **money)
    if kind == "custom_unit":
        return custom_unit_usage(draw(charges))
    build = {
        "usage": usage,
        "subscription": subscription,
        "scheduled": scheduled,
        "commit_purchase": commit_purchase,
        "cpu_conversion": cpu_conversion,
    }
    amount = draw(charges)
    if kind == "prorated":
        return subscription(amount, prorated=True, **money)
    if kind == "true_up":
        return usage(amount, postpaid_commit={"id": "pc-1"}, **money)
    return build[kind](amount, **money)


@PROFILE
@given(st.sampled_from([USD, EUR]), st.data())
def test_lines_add_up_exactly_to_every_contract_invoice_s_total(
    credit_type: dict[str, str], data: st.DataObject
) -> None:
    items = data.draw(st.lists(contract_lines(credit_type), max_size=8))
    raw = contract_invoice(lines=items, credit_type=credit_type)
    state = run_contracts(raw)
    assert state.rejects == []
    factor = CENT if credit_type is USD else D(1)
    total = sum((row["amount_excluding_tax_after_discount"] for row in lines_of(state)), D(0))
    assert total == (raw["total"] * factor).quantize(CENT)


def _iso(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


@PROFILE
@given(
    anchor=st.dates(min_value=date(2022, 1, 1), max_value=date(2024, 12, 28)).filter(
        lambda day: day.day <= 28  # Metronome anchors later days on month ends: not steady
    ),
    frequency=st.sampled_from(sorted(FREQUENCIES)),
    schedule=st.sampled_from(["ADVANCE", "ARREARS"]),
    periods=st.integers(1, 4),
    price=st.integers(1, 10**9),
    usage_cents=st.integers(0, 10**6),
)
def test_a_steady_subscription_s_lines_per_month_add_up_to_its_monthly_value(
    *, anchor: date, frequency: str, schedule: str, periods: int, price: int, usage_cents: int
) -> None:
    months = FREQUENCIES[frequency]
    bounds = [add_months(anchor, months * k) for k in range(periods + 1)]
    invoices = []
    for k in range(periods):
        start, end = bounds[k], bounds[k + 1]
        billed = start if schedule == "ADVANCE" else end  # the monthly invoice carrying it
        invoice_period = (_iso(billed), _iso(add_months(billed, 1)))
        lines = [subscription(price, (_iso(start), _iso(end))), usage(usage_cents, invoice_period)]
        invoices.append(
            contract_invoice(
                f"inv-{k}",
                lines,
                start_timestamp=invoice_period[0],
                end_timestamp=invoice_period[1],
                issued_at=invoice_period[0],
            )
        )
    staged = contract_subscription(
        starting_at=_iso(anchor), frequency=frequency, collection_schedule=schedule
    )
    state = run_contracts(*invoices, contracts=[contract(subscriptions=[staged])])
    assert state.rejects == []
    monthly_value = subscription_row(state, "sub-1")["monthly_value"]
    lines = [row for row in state.rows["invoice_line_items"] if row["subscription_id"] == "sub-1"]
    month_end = add_months(date(anchor.year, anchor.month, 1), 1)
    while month_end <= bounds[-1]:
        instant = datetime(month_end.year, month_end.month, 1, tzinfo=UTC)
        counted = [r for r in lines if r["period_start"] < instant <= r["period_end"]]
        mrr = sum(
            (
                r["amount_excluding_tax_after_discount"]
                / months_between(r["period_start"], r["period_end"])
                for r in counted
            ),
            D(0),
        )
        assert mrr.quantize(CENT) == monthly_value, (month_end, counted)
        month_end = add_months(month_end, 1)
