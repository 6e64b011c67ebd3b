"""Rating: plan charges and usage become sub-line items, grouped into one line per product.

Tier subtotals are `quantity * price` exactly and sum to their sub-line's subtotal; a line's
total is the sum of its sub-lines, except on lines of customers with `rounds_line_totals`:
their line totals are rounded half-even to whole units while the sub-lines keep their
fractions, so those lines deliberately do NOT add up (the transform must cope).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sandbox.metronome.catalog import Charge
from sandbox.metronome.periods import Period
from sandbox.metronome.wire import iso

_LINE_TYPES = {"usage": "usage", "fixed": "fixed", "seat": "seat"}


def rate_charge(charge: Charge, quantity: Decimal, period: Period) -> dict[str, Any]:
    """One sub-line item (Metronome's InvoiceSubLineItem) for a charge."""
    sub_line: dict[str, Any] = {
        "name": charge.name,
        "charge_id": charge.id,
        "quantity": quantity,
        "custom_fields": charge.custom_fields,
    }
    if charge.is_tiered:
        tiers = split_into_tiers(charge.tiers, quantity)
        sub_line["subtotal"] = sum((tier["subtotal"] for tier in tiers), Decimal(0))
        sub_line["tier_period"] = {
            "starting_at": iso(period.start),
            "ending_before": iso(period.end),
        }
        sub_line["tiers"] = tiers
        return sub_line
    sub_line["subtotal"] = quantity * charge.unit_price
    if quantity:
        sub_line["price"] = charge.unit_price
    if charge.charge_type == "seat":
        sub_line["start_date"] = iso(period.start)
        sub_line["end_date"] = iso(period.end)
    return sub_line


def split_into_tiers(
    tiers: tuple[tuple[Decimal, Decimal], ...], quantity: Decimal
) -> list[dict[str, Any]]:
    """Graduated tiers: each tier prices the part of `quantity` that falls inside it."""
    priced = []
    for position, (start, price) in enumerate(tiers):
        if position > 0 and quantity <= start:
            break
        upper = tiers[position + 1][0] if position + 1 < len(tiers) else None
        covered = quantity if upper is None else min(quantity, upper)
        in_tier = max(covered - start, Decimal(0))
        priced.append(
            {"starting_at": start, "quantity": in_tier, "price": price, "subtotal": in_tier * price}
        )
    return priced


def product_lines(
    charges: list[Charge],
    quantities: dict[str, Decimal],
    period: Period,
    *,
    round_totals: bool,
) -> list[dict[str, Any]]:
    """One line item per product, its charges as sub-lines, in the plan's charge order."""
    grouped: dict[str, list[tuple[Charge, dict[str, Any]]]] = {}
    for charge in charges:
        sub_line = rate_charge(charge, quantities[charge.id], period)
        grouped.setdefault(charge.product.id, []).append((charge, sub_line))
    return [_line(group, period, round_totals) for group in grouped.values()]


def _line(
    group: list[tuple[Charge, dict[str, Any]]], period: Period, round_totals: bool
) -> dict[str, Any]:
    first = group[0][0]
    sub_lines = [sub_line for _, sub_line in group]
    total = sum((sub_line["subtotal"] for sub_line in sub_lines), Decimal(0))
    if round_totals:
        total = total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return {
        "name": first.product.name,
        "type": _LINE_TYPES[first.charge_type],
        "total": total,
        "quantity": sum((sub_line["quantity"] for sub_line in sub_lines), Decimal(0)),
        "credit_type": first.credit_type.ref(),
        "product_id": first.product.id,
        "custom_fields": {},
        "starting_at": iso(period.start),
        "ending_before": iso(period.end),
        "sub_line_items": sub_lines,
    }
