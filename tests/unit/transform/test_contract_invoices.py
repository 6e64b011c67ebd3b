"""Contract-era invoices: a rule for every line type and every invoice type (DESIGN.md §4b)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import CREDITS, reasons
from tests.unit.transform.contracts import (
    applied,
    commit_purchase,
    contract_invoice,
    cpu_conversion,
    custom_unit_usage,
    item,
    lines_of,
    run_contracts,
    scheduled,
    subscription,
    usage,
)

D = Decimal
START, END = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
Shape = tuple[str, str, Decimal, datetime | None]  # id suffix, type, amount, period start


def _shapes(*lines: dict[str, Any], **fields: Any) -> list[Shape]:
    state = run_contracts(contract_invoice(lines=list(lines), **fields))
    assert state.rejects == []
    return [
        (
            row["id"].split(":")[1],
            row["type"],
            row["amount_excluding_tax_after_discount"],
            row["period_start"],
        )
        for row in lines_of(state)
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (usage(1000), ("L0", "subscription", D("10.00"), START)),
        (subscription(1000), ("L0", "subscription", D("10.00"), START)),
        (subscription(500, prorated=True), ("L0", "subscription", D("5.00"), START)),
        (scheduled(1000), ("L0", "one_off", D("10.00"), None)),
        (commit_purchase(1000), ("L0", "one_off", D("10.00"), None)),
        (applied(-1000), ("L0", "one_off", D("-10.00"), None)),
        (applied(-1000, "CREDIT"), ("L0", "one_off", D("-10.00"), None)),
        (cpu_conversion(1000), ("L0", "subscription", D("10.00"), START)),
        (usage(1000, postpaid_commit={"id": "pc-1"}), ("L0", "one_off", D("10.00"), None)),
    ],
    ids=lambda value: value.get("type", "") if isinstance(value, dict) else "",
)
def test_each_line_type_maps_by_its_rule(line: dict[str, Any], expected: Shape) -> None:
    assert _shapes(line) == [expected]


def test_an_applied_postpaid_line_is_not_money_but_is_kept_as_information() -> None:
    state = run_contracts(contract_invoice(lines=[usage(1000), applied(-400, "POSTPAID")]))
    assert [row["id"] for row in lines_of(state)] == ["inv-1:L0"]
    [row] = state.rows["invoices"]
    assert row["custom_properties"]["metronome_postpaid_applied"] == "-4 USD (postpaid-1)"


def test_a_cpu_conversion_invoice_goes_through_in_fiat() -> None:
    """Custom-unit spend: the units carry no amount, the conversion line is the money."""
    shapes = _shapes(
        custom_unit_usage(5000), applied(-3000, credit_type=CREDITS), cpu_conversion(200)
    )
    assert shapes == [
        ("L0", "subscription", D("0.00"), START),
        ("L1", "one_off", D("0.00"), None),
        ("L2", "subscription", D("2.00"), START),
    ]
    state = run_contracts(contract_invoice(lines=[custom_unit_usage(5000), cpu_conversion(200)]))
    units = lines_of(state)[0]["custom_properties"]
    assert (units["metronome_custom_unit_total"], units["metronome_custom_unit"]) == (
        "5000",
        "Cloud credits",
    )


def test_a_usage_line_s_period_is_its_own_never_the_invoice_s() -> None:
    week = ("2024-03-04T00:00:00Z", "2024-03-11T00:00:00Z")
    [(_, _, _, start)] = _shapes(usage(1000, week))
    assert start == datetime(2024, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (item("mystery", 1000), "type 'mystery'"),
        (item("applied_commit_or_credit", -1000), "without its applied_commit_or_credit"),
        (applied(-1000, "GIFT"), "applied_commit_or_credit.type 'GIFT'"),
        (applied(1000), "positive"),
        (subscription(1000, None), "without its own service period"),
        (usage(1000, None), "without its own service period"),
        (subscription(1000, subscription_id=None), "without subscription_id"),
        (usage(1000, credit_type={"id": "ct-eur", "name": "EUR"}), "credit type"),
    ],
)
def test_a_line_no_rule_covers_sets_its_invoice_aside(line: dict[str, Any], reason: str) -> None:
    valid = contract_invoice(lines=[usage(500)])  # then a line the SDK may not even accept
    raw = {**valid, "line_items": [*valid["line_items"], line], "total": 500 + line["total"]}
    state = run_contracts(raw)
    assert state.rows["invoices"] == []
    [found] = reasons(state)
    assert reason in found


def test_lines_that_do_not_add_up_beyond_rounding_are_rejected_not_absorbed() -> None:
    raw = {**contract_invoice(lines=[usage(1000)]), "total": D(1100)}
    assert "add up to 10 USD but the invoice total is 11" in reasons(run_contracts(raw))[0]


@pytest.mark.parametrize(
    ("invoice_type", "lines", "expected_types"),
    [
        (
            "USAGE",
            [usage(1000), subscription(500), applied(-200)],
            ["subscription"] * 2 + ["one_off"],
        ),
        ("SCHEDULED", [scheduled(1000), subscription(500)], ["one_off", "subscription"]),
        ("CREDIT_PURCHASE", [commit_purchase(1000)], ["one_off"]),
        ("SEAT_PURCHASE", [subscription(500, prorated=True)], ["subscription"]),
        ("PLAN_ARREARS", [usage(1000)], ["subscription"]),
        ("CORRECTION", [usage(1000)], ["one_off"]),
    ],
)
def test_each_invoice_type_maps_by_its_rule(
    invoice_type: str, lines: list[dict[str, Any]], expected_types: list[str]
) -> None:
    raw = contract_invoice(lines=lines, type=invoice_type)
    if invoice_type == "CORRECTION":
        raw["correction_record"] = {"corrected_invoice_id": "inv-0", "memo": "", "reason": "x"}
        raw["id"] = "inv-1"
        state = run_contracts(contract_invoice("inv-0"), raw)
    else:
        state = run_contracts(raw)
    assert state.rejects == []
    assert [row["type"] for row in lines_of(state)] == expected_types


def _consolidated(*lines: dict[str, Any]) -> dict[str, Any]:
    constituent = {"contract_id": "k-2", "customer_id": "cus-2", "invoice_id": "inv-c"}
    return contract_invoice(
        lines=list(lines), type="USAGE_CONSOLIDATED", constituent_invoices=[constituent]
    )


ORIGIN = {"contract_id": "k-2", "customer_id": "cus-2", "invoice_id": "inv-c", "line_item_id": "l"}


def test_a_consolidated_invoice_is_skipped_and_counted_its_money_is_on_its_constituents() -> None:
    state = run_contracts(_consolidated(usage(1000, origin=ORIGIN)))
    assert (state.rows["invoices"], state.rejects) == ([], [])
    assert [(s.collection, s.record_id, s.reason) for s in state.skipped] == [
        ("invoices", "inv-1", "USAGE_CONSOLIDATED: its money is on its constituent invoices")
    ]


def test_a_consolidated_line_without_origin_sets_the_invoice_aside() -> None:
    state = run_contracts(_consolidated(usage(1000, origin=ORIGIN), usage(500)))
    assert "line_items[1] has no origin" in reasons(state)[0]


def test_keeping_consolidated_invoices_keeps_their_origin() -> None:
    options = MappingOptions(consolidated_invoices="keep")
    state = run_contracts(_consolidated(usage(1000, origin=ORIGIN)), options=options)
    [line] = lines_of(state)
    assert line["custom_properties"]["metronome_origin_invoice_id"] == "inv-c"


def test_an_unbillable_invoice_is_skipped_and_counted_not_rejected() -> None:
    state = run_contracts(contract_invoice(billable_status="unbillable"))
    assert (state.rows["invoices"], state.rejects) == ([], [])
    assert [(s.record_id, s.reason) for s in state.skipped] == [
        ("inv-1", "billable_status unbillable: not revenue")
    ]


def test_an_option_keeps_unbillable_invoices() -> None:
    options = MappingOptions(keep_unbillable_invoices=True)
    state = run_contracts(contract_invoice(billable_status="unbillable"), options=options)
    [row] = state.rows["invoices"]
    assert row["custom_properties"]["metronome_billable_status"] == "unbillable"
    assert state.skipped == []


def test_a_billable_status_no_rule_knows_sets_the_invoice_aside() -> None:
    state = run_contracts(contract_invoice(billable_status="maybe"))
    assert "billable_status 'maybe'" in reasons(state)[0]
