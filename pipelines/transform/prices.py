"""Fincome prices: one per staged plan charge that a synced sub-line item refers to.

| Fincome field | from | rule |
|---|---|---|
| id | plan charge `id` (sub-line `charge_id`) | charges not in the staged catalog: no price |
| name | charge `name` | |
| period_unit | - | `month` |
| period_length | the charge's plan | (1) |
| product_id | charge `product_id` | else the product of the line that used it |
| type | - | `[mapping] price_type` (default `recurring`) |
| amount | charge `prices[]` | (2) |
| currency_code | charge `credit_type` | money.py; else the currency of the invoice using it |
| custom_properties | charge `custom_fields` | (3) |

(1) `[mapping.plan_period_months]` for the plan, else the most common period length in months
    (at least 1) of the plan's staged invoices, else 1. Metronome plans carry no billing
    frequency field, so the invoices are the evidence.
(2) Not tiered (exactly one price entry): its `value` converted to the currency, to 9 decimals
    (a unit price may be a fraction of a cent). Tiered or unreadable: null.
(3) Plus `metronome_charge_type`, `metronome_plan_id`, `metronome_plan_name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from destinations.fincome.rows import PriceRow
from pipelines.transform.catalog import CatalogUsage, CatalogView, ChargeUse, Recency
from pipelines.transform.inputs import Record
from pipelines.transform.money import Currency, resolve_currency
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import (
    MappingError,
    custom_properties,
    optional_identifier,
    text,
    to_decimal,
)

# Prices register their product with the oldest recency, so a line's name still wins.
_PRICE_RECENCY = Recency("", "")


def price_rows(view: CatalogView, usage: CatalogUsage, options: MappingOptions) -> list[PriceRow]:
    """One row per used charge, ordered by id; adds the products they need to `usage`."""
    used = [
        (charge_id, view.charges[charge_id], use)
        for charge_id, use in sorted(usage.charges.items())
        if charge_id in view.charges
    ]
    rows = [
        _price_row(charge_id, charge, use, view=view, usage=usage, options=options)
        for charge_id, charge, use in used
    ]
    for _, charge, use in used:
        usage.use_product(_product_id(charge, use), None, _PRICE_RECENCY)
    return rows


def _price_row(
    charge_id: str,
    charge: Record,
    use: ChargeUse,
    *,
    view: CatalogView,
    usage: CatalogUsage,
    options: MappingOptions,
) -> PriceRow:
    currency = _currency(charge, view, options)
    plan_id = optional_identifier(charge.get("plan_id"))
    plan = view.plans.get(plan_id, {}) if plan_id else {}
    fields = charge.get("custom_fields")
    return {
        "id": charge_id,
        "name": text(charge.get("name")),
        "period_unit": "month",
        "period_length": period_length(plan_id, usage, options),
        "product_id": _product_id(charge, use),
        "type": options.price_type,
        "amount": flat_amount(charge, currency),
        "currency_code": currency.code if currency else use.currency_code,
        "custom_properties": custom_properties(
            fields if isinstance(fields, Mapping) else {},
            {
                "metronome_charge_type": text(charge.get("charge_type")),
                "metronome_plan_id": plan_id,
                "metronome_plan_name": text(plan.get("name")),
            },
        ),
    }


def _product_id(charge: Record, use: ChargeUse) -> str:
    return optional_identifier(charge.get("product_id")) or use.product_id


def period_length(plan_id: str | None, usage: CatalogUsage, options: MappingOptions) -> int:
    configured = options.plan_period_months.get(plan_id) if plan_id else None
    return configured or usage.plan_period_months(plan_id) or 1


def flat_amount(charge: Record, currency: Currency | None) -> Decimal | None:
    """The unit price of a charge that is not tiered, in the currency; else None."""
    prices = charge.get("prices")
    if currency is None or not isinstance(prices, list) or len(prices) != 1:
        return None
    entry = prices[0]
    if not isinstance(entry, Mapping):
        return None
    try:
        value = to_decimal(entry.get("value"), "price value")
    except MappingError:
        return None
    return currency.unit_price(value)


def _currency(charge: Record, view: CatalogView, options: MappingOptions) -> Currency | None:
    try:
        return resolve_currency(charge.get("credit_type"), options, view.credit_types)
    except MappingError:
        return None
