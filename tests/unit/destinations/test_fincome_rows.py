"""The typed rows (rows.py) hold exactly the seed's fields (schema.py), typed by their kind."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, get_args, get_type_hints

import pytest

from destinations.fincome import rows
from destinations.fincome.schema import COLLECTIONS, Collection, FieldKind

ROW_TYPES: dict[str, Any] = {
    "customers": rows.CustomerRow,
    "products": rows.ProductRow,
    "prices": rows.PriceRow,
    "subscriptions": rows.SubscriptionRow,
    "invoices": rows.InvoiceRow,
    "invoice_line_items": rows.InvoiceLineItemRow,
    "credit_notes": rows.CreditNoteRow,
    "credit_note_line_items": rows.CreditNoteLineItemRow,
}
KIND_TYPES: dict[FieldKind, Any] = {
    "string": str,
    "number": Decimal,
    "integer": int,
    "datetime": datetime,
    "object": dict[str, Any],
}


def test_every_collection_has_one_row_type_and_the_union_holds_them_all() -> None:
    assert set(ROW_TYPES) == set(COLLECTIONS)
    assert set(get_args(rows.FincomeRow)) == set(ROW_TYPES.values())


@pytest.mark.parametrize("collection", COLLECTIONS.values(), ids=lambda c: c.name)
def test_a_row_type_has_every_field_typed_by_its_kind(collection: Collection) -> None:
    row_type = ROW_TYPES[collection.name]
    expected = {
        spec.name: KIND_TYPES[spec.kind] if spec.required else KIND_TYPES[spec.kind] | None
        for spec in collection.fields
    }
    assert get_type_hints(row_type) == expected


@pytest.mark.parametrize("row_type", ROW_TYPES.values(), ids=lambda t: t.__name__)
def test_every_key_of_a_row_is_required_even_when_its_value_may_be_none(row_type: Any) -> None:
    assert row_type.__total__
    assert row_type.__required_keys__ == frozenset(get_type_hints(row_type))
