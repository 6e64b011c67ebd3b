"""The plan catalog every fuzzed account shares: plans, plan charges and credit types.

Four fiat credit types (USD counted in cents, EUR, JPY with no minor unit, KWD with three)
and a custom pricing unit; two plans whose charges cover the charge types (usage with
tiers, fixed, seat, minimum), in USD and EUR.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pipelines.transform.inputs import StagedCatalog
from pipelines.transform.options import PricingUnit

Record = dict[str, Any]

USD_CENTS: Record = {"id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2", "name": "USD (cents)"}
EUR: Record = {"id": "ct-eur", "name": "EUR"}
JPY: Record = {"id": "ct-jpy", "name": "JPY"}
KWD: Record = {"id": "ct-kwd", "name": "KWD"}
CREDITS: Record = {"id": "ct-credits", "name": "Cloud credits"}  # a custom pricing unit
FIAT = (USD_CENTS, EUR, JPY, KWD)
# Decimal places of one minor unit, in the credit type's own unit (USD is counted in cents).
UNIT_PLACES = {"USD (cents)": 0, "EUR": 2, "JPY": 0, "KWD": 3, "Cloud credits": 2}
AS_OF = datetime(2024, 9, 15, tzinfo=UTC)  # inside the generated invoices' periods
CREDITS_AS_EUR = {CREDITS["id"]: PricingUnit(currency="EUR", factor=Decimal("0.01"))}

PLANS: dict[str, Record] = {
    "plan-starter": {"id": "plan-starter", "name": "Starter", "custom_fields": {"tier": "1"}},
    "plan-pro": {"id": "plan-pro", "name": "Pro", "description": "", "custom_fields": {}},
}
_CHARGES: tuple[Record, ...] = (
    {
        "id": "ch-api",
        "name": "API calls",
        "charge_type": "usage",
        "plan_id": "plan-pro",
        "product_id": "prod-api",
        "product_name": "API",
        "credit_type": USD_CENTS,
        "custom_fields": {},
        "prices": [{"tier": 0, "value": 2}, {"tier": 1000, "value": 1}],
    },
    {
        "id": "ch-platform",
        "name": "Platform fee",
        "charge_type": "fixed",
        "plan_id": "plan-pro",
        "product_id": "prod-platform",
        "product_name": "Platform",
        "credit_type": USD_CENTS,
        "custom_fields": {"gl": "4000"},
        "prices": [{"tier": 0, "value": 49900}],
        "quantity": 1,
    },
    {
        "id": "ch-seats",
        "name": "Seats",
        "charge_type": "seat",
        "plan_id": "plan-starter",
        "product_id": "prod-seats",
        "product_name": "Seats",
        "credit_type": EUR,
        "custom_fields": {},
        "prices": [{"tier": 0, "value": "12.50"}],
    },
    {
        "id": "ch-minimum",
        "name": "Minimum",
        "charge_type": "minimum",
        "plan_id": "plan-starter",
        "product_id": "prod-platform",
        "product_name": "Platform",
        "credit_type": EUR,
        "custom_fields": {},
        "prices": [{"tier": 0, "value": 100}],
    },
)
CHARGES: dict[str, Record] = {charge["id"]: charge for charge in _CHARGES}
CHARGE_IDS = (*CHARGES, "ch-retired")  # a sub-line may name a charge no longer listed


def catalog() -> StagedCatalog:
    credit_types = {t["id"]: {**t, "is_currency": True} for t in FIAT}
    credit_types[CREDITS["id"]] = {**CREDITS, "is_currency": False}
    return StagedCatalog(dict(PLANS), dict(CHARGES), credit_types)
