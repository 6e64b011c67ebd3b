"""The line items of contract invoices, as the SDK's LineItem describes them.

- `usage`: one line per usage product, pricing group (`region`) and tier, with the tier's
  quantity, unit price and `tier` {level, starting_at, size}; `presentation_group_values`
  carry the contract's environment. A region a contract does not use shows a zero line.
- `subscription`: quantity x price for a whole billing period (the line's own period, a
  year for an annual subscription), or the prorated part of a period for a quantity change
  (`is_prorated`), rounded half-up to 2 decimal places of the unit.
- `applied_commit_or_credit`: a negative line per commit or credit drawing down usage; a
  POSTPAID one is shown but is not part of the invoice's total.
- `cpu_conversion`: custom-unit spend left after credits, converted to the invoice's fiat.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.metronome.catalog import CreditType
from sandbox.metronome.contracts import Contract, ContractCommit, ContractSubscription
from sandbox.metronome.periods import Period, months_between
from sandbox.metronome.ratecard import CREDITS_TO_CENTS, PRODUCT_TYPES, REGIONS, RateCardProduct
from sandbox.metronome.rating import split_into_tiers
from sandbox.metronome.usage import metered
from sandbox.metronome.wire import iso

ZERO = Decimal(0)
PRORATION_STEP = Decimal("0.01")
Line = dict[str, Any]


def period_usage(contract: Contract, period: Period) -> dict[str, dict[str, Decimal]]:
    """Final usage per product and region for a month: a pure function of its own RNG."""
    rng = random.Random(f"{contract.seed}/{contract.id}/usage/{period.start:%Y-%m}")
    trend = (1 + contract.growth) ** months_between(contract.starting_at, period.start)
    usage: dict[str, dict[str, Decimal]] = {}
    for key, (product, baseline) in contract.usage.items():
        shares = (0.7, 0.3) if contract.environment == "production" else (1.0, 0.0)
        usage[key] = {
            region: metered(baseline * trend * share * rng.uniform(0.82, 1.18), _places(product))
            for region, share in zip(REGIONS, shares, strict=True)
        }
    return usage


def usage_lines(contract: Contract, period: Period, share: float) -> list[Line]:
    """The period's usage lines; `share` < 1 rates the usage so far of an open period."""
    lines = []
    for key, by_region in period_usage(contract, period).items():
        product = contract.usage[key][0]
        for region, final in by_region.items():
            quantity = final if share >= 1 else metered(float(final) * share, _places(product))
            lines += _tier_lines(contract, product, region, quantity, period)
    return lines


def _tier_lines(
    contract: Contract, product: RateCardProduct, region: str, quantity: Decimal, period: Period
) -> list[Line]:
    lines = []
    for level, tier in enumerate(split_into_tiers(product.tiers, quantity), start=1):
        line = _line(product.name, "usage", product, tier["subtotal"], period)
        line.update(
            quantity=tier["quantity"],
            unit_price=tier["price"],
            pricing_group_values={"region": region},
            presentation_group_values={"environment": contract.environment},
        )
        if len(product.tiers) > 1:
            line["tier"] = _tier(product, level)
        lines.append(line)
    return lines


def _tier(product: RateCardProduct, level: int) -> dict[str, Any]:
    start = product.tiers[level - 1][0]
    tier: dict[str, Any] = {"level": level, "starting_at": str(start)}
    if level < len(product.tiers):
        tier["size"] = str(product.tiers[level][0] - start)
    return tier


def subscription_line(
    subscription: ContractSubscription, service: Period, quantity: Decimal, *, prorated: bool
) -> Line:
    """A subscription line for `quantity` over `service`, which may be part of a period."""
    product = subscription.product
    total = quantity * product.price
    if prorated:
        whole = subscription.period_of(service.start)
        share = Decimal((service.end - service.start).days) / (whole.end - whole.start).days
        total = (total * share).quantize(PRORATION_STEP, rounding=ROUND_HALF_UP)
    line = _line(product.name, "subscription", product, total, service)
    line.update(
        quantity=quantity,
        unit_price=product.price,
        subscription_id=subscription.id,
        is_prorated=prorated,
    )
    return line


def applied_lines(
    contract: Contract, period: Period, lines: list[Line], postpaid_used: Decimal
) -> list[Line]:
    """Commits and credits drawing down this period's usage, by priority."""
    spent: dict[str, Decimal] = {}
    for line in lines:
        if line["type"] == "usage":
            spent[line["product_id"]] = spent.get(line["product_id"], ZERO) + line["total"]
    applied = []
    for commit in sorted(contract.commits, key=lambda c: (c.priority, c.id)):
        segment = commit.segment_for(period)
        if segment is None:
            continue
        available = segment.amount - (postpaid_used if commit.kind == "POSTPAID" else ZERO)
        amount = min(spent.get(commit.applies_to.id, ZERO), max(available, ZERO))
        if amount <= 0:
            continue
        spent[commit.applies_to.id] -= amount
        applied.append(applied_line(commit, segment.id, amount, period))
    return applied


def applied_line(commit: ContractCommit, segment_id: str, amount: Decimal, period: Period) -> Line:
    line = _line(commit.name, "applied_commit_or_credit", commit.applies_to, -amount, period)
    line.update(
        applied_commit_or_credit={"id": commit.id, "type": commit.kind, "access_type": "SPEND"},
        commit_id=commit.id,
        commit_type="PostpaidCommit" if commit.kind == "POSTPAID" else "PrepaidCommit",
        commit_segment_id=segment_id,
    )
    return line


def cpu_conversion_lines(lines: list[Line], fiat: CreditType, period: Period) -> list[Line]:
    """Custom-unit spend not covered by credits, converted to fiat at the rate card's rate."""
    outstanding: dict[str, tuple[Line, Decimal]] = {}
    for line in lines:
        unit = line["credit_type"]
        if unit["id"] != fiat.id:
            first, total = outstanding.get(unit["id"], (line, ZERO))
            outstanding[unit["id"]] = (first, total + line["total"])
    converted = []
    for first, total in outstanding.values():
        if total > 0:
            name = f"{first['name']} ({first['credit_type']['name']} converted to {fiat.name})"
            line = _line(name, "cpu_conversion", None, total * CREDITS_TO_CENTS, period)
            line.update(credit_type=fiat.ref(), quantity=total, unit_price=CREDITS_TO_CENTS)
            converted.append(line)
    return converted


def fixed_line(
    name: str, line_type: str, product: RateCardProduct, total: Decimal, day: Period
) -> Line:
    """A one-off line (scheduled charge, commit purchase or true-up) for the day it bills."""
    line = _line(name, line_type, product, total, day)
    line.update(quantity=Decimal(1), unit_price=total)
    return line


def _line(
    name: str, line_type: str, product: RateCardProduct | None, total: Decimal, period: Period
) -> Line:
    line: Line = {"name": name, "type": line_type, "total": total}
    if product is not None:
        line.update(
            credit_type=product.credit_type.ref(),
            product_id=product.id,
            product_type=PRODUCT_TYPES[product.product_type],
        )
    line.update(starting_at=iso(period.start), ending_before=iso(period.end))
    return line


def _places(product: RateCardProduct) -> int:
    return 0 if product.key.startswith("api") else 2
