"""The Metronome side of reconcile agrees with what the transform makes of the same invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pytest

from destinations.fincome.ledger import Reject
from pipelines.reconcile.documents import Held, month_of
from pipelines.reconcile.metronome import read_metronome
from pipelines.transform.options import MappingOptions, PricingUnit
from tests.unit.reconcile.staging import stage
from tests.unit.transform.builders import (
    CREDITS,
    EUR,
    JPY,
    KWD,
    USD,
    USD_ID,
    catalog,
    invoice,
    line,
    run,
)

D = Decimal
CREDIT_TYPES = [{**USD, "is_currency": True}, {**CREDITS, "is_currency": False}]
PAID = {"billing_provider_type": "stripe", "invoice_id": "in_1", "external_status": "PAID"}


def _account() -> list[dict[str, Any]]:
    """Invoices covering every rule: units, rounding, statuses, corrections, dates."""
    return [
        invoice("usd-half-even", lines=[line(1234.5), line(100)], external_invoice=PAID),
        invoice("eur", lines=[line(D("99.999"), credit_type=EUR)], credit_type=EUR),
        invoice("jpy", lines=[line(D("1500.5"), credit_type=JPY)], credit_type=JPY),
        invoice("kwd", lines=[line(D("2.0005"), credit_type=KWD)], credit_type=KWD),
        invoice("void", status="VOID"),
        invoice("voided-in-stripe", external_invoice={**PAID, "external_status": "VOID"}),
        invoice("zero", lines=[line(0)]),
        invoice("no-issue-date", issued_at=None),
        invoice(
            "refund",
            lines=[line(-500)],
            type="CORRECTION",
            issued_at=None,
            created_at="2024-05-03T10:00:00Z",
            correction_record={"corrected_invoice_id": "usd-half-even", "reason": "SLA"},
        ),
        invoice(
            "extra-charge",
            lines=[line(700)],
            type="CORRECTION",
            correction_record={"corrected_invoice_id": "eur"},
        ),
    ]


def _expected(account: list[dict[str, Any]]) -> dict[str, tuple[str, D, str | None, str]]:
    """kind, amount, month and status of each document, from the transform's own rows."""
    state = run(*account, cat=catalog())
    assert state.rejects == []
    expected = {}
    for row in state.rows["invoices"]:
        lines = [x for x in state.rows["invoice_line_items"] if x["invoice_id"] == row["id"]]
        amount = sum((x["amount_excluding_tax_after_discount"] for x in lines), D(0))
        expected[row["id"]] = ("invoice", amount, month_of(row["date"]), row["status"])
    for row in state.rows["credit_notes"]:
        lines = [
            x for x in state.rows["credit_note_line_items"] if x["credit_note_id"] == row["id"]
        ]
        amount = -sum((x["amount"] for x in lines), D(0))
        expected[row["id"]] = ("credit_note", amount, month_of(row["date"]), row["status"])
    return expected


def _seen(held: Held) -> tuple[str, D, str | None, str]:
    return held.kind, held.amount, held.month, held.status


def test_every_document_is_what_the_transform_makes_of_it() -> None:
    account = _account()
    side = read_metronome(stage(account, CREDIT_TYPES), MappingOptions())

    assert side.not_mappable == []
    assert {i: _seen(h) for i, h in side.documents.items()} == _expected(account)
    amounts = {i: h.amount for i, h in side.documents.items()}
    # 1334.5 cents is 13.345 USD: half-even to 13.34; JPY has no minor unit, KWD three
    assert (amounts["usd-half-even"], amounts["jpy"], amounts["kwd"]) == (
        D("13.34"),
        D("1500"),
        D("2.000"),
    )
    counted = {i for i, h in side.documents.items() if h.counted}
    assert counted == set(amounts) - {"void", "voided-in-stripe"}
    assert side.documents["refund"].net == D("-5.00")


