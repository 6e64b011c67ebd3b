"""Corrections: negative ones are credit notes tied to the corrected invoice's lines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import (
    by_id,
    invoice,
    line,
    only_reject,
    rows,
    run,
    sub_line,
)

D = Decimal
ORIGINAL = invoice(
    "inv-orig", lines=[line(1000, name="Platform", product_id=None, subs=[]), line(2000)]
)


def correction(total: int, lines: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    record = {"corrected_invoice_id": "inv-orig", "reason": "Overbilled", "memo": "Ticket 7"}
    item = line(total, [sub_line(total, quantity=-100)])
    defaults = {
        "type": "CORRECTION",
        "issued_at": "2024-04-20T00:00:00Z",
        "created_at": "2024-04-19T08:00:00Z",
        "correction_record": record,
    }
    return invoice("inv-corr", lines=[item] if lines is None else lines, **{**defaults, **fields})


def test_a_negative_correction_is_a_credit_note() -> None:
    external = {"billing_provider_type": "stripe", "invoice_id": "cn_1", "external_status": "PAID"}
    state = run(ORIGINAL, correction(-500, external_invoice=external))
    assert [row["id"] for row in rows(state, "invoices")] == ["inv-orig"]
    assert rows(state, "credit_notes") == [
        {
            "id": "inv-corr",
            "invoice_id": "inv-orig",
            "date": datetime(2024, 4, 20, tzinfo=UTC),
            "status": "refunded",
            "custom_properties": {
                "metronome_invoice_type": "CORRECTION",
                "metronome_plan_name": "Pro",
                "metronome_credit_type": "USD (cents)",
                "metronome_correction_reason": "Overbilled",
                "metronome_correction_memo": "Ticket 7",
            },
        }
    ]
    assert rows(state, "credit_note_line_items") == [
        {
            "id": "inv-corr:L0.S0",
            "credit_note_id": "inv-corr",
            "invoice_line_item_id": "inv-orig:L1.S0",  # the corrected line with the same charge
            "amount": D("-5.00"),
            "discount_amount": D(0),
            "temporary_discount_amount": D(0),
            "currency_code": "USD",
            "description": "API calls",
            "custom_properties": {
                "metronome_charge_id": "ch-api",
                "metronome_charge_type": "usage",
                "metronome_line_kind": "sub_line",
                "product_id": "prod-api",
            },
        }
    ]


@pytest.mark.parametrize(
    ("fields", "status"),
    [({}, "refund_due"), ({"external_invoice": {"external_status": "FINALIZED"}}, "refund_due")],
)
def test_an_unpaid_credit_note_is_refund_due(fields: dict[str, Any], status: str) -> None:
    state = run(ORIGINAL, correction(-500, **fields))
    assert rows(state, "credit_notes")[0]["status"] == status


def test_credit_note_sign_is_configurable() -> None:
    state = run(ORIGINAL, correction(-500), options=MappingOptions(credit_note_sign="positive"))
    assert rows(state, "credit_note_line_items")[0]["amount"] == D("5.00")


def test_credit_note_date_falls_back_to_created_at() -> None:
    state = run(ORIGINAL, correction(-500, issued_at=None))
    assert rows(state, "credit_notes")[0]["date"] == datetime(2024, 4, 19, 8, tzinfo=UTC)


def test_a_positive_correction_is_an_ordinary_one_off_invoice() -> None:
    state = run(ORIGINAL, correction(300))
    found = by_id(state, "invoices")["inv-corr"]
    assert found["custom_properties"]["metronome_corrected_invoice_id"] == "inv-orig"
    assert by_id(state, "invoice_line_items")["inv-corr:L0.S0"]["type"] == "one_off"
    assert rows(state, "credit_notes") == []


def test_a_credit_note_for_an_invoice_that_is_not_synced_is_rejected() -> None:
    draft = invoice("inv-orig", status="DRAFT")
    state = run(draft, correction(-500))
    reject = only_reject(state)
    assert (reject.collection, reject.record_id) == ("invoices", "inv-corr")
    assert "corrected invoice inv-orig is not synced" in reject.reason
    assert rows(state, "credit_note_line_items") == []


def test_an_odd_corrected_invoice_id_is_shown_escaped_in_the_reason() -> None:
    # found by fuzzing: a right-to-left override in the id reversed the reason on screen
    record = {"corrected_invoice_id": "\u202etxt.exe", "reason": "r", "memo": "m"}
    reason = only_reject(run(correction(-500, correction_record=record))).reason
    assert reason.startswith("corrected invoice '\\u202etxt.exe' is not synced")
    assert reason.isprintable()


def test_a_voided_correction_is_not_sent() -> None:
    state = run(ORIGINAL, correction(-500, status="VOID"))
    assert rows(state, "credit_notes") == []
    assert state.rejects == []


def test_a_credit_note_line_without_a_matching_charge_links_nowhere() -> None:
    item = line(-500, [], name="Goodwill", product_id=None)
    corr = correction(-500, lines=[item])
    [row] = rows(run(ORIGINAL, corr), "credit_note_line_items")
    assert (row["id"], row["invoice_line_item_id"]) == ("inv-corr:L0", None)
