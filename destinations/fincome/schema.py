"""Fincome's collections as the API seed defines them: fields per operation, parents, deletes.

Source: `../shared/seeds/000_*.txt` (the Fincome Redoc text). `created_at`/`updated_at` are
read-only and never sent. Embedded line items exist only on invoice and credit note creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

FieldKind = Literal["string", "number", "integer", "datetime", "object"]

INVOICE_STATUSES = ("open", "pending", "paid", "unpaid", "void")
CREDIT_NOTE_STATUSES = ("refunded", "refund_due")
SUBSCRIPTION_STATUSES = ("trialing", "active", "paused", "canceled", "unpaid")
LINE_ITEM_TYPES = ("subscription", "one_off")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    required: bool = False  # required on create; every update field is optional


@dataclass(frozen=True)
class Collection:
    name: str
    fields: tuple[FieldSpec, ...]
    parents: tuple[tuple[str, str], ...] = ()  # (field, parent collection)
    deletable: bool = False
    embedded: str | None = None  # list field carrying child rows on create

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def self_references(self) -> tuple[str, ...]:
        """Fields naming another row of this same collection (`root_parent_id`...)."""
        return tuple(name for name, target in self.parents if target == self.name)

    @cached_property
    def body_kinds(self) -> tuple[tuple[str, FieldKind], ...]:
        """(field, kind) of a create body, in order: every row's body is built from it."""
        return tuple((f.name, f.kind) for f in self.fields)

    @cached_property
    def kinds(self) -> dict[str, FieldKind]:
        return {f.name: f.kind for f in self.fields}

    def kind_of(self, field: str) -> FieldKind:
        return self.kinds[field]  # on the hash path of every row: a dict, not a scan


def _f(name: str, kind: FieldKind = "string", *, required: bool = False) -> FieldSpec:
    return FieldSpec(name, kind, required)


CUSTOM = _f("custom_properties", "object")

CUSTOMERS = Collection(
    "customers",
    (
        _f("id", required=True),
        _f("root_parent_id"),
        _f("name"),
        _f("email"),
        _f("country"),
        _f("zip_code"),
        CUSTOM,
    ),
    parents=(("root_parent_id", "customers"),),
)
PRODUCTS = Collection("products", (_f("id", required=True), _f("name"), CUSTOM))
PRICES = Collection(
    "prices",
    (
        _f("id", required=True),
        _f("name"),
        _f("period_unit"),
        _f("period_length", "integer"),
        _f("product_id"),
        _f("type"),
        _f("amount", "number"),
        _f("currency_code"),
        CUSTOM,
    ),
    parents=(("product_id", "products"),),
)
SUBSCRIPTIONS = Collection(
    "subscriptions",
    (
        _f("id", required=True),
        _f("customer_id"),
        _f("status"),
        _f("subscription_set_id"),
        _f("trial_start", "datetime"),
        _f("trial_end", "datetime"),
        _f("canceled_at", "datetime"),
        _f("effective_cancellation_date", "datetime"),
        _f("subscription_start_date", "datetime"),
        _f("deal_closed_date", "datetime"),
        _f("contractual_commitment_end_date", "datetime"),
        _f("monthly_value", "number"),
        _f("currency_code"),
        _f("price_id"),
        CUSTOM,
    ),
    parents=(("customer_id", "customers"), ("price_id", "prices")),
    deletable=True,
)
INVOICES = Collection(
    "invoices",
    (
        _f("id", required=True),
        _f("customer_id", required=True),
        _f("invoice_number"),
        _f("date", "datetime", required=True),
        _f("status", required=True),
        _f("is_renew"),
        CUSTOM,
    ),
    parents=(("customer_id", "customers"),),
    embedded="invoice_line_items",
)
INVOICE_LINE_ITEMS = Collection(
    "invoice_line_items",
    (
        _f("id", required=True),
        _f("invoice_id", required=True),
        _f("subscription_id"),
        _f("price_id"),
        _f("type", required=True),
        _f("amount_excluding_tax_after_discount", "number", required=True),
        _f("tax_amount", "number", required=True),
        _f("discount_amount", "number"),
        _f("temporary_discount_amount", "number"),
        _f("currency_code", required=True),
        _f("quantity", "integer"),
        _f("description"),
        _f("period_start", "datetime"),
        _f("period_end", "datetime"),
        _f("proration_target_line_item_id"),
        CUSTOM,
    ),
    parents=(
        ("invoice_id", "invoices"),
        ("subscription_id", "subscriptions"),
        ("price_id", "prices"),
        ("proration_target_line_item_id", "invoice_line_items"),
    ),
    deletable=True,
)
CREDIT_NOTES = Collection(
    "credit_notes",
    (
        _f("id", required=True),
        _f("invoice_id", required=True),
        _f("date", "datetime"),
        _f("status"),
        CUSTOM,
    ),
    parents=(("invoice_id", "invoices"),),
    deletable=True,
    embedded="credit_note_line_items",
)
CREDIT_NOTE_LINE_ITEMS = Collection(
    "credit_note_line_items",
    (
        _f("id", required=True),
        _f("credit_note_id", required=True),
        _f("invoice_line_item_id"),
        _f("amount", "number", required=True),
        _f("discount_amount", "number"),
        _f("temporary_discount_amount", "number"),
        _f("currency_code", required=True),
        _f("description"),
        CUSTOM,
    ),
    parents=(("credit_note_id", "credit_notes"), ("invoice_line_item_id", "invoice_line_items")),
    deletable=True,
)

# Parents first: every collection's parents come earlier in this order.
PUSH_ORDER: tuple[Collection, ...] = (
    CUSTOMERS,
    PRODUCTS,
    PRICES,
    SUBSCRIPTIONS,
    INVOICES,
    INVOICE_LINE_ITEMS,
    CREDIT_NOTES,
    CREDIT_NOTE_LINE_ITEMS,
)
COLLECTIONS: dict[str, Collection] = {c.name: c for c in PUSH_ORDER}
# The child collection an embedded list creates, keyed by the parent collection.
EMBEDDED_CHILD: dict[str, Collection] = {
    INVOICES.name: INVOICE_LINE_ITEMS,
    CREDIT_NOTES.name: CREDIT_NOTE_LINE_ITEMS,
}


def collection(name: str) -> Collection:
    try:
        return COLLECTIONS[name]
    except KeyError:
        known = ", ".join(COLLECTIONS)
        raise KeyError(f"unknown Fincome collection {name!r} (known: {known})") from None
