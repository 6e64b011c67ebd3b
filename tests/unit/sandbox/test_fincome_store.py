"""The Fincome emulator's store: conflicts, partial updates, delete rules, atomic creates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.fincome.errors import Conflict, Invalid, NotFound
from sandbox.fincome.store import FincomeStore
from tests.fixtures.fincome import (
    credit_line_body,
    credit_note_body,
    customer_body,
    invoice_body,
    line_body,
)


@pytest.fixture
def store() -> FincomeStore:
    store = FincomeStore()
    store.create("customers", customer_body("cus_1", email="a@example.com"))
    store.create("subscriptions", {"id": "sub_1", "customer_id": "cus_1"})
    lines = [line_body("inv_1:L0", subscription_id="sub_1"), line_body("inv_1:L1", amount="5")]
    store.create("invoices", invoice_body("inv_1", lines=lines))
    return store


def test_create_fills_defaults_and_embeds_lines(store: FincomeStore) -> None:
    invoice = store.read("invoices", "inv_1")
    assert invoice["custom_properties"] == {}
    assert invoice["invoice_number"] is None
    assert [line["id"] for line in invoice["invoice_line_items"]] == ["inv_1:L0", "inv_1:L1"]
    line = store.get("invoice_line_items", "inv_1:L0")
    assert line["discount_amount"] == Decimal(0)
    assert line["created_at"] == line["updated_at"]
    assert "invoice_line_items" not in store.dump()["invoices"]["inv_1"]


def test_create_of_an_existing_id_conflicts(store: FincomeStore) -> None:
    with pytest.raises(Conflict):
        store.create("customers", customer_body("cus_1"))


def test_unknown_ids_are_not_found(store: FincomeStore) -> None:
    with pytest.raises(NotFound):
        store.read("invoices", "nope")
    with pytest.raises(NotFound):
        store.update("customers", "nope", {"name": "x"})
    with pytest.raises(NotFound):
        store.delete("subscriptions", "nope")


def test_update_changes_only_given_fields_and_null_clears(store: FincomeStore) -> None:
    before = dict(store.get("customers", "cus_1"))
    after = store.update("customers", "cus_1", {"name": "New", "email": None, "id": "cus_1"})
    assert after["name"] == "New"
    assert after["email"] is None
    assert after["country"] == before["country"]
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] >= before["updated_at"]


def test_update_moves_a_line_to_another_invoice(store: FincomeStore) -> None:
    store.create("invoices", invoice_body("inv_2", lines=[]))
    store.update("invoice_line_items", "inv_1:L1", {"invoice_id": "inv_2"})
    assert [x["id"] for x in store.read("invoices", "inv_1")["invoice_line_items"]] == ["inv_1:L0"]
    assert [x["id"] for x in store.read("invoices", "inv_2")["invoice_line_items"]] == ["inv_1:L1"]


def test_invoice_with_a_bad_line_stores_nothing(store: FincomeStore) -> None:
    lines = [line_body("inv_2:L0", "inv_2"), line_body("inv_2:L1", "inv_2", price_id="nope")]
    with pytest.raises(Invalid):
        store.create("invoices", invoice_body("inv_2", lines=lines))
    assert "inv_2" not in store.records["invoices"]
    assert "inv_2:L0" not in store.records["invoice_line_items"]


def test_invoice_whose_line_id_exists_conflicts_and_stores_nothing(store: FincomeStore) -> None:
    lines = [line_body("inv_2:L0", "inv_2"), line_body("inv_1:L0", "inv_2")]
    with pytest.raises(Conflict):
        store.create("invoices", invoice_body("inv_2", lines=lines))
    assert "inv_2" not in store.records["invoices"]
    assert "inv_2:L0" not in store.records["invoice_line_items"]
    assert store.get("invoice_line_items", "inv_1:L0")["invoice_id"] == "inv_1"


def test_deleting_a_credit_note_deletes_its_lines(store: FincomeStore) -> None:
    lines = [
        credit_line_body("cn_1:L0", invoice_line_item_id="inv_1:L0"),
        credit_line_body("cn_1:L1"),
    ]
    store.create("credit_notes", credit_note_body("cn_1", lines=lines))
    store.delete("credit_notes", "cn_1")
    assert store.records["credit_notes"] == {}
    assert store.records["credit_note_line_items"] == {}
    with pytest.raises(NotFound):
        store.delete("credit_note_line_items", "cn_1:L0")


def test_deleting_a_referenced_record_clears_the_references(store: FincomeStore) -> None:
    credit_line = credit_line_body(invoice_line_item_id="inv_1:L0")
    store.create("credit_notes", credit_note_body("cn_1", lines=[credit_line]))
    store.update("invoice_line_items", "inv_1:L1", {"proration_target_line_item_id": "inv_1:L0"})
    store.delete("subscriptions", "sub_1")
    store.delete("invoice_line_items", "inv_1:L0")
    assert store.get("credit_note_line_items", "cn_1:L0")["invoice_line_item_id"] is None
    assert store.get("invoice_line_items", "inv_1:L1")["proration_target_line_item_id"] is None
    assert [x["id"] for x in store.read("invoices", "inv_1")["invoice_line_items"]] == ["inv_1:L1"]


def test_deleting_a_line_that_targets_itself(store: FincomeStore) -> None:
    store.update("invoice_line_items", "inv_1:L1", {"proration_target_line_item_id": "inv_1:L1"})
    store.delete("invoice_line_items", "inv_1:L1")
    assert "inv_1:L1" not in store.records["invoice_line_items"]


def test_reset_forgets_everything_and_moves_the_version(store: FincomeStore) -> None:
    version = store.version
    store.reset()
    assert all(records == {} for records in store.dump().values())
    assert store.version > version
