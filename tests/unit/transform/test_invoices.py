"""Invoices: which are sent, their status, date, number, renewal flag and properties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import (
    by_id,
    customer_plan,
    invoice,
    line,
    only_reject,
    rows,
    run,
)


def _one(**fields: Any) -> dict[str, Any]:
    [row] = rows(run(invoice(**fields)), "invoices")
    return row


def test_a_finalized_invoice() -> None:
    external = {"billing_provider_type": "stripe", "invoice_id": "in_42", "external_status": "PAID"}
    assert _one(external_invoice=external, custom_fields={"po": "PO-7"}) == {
        "id": "inv-1",
        "customer_id": "cus-1",
        "invoice_number": "in_42",
        "date": datetime(2024, 4, 2, tzinfo=UTC),
        "status": "paid",
        "is_renew": "true",
        "custom_properties": {
            "po": "PO-7",
            "metronome_invoice_type": "PLAN_ARREARS",
            "metronome_plan_name": "Pro",
            "metronome_credit_type": "USD (cents)",
        },
    }


def _external(status: str | None) -> dict[str, Any]:
    external: dict[str, Any] = {"billing_provider_type": "stripe", "invoice_id": "in_1"}
    if status is not None:
        external["external_status"] = status
    return external


@pytest.mark.parametrize(
    ("status", "external", "lines", "expected"),
    [
        ("VOID", _external("PAID"), None, "void"),
        ("FINALIZED", _external("PAID"), None, "paid"),
        ("FINALIZED", _external("PAYMENT_FAILED"), None, "unpaid"),
        ("FINALIZED", _external("UNCOLLECTIBLE"), None, "unpaid"),
        ("FINALIZED", _external("VOID"), None, "void"),
        ("FINALIZED", _external("DELETED"), None, "void"),
        ("FINALIZED", _external("FINALIZED"), None, "open"),
        ("FINALIZED", _external("PARTIALLY_PAID"), None, "open"),
        ("FINALIZED", _external("SOMETHING_NEW"), None, "open"),
        ("FINALIZED", _external(None), None, "open"),
        ("FINALIZED", None, None, "open"),
        ("FINALIZED", None, [line(0)], "paid"),  # zero total, no external invoice
        ("FINALIZED", None, [], "paid"),  # empty invoice
        ("FINALIZED", _external("FINALIZED"), [line(0)], "open"),
        ("finalized", None, None, "open"),  # status compared without case
    ],
)
def test_status(
    status: str, external: dict[str, Any] | None, lines: list[Any] | None, expected: str
) -> None:
    fields: dict[str, Any] = {"status": status, "lines": lines}
    if external is not None:
        fields["external_invoice"] = external
    assert _one(**fields)["status"] == expected


def test_drafts_are_never_sent_and_never_rejected() -> None:
    state = run(invoice(status="DRAFT"), invoice("broken", status="DRAFT", total="NaN"))
    assert rows(state, "invoices") == []
    assert rows(state, "invoice_line_items") == []
    assert state.rejects == []


def test_an_unknown_status_is_rejected() -> None:
    state = run(invoice(status="PENDING_REVIEW"))
    reject = only_reject(state)
    assert (reject.collection, reject.record_id) == ("invoices", "inv-1")
    assert "unknown invoice status 'PENDING_REVIEW'" in reject.reason
    assert reject.payload["id"] == "inv-1"


def test_an_unknown_status_is_shown_short_whatever_its_size() -> None:
    # found by fuzzing: a deeply nested status was quoted whole, a reason of many kilobytes
    reason = only_reject(run(invoice(status=[{"k": ["x" * 1000]}]))).reason
    assert reason.startswith("unknown invoice status [{'k': ['xxx")
    assert len(reason) < 150


def test_an_invoice_with_a_blank_id_is_rejected_under_its_position() -> None:
    # found by fuzzing: the reject's record id was "   ", which nobody can look up
    reject = only_reject(run(invoice("inv-1"), invoice("   ")))
    assert reject.record_id == "cus-1:invoices[1]"
    assert "invoice id is missing" in reject.reason


def test_date_falls_back_to_the_end_of_the_period() -> None:
    assert _one(issued_at=None)["date"] == datetime(2024, 4, 1, tzinfo=UTC)


def test_an_invoice_without_any_date_is_rejected() -> None:
    state = run(invoice(issued_at=None, end_timestamp=None))
    assert "no invoice date" in only_reject(state).reason


def test_a_voided_then_regenerated_invoice_is_two_invoices() -> None:
    voided = invoice("inv-old", status="VOID")
    regenerated = invoice("inv-new", issued_at="2024-04-10T00:00:00Z")
    found = by_id(run(voided, regenerated), "invoices")
    assert {key: row["status"] for key, row in found.items()} == {
        "inv-old": "void",
        "inv-new": "open",
    }
    lines = rows(run(voided, regenerated), "invoice_line_items")
    assert [row["id"] for row in lines] == ["inv-new:L0.S0", "inv-old:L0.S0"]


@pytest.mark.parametrize(
    ("starting_on", "period_start", "expected"),
    [
        ("2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z", "false"),  # the first period
        ("2024-03-01T00:00:00Z", "2024-03-01T12:00:00Z", "false"),  # same day
        ("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "true"),
    ],
)
def test_is_renew_is_false_only_for_the_first_period(
    starting_on: str, period_start: str, expected: str
) -> None:
    state = run(
        invoice(start_timestamp=period_start), plans=[customer_plan(starting_on=starting_on)]
    )
    assert rows(state, "invoices")[0]["is_renew"] == expected


def test_is_renew_without_customer_plan_uses_the_first_invoice_of_the_plan() -> None:
    first = invoice("inv-a", start_timestamp="2024-02-01T00:00:00Z")
    second = invoice("inv-b", start_timestamp="2024-03-01T00:00:00Z")
    found = by_id(run(first, second, plans=[]), "invoices")
    assert (found["inv-a"]["is_renew"], found["inv-b"]["is_renew"]) == ("false", "true")


def test_an_invoice_without_plan_or_contract_is_no_renewal() -> None:
    assert _one(plan_id=None, type="SCHEDULED")["is_renew"] == "false"


def test_a_duplicated_invoice_id_is_rejected_and_the_first_kept() -> None:
    state = run(invoice(), invoice(status="VOID"))
    assert [row["status"] for row in rows(state, "invoices")] == ["open"]
    assert only_reject(state).reason == "duplicate invoice id"


@pytest.mark.parametrize(("setting", "expected"), [("skip", 0), ("keep", 1)])
def test_consolidated_invoices_are_skipped_by_default(setting: str, expected: int) -> None:
    options = MappingOptions(consolidated_invoices=setting)  # type: ignore[arg-type]
    # every line of a consolidated invoice is a copy of a constituent's line (`origin`)
    origin = {"contract_id": "k", "customer_id": "c", "invoice_id": "i", "line_item_id": "l"}
    consolidated = invoice(type="USAGE_CONSOLIDATED", lines=[line(origin=origin)])
    state = run(consolidated, options=options)
    assert len(rows(state, "invoices")) == expected
    assert state.rejects == []


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("total", "NaN", "total is not a finite number"),
        ("total", None, "total is not a number"),
        ("id", None, "invoice id is missing"),
        ("issued_at", "soon", "issued_at is not an ISO 8601 date-time"),
        ("line_items", "nope", "line_items is not a JSON array"),
        ("external_invoice", [1], "external_invoice is not a JSON object"),
        ("correction_record", {"reason": "x"}, "correction_record has no corrected_invoice_id"),
    ],
)
def test_malformed_invoices_are_rejected_with_the_field_named(
    field: str, value: object, reason: str
) -> None:
    state = run(invoice(**{field: value}), invoice("inv-ok"))
    assert reason in only_reject(state).reason
    assert [row["id"] for row in rows(state, "invoices")] == ["inv-ok"]
