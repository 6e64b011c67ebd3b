"""The Fincome emulator refuses each kind of bad body with FastAPI's 422 and the right `loc`.

Table-driven against the store (no HTTP): each case changes one thing in an otherwise valid
body and expects exactly one error, so a case also proves the base body is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from sandbox.fincome.errors import Invalid
from sandbox.fincome.store import FincomeStore
from tests.fixtures.fincome import (
    credit_line_body,
    credit_note_body,
    customer_body,
    invoice_body,
    line_body,
)

Body = dict[str, Any]
SUBSCRIPTION_PERIOD = {
    "type": "subscription",
    "period_start": "2024-05-01T00:00:00Z",
    "period_end": "2024-06-01T00:00:00Z",
}


@pytest.fixture
def store() -> FincomeStore:
    store = FincomeStore()
    store.create("customers", customer_body("cus_1"))
    store.create("products", {"id": "prod_1"})
    store.create("prices", {"id": "price_1", "product_id": "prod_1"})
    store.create("subscriptions", {"id": "sub_1", "customer_id": "cus_1"})
    store.create("invoices", invoice_body("inv_0", lines=[line_body("inv_0:L0", "inv_0")]))
    store.create("credit_notes", credit_note_body("cn_0", "inv_0"))
    return store


def errors_of(action: Callable[[], object]) -> list[tuple[list[str | int], str]]:
    with pytest.raises(Invalid) as caught:
        action()
    detail = caught.value.detail
    assert isinstance(detail, list)
    return [(item["loc"], item["type"]) for item in detail]


def changed(body: Body, **changes: Any) -> Body:
    """`body` with fields replaced; a value of `...` removes the field."""
    merged = {**body, **changes}
    return {key: value for key, value in merged.items() if value is not ...}


def invoice_with_line(**line_changes: Any) -> Body:
    return invoice_body("inv_9", lines=[changed(line_body("inv_9:L0", "inv_9"), **line_changes)])


def credit_note_with_line(**line_changes: Any) -> Body:
    line = changed(credit_line_body("cn_9:L0", "cn_9"), **line_changes)
    return credit_note_body("cn_9", "inv_0", lines=[line])


LINES = "invoice_line_items"
CREDIT_LINES = "credit_note_line_items"
CREATE_CASES: list[tuple[str, str, Any, list[str | int], str]] = [
    # (case, collection, body, loc, type)
    ("not an object", "customers", [customer_body()], ["body"], "model_attributes_type"),
    ("missing id", "customers", {"name": "x"}, ["body", "id"], "missing"),
    ("number as id", "customers", {"id": 5}, ["body", "id"], "string_type"),
    ("empty id", "customers", {"id": ""}, ["body", "id"], "string_too_short"),
    ("unknown field", "customers", customer_body(foo=1), ["body", "foo"], "extra_forbidden"),
    ("created_at sent", "customers", customer_body(created_at="2024-01-01T00:00:00Z"),
     ["body", "created_at"], "extra_forbidden"),
    ("missing root parent", "customers", customer_body("c2", root_parent_id="nope"),
     ["body", "root_parent_id"], "reference_not_found"),
    ("properties not an object", "customers", customer_body(custom_properties=[]),
     ["body", "custom_properties"], "dict_type"),
    ("number as name", "products", {"id": "p", "name": 1}, ["body", "name"], "string_type"),
    ("bad period unit", "prices", {"id": "x", "period_unit": "quarter"},
     ["body", "period_unit"], "literal_error"),
    ("fractional integer", "prices", {"id": "x", "period_length": Decimal("1.5")},
     ["body", "period_length"], "int_from_float"),
    ("string as integer", "prices", {"id": "x", "period_length": "1"},
     ["body", "period_length"], "int_type"),
    ("bool as integer", "prices", {"id": "x", "period_length": True},
     ["body", "period_length"], "int_type"),
    ("string as number", "prices", {"id": "x", "amount": "10"}, ["body", "amount"], "float_type"),
    ("bool as number", "prices", {"id": "x", "amount": False}, ["body", "amount"], "float_type"),
    ("missing product", "prices", {"id": "x", "product_id": "nope"},
     ["body", "product_id"], "reference_not_found"),
    ("bad subscription status", "subscriptions", {"id": "s", "status": "ended"},
     ["body", "status"], "literal_error"),
    ("date-time in words", "subscriptions", {"id": "s", "trial_start": "yesterday"},
     ["body", "trial_start"], "datetime_parsing"),
    ("timestamp as date-time", "subscriptions", {"id": "s", "trial_end": 1700000000},
     ["body", "trial_end"], "datetime_type"),
    ("digits as date-time", "subscriptions", {"id": "s", "canceled_at": "1700000000"},
     ["body", "canceled_at"], "datetime_parsing"),
    ("impossible date", "subscriptions", {"id": "s", "deal_closed_date": "2024-02-30T00:00:00Z"},
     ["body", "deal_closed_date"], "datetime_from_date_parsing"),
    ("missing subscription customer", "subscriptions", {"id": "s", "customer_id": "nope"},
     ["body", "customer_id"], "reference_not_found"),
    ("missing subscription price", "subscriptions", {"id": "s", "price_id": "nope"},
     ["body", "price_id"], "reference_not_found"),
    ("missing invoice date", "invoices", changed(invoice_body("i"), date=...),
     ["body", "date"], "missing"),
    ("draft invoice", "invoices", invoice_body("i", status="draft"),
     ["body", "status"], "literal_error"),
    ("missing invoice customer", "invoices", invoice_body("i", "nope", lines=[]),
     ["body", "customer_id"], "reference_not_found"),
    ("lines not a list", "invoices", changed(invoice_body("i"), invoice_line_items={}),
     ["body", LINES], "list_type"),
    ("line missing amount", "invoices", invoice_with_line(amount_excluding_tax_after_discount=...),
     ["body", LINES, 0, "amount_excluding_tax_after_discount"], "missing"),
    ("line usage type", "invoices", invoice_with_line(type="usage"),
     ["body", LINES, 0, "type"], "literal_error"),
    ("line fractional quantity", "invoices", invoice_with_line(quantity=Decimal("2.5")),
     ["body", LINES, 0, "quantity"], "int_from_float"),
    ("line of another invoice", "invoices", invoice_with_line(invoice_id="inv_0"),
     ["body", LINES, 0, "invoice_id"], "parent_mismatch"),
    ("line missing subscription", "invoices", invoice_with_line(subscription_id="nope"),
     ["body", LINES, 0, "subscription_id"], "reference_not_found"),
    ("line missing price", "invoices", invoice_with_line(price_id="nope"),
     ["body", LINES, 0, "price_id"], "reference_not_found"),
    ("line missing proration target", "invoices",
     invoice_with_line(proration_target_line_item_id="nope"),
     ["body", LINES, 0, "proration_target_line_item_id"], "reference_not_found"),
    ("subscription line without period", "invoices", invoice_with_line(type="subscription"),
     ["body", LINES, 0, "period_start"], "invalid_period"),
    ("subscription line ending at its start", "invoices",
     invoice_with_line(**{**SUBSCRIPTION_PERIOD, "period_end": "2024-05-01T00:00:00Z"}),
     ["body", LINES, 0, "period_end"], "invalid_period"),
    ("standalone line of missing invoice", "invoice_line_items", line_body("x", "nope"),
     ["body", "invoice_id"], "reference_not_found"),
    ("missing credited invoice", "credit_notes", credit_note_body("cn_9", "nope", lines=[]),
     ["body", "invoice_id"], "reference_not_found"),
    ("void credit note", "credit_notes", credit_note_body("cn_9", "inv_0", lines=[], status="void"),
     ["body", "status"], "literal_error"),
    ("credit line missing amount", "credit_notes", credit_note_with_line(amount=...),
     ["body", CREDIT_LINES, 0, "amount"], "missing"),
    ("credit line of another note", "credit_notes", credit_note_with_line(credit_note_id="cn_0"),
     ["body", CREDIT_LINES, 0, "credit_note_id"], "parent_mismatch"),
    ("credit line missing invoice line", "credit_notes",
     credit_note_with_line(invoice_line_item_id="nope"),
     ["body", CREDIT_LINES, 0, "invoice_line_item_id"], "reference_not_found"),
    ("standalone credit line of missing note", "credit_note_line_items",
     credit_line_body("x", "nope"),
     ["body", "credit_note_id"], "reference_not_found"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("collection", "body", "loc", "error_type"),
    [pytest.param(*case[1:], id=case[0]) for case in CREATE_CASES],
)
def test_create_refuses_bad_body(
    store: FincomeStore, collection: str, body: Any, loc: list[str | int], error_type: str
) -> None:
    assert errors_of(lambda: store.create(collection, body)) == [(loc, error_type)]


UPDATE_CASES: list[tuple[str, str, Body, list[str | int], str]] = [
    # (case, "collection/id", body, loc, type)
    ("embedded lines on update", "invoices/inv_0", {LINES: []}, ["body", LINES], "extra_forbidden"),
    ("updated_at sent", "customers/cus_1", {"updated_at": "2024-01-01T00:00:00Z"},
     ["body", "updated_at"], "extra_forbidden"),
    ("clearing a required field", "invoices/inv_0", {"status": None},
     ["body", "status"], "null_not_allowed"),
    ("renaming through the body", "customers/cus_1", {"id": "c2"}, ["body", "id"], "id_mismatch"),
    ("bad enum", "invoices/inv_0", {"status": "draft"}, ["body", "status"], "literal_error"),
    ("string amount", "invoice_line_items/inv_0:L0", {"tax_amount": "1"},
     ["body", "tax_amount"], "float_type"),
    ("missing parent", "invoices/inv_0", {"customer_id": "nope"},
     ["body", "customer_id"], "reference_not_found"),
    ("becoming a subscription line without period", "invoice_line_items/inv_0:L0",
     {"type": "subscription"}, ["body", "period_start"], "invalid_period"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("target", "body", "loc", "error_type"),
    [pytest.param(*case[1:], id=case[0]) for case in UPDATE_CASES],
)
def test_update_refuses_bad_body(
    store: FincomeStore, target: str, body: Body, loc: list[str | int], error_type: str
) -> None:
    collection, record_id = target.split("/")
    assert errors_of(lambda: store.update(collection, record_id, body)) == [(loc, error_type)]


def test_every_error_of_a_body_is_reported_at_once(store: FincomeStore) -> None:
    body = invoice_body("inv_9", "nope", lines=[line_body("a", "inv_9"), line_body("a", "inv_9")])
    assert errors_of(lambda: store.create("invoices", body)) == [
        (["body", LINES, 1, "id"], "duplicate_id"),
        (["body", "customer_id"], "reference_not_found"),
    ]


def test_valid_edge_values_are_accepted(store: FincomeStore) -> None:
    line = line_body("inv_9:L0", "inv_9", **SUBSCRIPTION_PERIOD, quantity=Decimal("3.0"))
    sibling_target = line_body("inv_9:L1", "inv_9", proration_target_line_item_id="inv_9:L0")
    body = invoice_body("inv_9", lines=[line, sibling_target], date="2024-05-01")
    created = store.create("invoices", body)
    assert created["date"].isoformat() == "2024-05-01T00:00:00+00:00"
    assert [line["quantity"] for line in created[LINES]] == [3, None]
