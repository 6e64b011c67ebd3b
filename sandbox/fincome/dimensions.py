"""Breakdown and filter axes of the metrics: built-ins plus the company's custom properties.

Custom axes are found in what is stored: every key of a customer's `custom_properties` is an
axis `customer.custom_properties.<key>`, every key of an invoice's is
`invoice.custom_properties.<key>`. Customer axes read the account (the root parent), like
`customer_id`. A property value that is not text reads as its JSON text (`true`, `12.5`).
`price_id` and `subscription_id` may filter but not break down (too many series).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.fincome.errors import Invalid, error_item
from sandbox.fincome.facts import Fact
from sandbox.fincome.store import FincomeStore
from sandbox.fincome.wire import dumps

CUSTOMER_AXIS = "customer.custom_properties."
INVOICE_AXIS = "invoice.custom_properties."


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    filter_only: bool = False

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "filter_only": self.filter_only}


BUILT_IN = (
    Dimension("currency", "Currency"),
    Dimension("customer_id", "Customer"),
    Dimension("customer_country", "Customer country"),
    Dimension("product_id", "Product"),
    Dimension("line_type", "Line item type"),
    Dimension("invoice_status", "Invoice status"),
    Dimension("price_id", "Price", filter_only=True),
    Dimension("subscription_id", "Subscription", filter_only=True),
)

Reader = Callable[[Fact], str | None]


def available(store: FincomeStore) -> list[Dimension]:
    customer_keys = _property_keys(store.records["customers"].values())
    invoice_keys = _property_keys(store.records["invoices"].values())
    return [
        *BUILT_IN,
        *(Dimension(CUSTOMER_AXIS + key, f"Customer {key}") for key in customer_keys),
        *(Dimension(INVOICE_AXIS + key, f"Invoice {key}") for key in invoice_keys),
    ]


def reader(store: FincomeStore, dimension_id: str) -> Reader:
    """How to read one axis off a fact; the id must be one of `available(store)`."""
    customers = store.records["customers"]
    prices = store.records["prices"]
    if dimension_id.startswith(CUSTOMER_AXIS):
        key = dimension_id.removeprefix(CUSTOMER_AXIS)
        return lambda fact: _text((customers[fact.account]["custom_properties"] or {}).get(key))
    if dimension_id.startswith(INVOICE_AXIS):
        key = dimension_id.removeprefix(INVOICE_AXIS)
        return lambda fact: _text((fact.invoice["custom_properties"] or {}).get(key))

    def line_field(field: str) -> Reader:
        return lambda fact: fact.invoice_line[field] if fact.invoice_line else None

    def product(fact: Fact) -> str | None:
        price = prices.get(fact.invoice_line["price_id"] or "") if fact.invoice_line else None
        return price["product_id"] if price else None

    readers: dict[str, Reader] = {
        "currency": lambda fact: fact.currency,
        "customer_id": lambda fact: fact.account,
        "customer_country": lambda fact: customers[fact.account]["country"],
        "product_id": product,
        "line_type": line_field("type"),
        "invoice_status": lambda fact: fact.invoice["status"],
        "price_id": line_field("price_id"),
        "subscription_id": line_field("subscription_id"),
    }
    return readers[dimension_id]


def check_breakdown(store: FincomeStore, dimension_id: str) -> None:
    """422 unless `dimension_id` may break a metric down."""
    known = {dimension.id: dimension for dimension in available(store)}
    dimension = known.get(dimension_id)
    if dimension is None or dimension.filter_only:
        usable = ", ".join(sorted(d for d, dim in known.items() if not dim.filter_only))
        msg = f"{dimension_id!r} is not a breakdown dimension; one of: {usable}"
        raise Invalid([error_item(["query", "dimension"], msg, "unknown_dimension", dimension_id)])


def _property_keys(records: Any) -> list[str]:
    keys: set[str] = set()
    for record in records:
        keys.update(record["custom_properties"] or {})
    return sorted(keys)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return dumps(value).decode()
