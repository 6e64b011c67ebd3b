"""Record checks: what is staged, what is set aside, and why."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from sources.metronome.records import check_record, make_reject, split_valid

USD = {"id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2", "name": "USD (cents)"}


def invoice(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "inv-1",
        "customer_id": "cus-1",
        "status": "FINALIZED",
        "type": "USAGE",
        "credit_type": USD,
        "total": Decimal("2500"),
        "subtotal": 2500,
        "start_timestamp": "2024-03-01T00:00:00Z",
        "end_timestamp": "2024-04-01T00:00:00.000Z",
        "line_items": [
            {
                "name": "API calls",
                "total": 2500,
                "credit_type": USD,
                "sub_line_items": [{"subtotal": Decimal("2500.5"), "tiers": []}],
            }
        ],
    }
    for name, value in changes.items():
        if value is ...:
            del record[name]
        else:
            record[name] = value
    return record


def test_a_complete_invoice_passes_and_unknown_fields_are_fine() -> None:
    assert check_record("invoices", invoice(brand_new_field={"x": [1, 2]})) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": ...}, "missing id"),
        ({"customer_id": ...}, "missing customer_id"),
        ({"status": None}, "missing status"),
        ({"credit_type": ...}, "missing credit_type"),
        ({"line_items": ...}, "missing line_items"),
        ({"id": 17}, "id is 17, expected a non-empty string"),
        ({"credit_type": "USD"}, 'credit_type is "USD", expected an object'),
        ({"line_items": {"name": "x"}}, "line_items is"),
        ({"line_items": [{"name": "x", "total": "12"}]}, "a list of objects with a numeric total"),
        ({"total": "2500"}, 'total is "2500", expected a finite number'),
        ({"total": True}, "total is true, expected a finite number"),
        ({"total": Decimal("Infinity")}, "total is Infinity, expected a finite number"),
        ({"subtotal": Decimal("NaN")}, "subtotal is NaN, expected a finite number"),
        ({"start_timestamp": "last tuesday"}, 'start_timestamp is "last tuesday"'),
        ({"credit_type": {"id": 1, "name": "USD"}}, "credit_type is"),
    ],
)
def test_broken_invoices_are_explained(changes: dict[str, Any], reason: str) -> None:
    problem = check_record("invoices", invoice(**changes))
    assert problem is not None
    assert reason in problem


def test_a_non_finite_number_anywhere_inside_is_refused() -> None:
    record = invoice()
    record["line_items"][0]["sub_line_items"][0]["tiers"] = [{"price": Decimal("NaN")}]
    assert check_record("invoices", record) == (
        "line_items[0].sub_line_items[0].tiers[0].price is NaN, not a finite number"
    )


def test_other_collections_need_their_ids() -> None:
    assert check_record("customers", {"id": "c", "name": "Acme"}) is None
    assert check_record("customers", {"id": "c"}) == "missing name"
    assert check_record("customer_plans", {"id": "cp", "plan_id": "p"}) is None
    assert check_record("plans", {"name": "no id"}) == "missing id"
    assert check_record("credit_types", ["not", "an", "object"]) == "expected an object, got list"


def test_rejects_keep_the_id_or_a_stable_stand_in() -> None:
    assert make_reject("invoices", invoice(), "why").record_id == "inv-1"
    anonymous = invoice(id=...)
    first = make_reject("invoices", anonymous, "missing id").record_id
    assert first.startswith("no-id:")
    assert first == make_reject("invoices", copy.deepcopy(anonymous), "missing id").record_id
    assert first != make_reject("invoices", invoice(id=..., total=1), "missing id").record_id


def test_split_valid_hands_the_bad_ones_to_the_sink() -> None:
    seen = []
    valid, rejected = split_valid("invoices", [invoice(), invoice(status=...)], seen.append)
    assert [r["id"] for r in valid] == ["inv-1"]
    assert rejected == 1
    assert seen[0].collection == "invoices"
    assert seen[0].reason == "missing status"
    assert seen[0].payload["id"] == "inv-1"
