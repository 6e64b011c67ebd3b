"""Invoice line items: ids, amounts, types, periods, quantities, prices and properties."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.transform.options import MappingOptions, PricingUnit
from tests.unit.transform.builders import (
    CREDITS,
    JPY,
    KWD,
    by_id,
    catalog,
    charge,
    invoice,
    line,
    only_reject,
    rows,
    run,
    sub_line,
)

D = Decimal
MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


def _lines(*invoices: dict[str, Any], **run_args: Any) -> list[dict[str, Any]]:
    return rows(run(*invoices, **run_args), "invoice_line_items")


def test_a_sub_line_item() -> None:
    [row] = _lines(invoice(lines=[line(2500, [sub_line(2500, quantity=1500)])]))
    assert row == {
        "id": "inv-1:L0.S0",
        "invoice_id": "inv-1",
        "subscription_id": "cp-1",
        "price_id": "ch-api",
        "type": "subscription",
        "amount_excluding_tax_after_discount": D("25.00"),
        "tax_amount": D(0),
        "discount_amount": D(0),
        "temporary_discount_amount": D(0),
        "currency_code": "USD",
        "quantity": 1500,
        "description": "API calls",
        "period_start": MARCH[0],
        "period_end": MARCH[1],
        "proration_target_line_item_id": None,
        "custom_properties": {
            "metronome_charge_id": "ch-api",
            "metronome_charge_type": "usage",
            "metronome_line_kind": "sub_line",
            "product_id": "prod-api",
        },
    }


def test_ids_follow_positions_and_sub_lines_that_do_not_add_up_get_a_remainder() -> None:
    lines = [
        line(300, [sub_line(100, name="a"), sub_line(150, name="b")], name="Usage"),
        line(700, [], name="Onboarding", product_id=None),
    ]
    adjustments = [
        {"name": "Minimum true-up", "total": 200, "credit_type": {}},
        {"name": "Unused", "total": 0, "credit_type": {}},
        {"name": "Credit", "total": -400, "credit_type": {}, "credit_grant_id": "g-1"},
    ]
    found = _lines(invoice(lines=lines, invoice_adjustments=adjustments))
    assert [
        (r["id"], r["amount_excluding_tax_after_discount"], r["description"]) for r in found
    ] == [
        ("inv-1:L0.S0", D("1.00"), "a"),
        ("inv-1:L0.S1", D("1.50"), "b"),
        ("inv-1:L0.R", D("0.50"), "Usage (remainder)"),
        ("inv-1:L1", D("7.00"), "Onboarding"),
        ("inv-1:A0", D("2.00"), "Minimum true-up"),
        ("inv-1:A2", D("-4.00"), "Credit"),  # credits stay negative lines; zero ones are skipped
    ]
    assert found[3]["custom_properties"]["product_id"] == "metronome:unlinked"
    assert found[5]["custom_properties"] == {
        "metronome_credit_grant_id": "g-1",
        "metronome_line_kind": "adjustment",
        "product_id": "metronome:adjustment",
    }


def test_an_empty_invoice_is_an_invoice_without_lines() -> None:
    state = run(invoice(lines=[]))
    assert len(rows(state, "invoices")) == 1
    assert rows(state, "invoice_line_items") == []


@pytest.mark.parametrize(
    ("credit_type", "subtotals", "expected"),
    [
        (JPY, ["1000.5", "2000.5"], [D(1000), D(2001)]),  # zero decimals, residue to the largest
        (KWD, ["1.0005", "2.0015"], [D("1.000"), D("2.002")]),  # three decimals
    ],
)
def test_minor_units_follow_the_currency(
    credit_type: dict[str, str], subtotals: list[str], expected: list[Decimal]
) -> None:
    subs = [sub_line(amount) for amount in subtotals]
    total = sum((D(a) for a in subtotals), D(0))
    found = _lines(
        invoice(lines=[line(total, subs, credit_type=credit_type)], credit_type=credit_type)
    )
    assert [row["amount_excluding_tax_after_discount"] for row in found] == expected
    assert {row["currency_code"] for row in found} == {credit_type["name"]}


def test_a_custom_pricing_unit_is_rejected_unless_mapped() -> None:
    custom = invoice(lines=[line(400, credit_type=CREDITS)], credit_type=CREDITS)
    assert "custom pricing unit" in only_reject(run(custom)).reason
    mapped = MappingOptions(
        pricing_units={CREDITS["id"]: PricingUnit(currency="EUR", factor=D("0.25"))}
    )
    [row] = _lines(custom, options=mapped)
    assert (row["currency_code"], row["amount_excluding_tax_after_discount"]) == ("EUR", D(100))


def test_a_line_in_another_credit_type_than_its_invoice_is_rejected() -> None:
    state = run(invoice(lines=[line(400, credit_type=CREDITS)]))
    assert "line_items[0] is in credit type 'ct-credits'" in only_reject(state).reason


def test_credit_type_ids_that_are_numbers_are_compared_as_text() -> None:
    # found by fuzzing: comparing a NaN id raised InvalidOperation (an internal error reject)
    odd = {"id": Decimal("sNaN"), "name": "USD (cents)"}
    state = run(invoice(lines=[line(400, credit_type=odd)]))
    assert "line_items[0] is in credit type 'sNaN'" in only_reject(state).reason


def test_totals_that_lines_do_not_explain_are_rejected() -> None:
    state = run(invoice(total=5000))
    assert "add up to 10 USD but the invoice total is 50" in only_reject(state).reason


@pytest.mark.parametrize(
    ("quantity", "expected", "exact"),
    [(3, 3, None), ("12.000", 12, None), ("12.75", None, "12.75"), (None, None, None)],
)
def test_quantity_is_an_integer_or_null_with_the_exact_value(
    quantity: object, expected: int | None, exact: str | None
) -> None:
    [row] = _lines(invoice(lines=[line(1000, [sub_line(1000, quantity=quantity)])]))
    assert row["quantity"] == expected
    assert row["custom_properties"].get("metronome_quantity") == exact


def test_tiers_are_summarised_in_the_currency() -> None:
    tiers = [
        {"starting_at": 0, "quantity": 1000, "price": 2, "subtotal": 2000},
        {"starting_at": 1000, "quantity": 500, "price": "0.5", "subtotal": 250},
    ]
    [row] = _lines(invoice(lines=[line(2250, [sub_line(2250, tiers=tiers)])]))
    assert row["custom_properties"]["metronome_tiers"] == "0+: 1000 x 0.02; 1000+: 500 x 0.005"


def test_an_unknown_charge_gets_no_price_and_a_note() -> None:
    [row] = _lines(invoice(lines=[line(1000, [sub_line(1000, charge_id="ch-gone")])]))
    assert row["price_id"] is None
    assert row["custom_properties"]["metronome_charge_id"] == "ch-gone"
    assert "not in the staged plan catalog" in row["custom_properties"]["metronome_price_note"]


SEATS = {"start_date": "2024-03-10T00:00:00Z", "end_date": "2024-04-01T00:00:00Z"}
LINE_PERIOD = {"starting_at": "2024-03-05T00:00:00Z", "ending_before": "2024-03-20T00:00:00Z"}


@pytest.mark.parametrize(
    ("sub_fields", "line_fields", "expected_start"),
    [
        (SEATS, LINE_PERIOD, datetime(2024, 3, 10, tzinfo=UTC)),
        ({}, LINE_PERIOD, datetime(2024, 3, 5, tzinfo=UTC)),
        ({}, {}, MARCH[0]),
    ],
)
def test_period_is_seat_dates_else_line_period_else_invoice_period(
    sub_fields: dict[str, str], line_fields: dict[str, str], expected_start: datetime
) -> None:
    item = line(1000, [sub_line(1000, **sub_fields)], **line_fields)
    [row] = _lines(invoice(lines=[item]))
    assert row["period_start"] == expected_start


def _type_of(item: dict[str, Any], options: MappingOptions | None = None, **fields: Any) -> str:
    found = _lines(invoice(lines=[item], **fields), options=options)
    return str(found[0]["type"])


@pytest.mark.parametrize(
    ("item", "invoice_fields", "expected"),
    [
        (line(type="usage"), {}, "subscription"),
        (line(type="fixed"), {}, "subscription"),
        (line(type="subscription"), {}, "subscription"),
        (line(type="scheduled"), {}, "one_off"),
        (line(type="commit_purchase"), {}, "one_off"),
        (line(type="usage"), {"type": "SCHEDULED"}, "one_off"),
        (line(type="usage"), {"type": "CREDIT_PURCHASE"}, "one_off"),
        (line(type="usage"), {"start_timestamp": None, "end_timestamp": None}, "one_off"),
        (line(type="fixed", sub_line_items=[]), {}, "one_off"),  # ad-hoc fee on a plan invoice
        (  # a contract line has its own period (DESIGN.md §4b), never the invoice's
            line(type="usage", sub_line_items=[], starting_at=MARCH[0], ending_before=MARCH[1]),
            {"plan_id": None, "contract_id": "k"},
            "subscription",
        ),
    ],
)
def test_line_type(item: dict[str, Any], invoice_fields: dict[str, Any], expected: str) -> None:
    assert _type_of(item, **invoice_fields) == expected


def test_line_type_options() -> None:
    by_product = MappingOptions(line_types={"prod-api": "one_off"})
    assert _type_of(line(type="usage"), by_product) == "one_off"
    ad_hoc = MappingOptions(ad_hoc_line_type="subscription")
    assert _type_of(line(type="fixed", sub_line_items=[]), ad_hoc) == "subscription"
    adjustments = MappingOptions(line_types={"metronome:adjustment": "subscription"})
    adjustment = {"name": "Minimum", "total": 100, "credit_type": {}}
    found = _lines(invoice(invoice_adjustments=[adjustment]), options=adjustments)
    assert (found[1]["type"], found[1]["period_start"]) == ("subscription", MARCH[0])


MINIMUM = {"name": "Monthly minimum", "total": 100, "credit_type": {}}
GRANT = {"name": "Credits", "total": -100, "credit_type": {}, "credit_grant_id": "g-1"}
NEGATIVE = {"name": "Goodwill", "total": -100, "credit_type": {}}


@pytest.mark.parametrize(
    ("adjustment", "invoice_fields", "options", "expected"),
    [
        (MINIMUM, {}, MappingOptions(), ("subscription", MARCH[0])),
        (MINIMUM, {}, MappingOptions(minimum_line_type="one_off"), ("one_off", None)),
        (MINIMUM, {"type": "SCHEDULED"}, MappingOptions(), ("one_off", None)),
        ({**MINIMUM, "credit_grant_id": "g-1"}, {}, MappingOptions(), ("one_off", None)),
        (GRANT, {}, MappingOptions(), ("one_off", None)),
        (NEGATIVE, {}, MappingOptions(), ("one_off", None)),
    ],
)
def test_adjustment_type_minimum_true_ups_are_recurring_credits_are_one_off(
    adjustment: dict[str, Any],
    invoice_fields: dict[str, Any],
    options: MappingOptions,
    expected: tuple[str, datetime | None],
) -> None:
    found = _lines(invoice(invoice_adjustments=[adjustment], **invoice_fields), options=options)
    assert (found[1]["type"], found[1]["period_start"]) == expected


def test_one_off_lines_have_no_period() -> None:
    [row] = _lines(invoice(type="SCHEDULED"))
    assert (row["period_start"], row["period_end"]) == (None, None)


def test_a_postpaid_commit_application_is_left_out_like_in_metronome_totals() -> None:
    applied = line(
        -500,
        [],
        type="applied_commit_or_credit",
        applied_commit_or_credit={"id": "c", "type": "POSTPAID"},
    )
    found = _lines(invoice(lines=[line(1000), applied], total=1000))
    assert [row["id"] for row in found] == ["inv-1:L0.S0"]


def test_lines_of_an_invoice_without_plan_have_no_subscription() -> None:
    [row] = _lines(invoice(plan_id=None, type="SCHEDULED"))
    assert row["subscription_id"] is None


def test_catalog_charge_type_is_a_property() -> None:
    seat = charge("ch-seat", charge_type="seat")
    item = line(1000, [sub_line(1000, charge_id="ch-seat")])
    found = by_id(run(invoice(lines=[item]), cat=catalog(seat)), "invoice_line_items")
    assert found["inv-1:L0.S0"]["custom_properties"]["metronome_charge_type"] == "seat"


def test_a_remainder_that_rounds_to_nothing_is_left_out_and_zero_is_never_negative() -> None:
    item = line("999.7", [sub_line(1000), sub_line("-0.2", charge_id="ch-api")])
    found = _lines(invoice(lines=[item]))
    assert [(row["id"], str(row["amount_excluding_tax_after_discount"])) for row in found] == [
        ("inv-1:L0.S0", "10.00"),
        ("inv-1:L0.S1", "0.00"),  # -0.2 cents rounds to 0.00, not -0.00
    ]
