"""The staged plan catalog as the mapping sees it, and what the invoices used of it.

Products and prices are shared by every customer, so they are built once at the end from a
`CatalogUsage` that each customer's mapping fills: which products and charges its synced
lines referenced, and how long its plan invoices' periods were. Every choice it keeps is
independent of the order customers come in, so the same staging gives the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.transform.inputs import CatalogLike, Record
from pipelines.transform.values import clean_text, optional_identifier, text


@dataclass(frozen=True)
class CatalogView:
    """Plans, plan charges and credit types by id, keeping only well-formed entries."""

    plans: Mapping[str, Record]
    charges: Mapping[str, Record]
    credit_types: Mapping[str, Record]
    # product id -> `product_name` of its plan charges (the lowest charge id wins)
    charge_product_names: Mapping[str, str]


def catalog_view(catalog: CatalogLike) -> CatalogView:
    charges = _objects(getattr(catalog, "plan_charges", None))
    names: dict[str, str] = {}
    for charge_id in sorted(charges, reverse=True):
        product_id = optional_identifier(charges[charge_id].get("product_id"))
        product_name = text(charges[charge_id].get("product_name"))
        if product_id and product_name:
            names[product_id] = product_name
    return CatalogView(
        plans=_objects(getattr(catalog, "plans", None)),
        charges=charges,
        credit_types=_objects(getattr(catalog, "credit_types", None)),
        charge_product_names=names,
    )


def _objects(table: Any) -> dict[str, Record]:
    if not isinstance(table, Mapping):
        return {}
    return {
        clean_text(key): value
        for key, value in table.items()
        if isinstance(key, str) and isinstance(value, Mapping)
    }


@dataclass(frozen=True, order=True)
class Recency:
    """Orders the lines naming a product: the newest invoice's line names it."""

    date: str
    line_id: str


@dataclass(frozen=True, order=True)
class ChargeUse:
    """A fallback for a charge whose own credit type or product cannot be read."""

    currency_code: str
    product_id: str


@dataclass
class CatalogUsage:
    """What synced invoices referenced; filled customer by customer, merged at the end."""

    products: dict[str, tuple[Recency, str | None]] = field(default_factory=dict)
    charges: dict[str, ChargeUse] = field(default_factory=dict)
    plan_months: dict[str, Counter[int]] = field(default_factory=dict)

    def use_product(self, product_id: str, name: str | None, recency: Recency) -> None:
        known = self.products.get(product_id)
        if known is None or recency > known[0]:
            self.products[product_id] = (recency, name)

    def use_charge(self, charge_id: str, use: ChargeUse) -> None:
        known = self.charges.get(charge_id)
        self.charges[charge_id] = use if known is None else min(known, use)

    def observe_plan_period(self, plan_id: str, months: int) -> None:
        self.plan_months.setdefault(plan_id, Counter())[months] += 1

    def merge(self, other: CatalogUsage) -> None:
        for product_id, (recency, name) in other.products.items():
            self.use_product(product_id, name, recency)
        for charge_id, use in other.charges.items():
            self.use_charge(charge_id, use)
        for plan_id, counts in other.plan_months.items():
            self.plan_months.setdefault(plan_id, Counter()).update(counts)

    def plan_period_months(self, plan_id: str | None) -> int | None:
        """The most common period length of the plan's invoices (the shorter on a tie)."""
        counts = self.plan_months.get(plan_id) if plan_id else None
        if not counts:
            return None
        return min(counts, key=lambda months: (-counts[months], months))
