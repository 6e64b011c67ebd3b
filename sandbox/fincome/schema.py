"""What the store needs to know per collection: body type, defaults, references, delete rule.

References and delete rules come from the seed's field descriptions ("Identifier of the X to
which ...") and its list of delete operations. When a record is deleted, what pointed at it:
- credit note lines of a deleted credit note are deleted with it (they belong to it);
- any other reference to it is set to null (a line's `subscription_id` when its subscription
  goes, a credit note line's `invoice_line_item_id` or a line's
  `proration_target_line_item_id` when that invoice line goes), so nothing dangles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sandbox.fincome import models

OnDelete = Literal["cascade", "set_null"]


@dataclass(frozen=True)
class Reference:
    field: str
    target: str  # collection name
    on_delete: OnDelete = "set_null"


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    body: type[Any]  # the TypedDict of the create body
    references: tuple[Reference, ...] = ()
    deletable: bool = False
    # the create body's list of child line items, named like the collection it creates
    embedded: str | None = None
    defaults: Mapping[str, Callable[[], Any]] = field(default_factory=dict)


def _zero() -> Decimal:
    return Decimal(0)


_PROPERTIES = {"custom_properties": dict}
_DISCOUNTS = {"discount_amount": _zero, "temporary_discount_amount": _zero}

CUSTOMERS = CollectionSpec(
    "customers",
    models.CustomerBody,
    (Reference("root_parent_id", "customers"),),
    defaults=_PROPERTIES,
)
PRODUCTS = CollectionSpec("products", models.ProductBody, defaults=_PROPERTIES)
PRICES = CollectionSpec(
    "prices", models.PriceBody, (Reference("product_id", "products"),), defaults=_PROPERTIES
)
SUBSCRIPTIONS = CollectionSpec(
    "subscriptions",
    models.SubscriptionBody,
    (Reference("customer_id", "customers"), Reference("price_id", "prices")),
    deletable=True,
    defaults=_PROPERTIES,
)
INVOICES = CollectionSpec(
    "invoices",
    models.InvoiceBody,
    (Reference("customer_id", "customers"),),
    embedded="invoice_line_items",
    defaults={**_PROPERTIES, "invoice_line_items": list},
)
INVOICE_LINE_ITEMS = CollectionSpec(
    "invoice_line_items",
    models.InvoiceLineItemBody,
    (
        Reference("invoice_id", "invoices"),
        Reference("subscription_id", "subscriptions"),
        Reference("price_id", "prices"),
        Reference("proration_target_line_item_id", "invoice_line_items"),
    ),
    deletable=True,
    defaults={**_PROPERTIES, **_DISCOUNTS},
)
CREDIT_NOTES = CollectionSpec(
    "credit_notes",
    models.CreditNoteBody,
    (Reference("invoice_id", "invoices"),),
    deletable=True,
    embedded="credit_note_line_items",
    defaults={**_PROPERTIES, "credit_note_line_items": list},
)
CREDIT_NOTE_LINE_ITEMS = CollectionSpec(
    "credit_note_line_items",
    models.CreditNoteLineItemBody,
    (
        Reference("credit_note_id", "credit_notes", on_delete="cascade"),
        Reference("invoice_line_item_id", "invoice_line_items"),
    ),
    deletable=True,
    defaults={**_PROPERTIES, **_DISCOUNTS},
)

COLLECTIONS: dict[str, CollectionSpec] = {
    spec.name: spec
    for spec in (
        CUSTOMERS,
        PRODUCTS,
        PRICES,
        SUBSCRIPTIONS,
        INVOICES,
        INVOICE_LINE_ITEMS,
        CREDIT_NOTES,
        CREDIT_NOTE_LINE_ITEMS,
    )
}

# The reference field by which a child line points at the parent that embeds it.
PARENT_FIELD = {"invoice_line_items": "invoice_id", "credit_note_line_items": "credit_note_id"}