def test_a_custom_pricing_unit_is_not_mappable_until_it_is_mapped() -> None:
    account = [invoice("credits", lines=[line(10, credit_type=CREDITS)], credit_type=CREDITS)]
    db = stage(account, CREDIT_TYPES)

    side = read_metronome(db, MappingOptions())
    [item] = side.not_mappable
    assert (item.invoice_id, item.total, item.credit_type) == ("credits", "10", "Cloud credits")
    assert "custom pricing unit" in item.reason
    assert item.month == "2024-04"
    assert side.documents["credits"].status == "not_mappable"
    assert not side.documents["credits"].counted

    unit = PricingUnit(currency="EUR", factor=D("0.125"))
    mapped = read_metronome(db, MappingOptions(pricing_units={CREDITS["id"]: unit}))
    assert mapped.not_mappable == []
    assert (mapped.documents["credits"].currency, mapped.documents["credits"].amount) == (
        "EUR",
        D("1.25"),
    )


def test_open_transform_rejects_set_invoices_and_customers_aside() -> None:
    account = [
        invoice("unbalanced"),
        invoice("of-a-bad-customer", customer_id="cus-bad"),
        invoice("fine"),
        invoice("resolved-elsewhere"),
    ]
    rejects = [
        Reject("transform", "invoices", "unbalanced", "lines add up to 9 USD"),
        Reject("transform", "customers", "cus-bad", "customer id is missing"),
        Reject("push", "invoices", "fine", "422 from Fincome"),  # a push reject: still counted
    ]
    side = read_metronome(stage(account, CREDIT_TYPES, rejects), MappingOptions())

    reasons = {item.invoice_id: item.reason for item in side.not_mappable}
    assert reasons == {
        "unbalanced": "lines add up to 9 USD",
        "of-a-bad-customer": "its customer was set aside: customer id is missing",
    }
    assert side.documents["fine"].counted


@pytest.mark.parametrize(
    ("overrides", "options", "state"),
    [
        ({"status": "DRAFT"}, MappingOptions(), "draft"),
        ({"type": "USAGE_CONSOLIDATED"}, MappingOptions(), "skipped"),
        ({"billable_status": "unbillable"}, MappingOptions(), "skipped"),
        ({"billable_status": "unbillable", "status": "VOID"}, MappingOptions(), "skipped"),
        ({"billable_status": "unbillable"}, MappingOptions(keep_unbillable_invoices=True), "paid"),
        ({"billable_status": "billable"}, MappingOptions(), "paid"),
    ],
)
def test_drafts_and_skipped_invoices_count_nothing(
    overrides: dict[str, Any], options: MappingOptions, state: str
) -> None:
    """The transform's own rule: what it skips as not revenue, the reconcile expects nowhere."""
    account = [invoice("x", lines=[line(100)], external_invoice=PAID, **overrides)]
    side = read_metronome(stage(account, CREDIT_TYPES), options)
    assert (side.documents["x"].status, side.documents["x"].counted) == (state, state == "paid")
    assert side.not_mappable == []


def test_a_malformed_invoice_is_not_mappable_unless_it_is_a_draft() -> None:
    account = [
        invoice("odd", status="PENDING"),
        invoice("odd-draft", status="DRAFT", correction_record=[1]),
    ]
    side = read_metronome(stage(account, CREDIT_TYPES), MappingOptions())
    [item] = side.not_mappable
    assert item.invoice_id == "odd"
    assert "unknown invoice status" in item.reason


def test_nothing_staged_is_an_empty_side() -> None:
    side = read_metronome(duckdb.connect(), MappingOptions())
    assert (side.documents, side.not_mappable) == ({}, [])


def test_the_usd_credit_type_is_known_by_id_alone() -> None:
    account = [invoice("by-id", credit_type={"id": USD_ID})]
    side = read_metronome(stage(account, CREDIT_TYPES), MappingOptions())
    assert side.documents["by-id"].currency == "USD"
