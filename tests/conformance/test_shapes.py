"""The ring's checker itself: it names each wrong or invented field by its path."""

from __future__ import annotations

from typing import Any

import pytest
from metronome.types.v1.customers.invoice import Invoice

from tests.conformance.records import state_census
from tests.conformance.shapes import record_problems

USD = {"id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2", "name": "USD (cents)"}


def invoice(**fields: Any) -> dict[str, Any]:
    line = {"credit_type": USD, "name": "Seats", "total": 1000, "type": "subscription"}
    return {
        "id": "inv-1",
        "credit_type": USD,
        "customer_id": "cus-1",
        "line_items": [line],
        "status": "FINALIZED",
        "total": 1000,
        "type": "USAGE",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"payer": {"customer_id": "cus-0", "contract_id": "con-0"}}, []),
        (
            {"payer": {"customer_id": "cus-0"}},
            ["invoices[17].payer.contract_id: Field required (value {'customer_id': 'cus-0'})"],
        ),
        (
            {"total": "lots"},
            [
                "invoices[17].total: Input should be a valid number, unable to parse string as"
                " a number (value 'lots')"
            ],
        ),
        ({"invented": 1}, ["invoices[17].invented: not declared by Invoice (value 1)"]),
    ],
)
def test_problems_name_the_path(fields: dict[str, Any], expected: list[str]) -> None:
    assert record_problems(Invoice, invoice(**fields), "invoices[17]") == expected


def test_an_invented_field_deep_in_a_list_is_named() -> None:
    record = invoice()
    record["line_items"][0]["applied_commit_or_credit"] = {"id": "c", "type": "CREDIT", "x": 2}
    assert record_problems(Invoice, record, "invoices[0]") == [
        "invoices[0].line_items[0].applied_commit_or_credit.x: not declared by"
        " LineItemAppliedCommitOrCredit (value 2)"
    ]


def test_an_invented_field_is_named_even_when_validation_fails() -> None:
    problems = record_problems(Invoice, invoice(status=None, invented=True), "i")
    assert problems == [
        "i.status: Input should be a valid string (value None)",
        "i.invented: not declared by Invoice (value True)",
    ]


def test_a_state_key_without_a_model_is_a_problem() -> None:
    census = state_census({"settings": {}, "invoices": [invoice()], "usage_events": []})
    assert census.problems == ["usage_events: a state key the ring has no SDK model for"]
    assert census.records_by_model == {"v1.customers.Invoice": 1}
