"""The price book of the generated company: credit types, products, plans and their charges.

Six plans, one per `family`: Starter, Growth and Enterprise in USD (cents); Growth EU in EUR
(whole units); Compute Credits in a custom pricing unit ("Cloud credits", not a currency);
Scale Quarterly in USD billed every three months. Charges cover every `charge_type` the
loader meets on plan invoices: tiered and flat `usage`, `fixed`, `seat` and `minimum`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.metronome.wire import USD_CENTS_ID, new_uuid

D = Decimal


@dataclass(frozen=True)
class CreditType:
    id: str
    name: str
    is_currency: bool

    def ref(self) -> dict[str, str]:
        """The `{id, name}` pair embedded wherever a `credit_type` appears."""
        return {"id": self.id, "name": self.name}

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "is_currency": self.is_currency}


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    metric: str | None  # the usage metric it meters, None for fixed and seat products


@dataclass(frozen=True)
class Charge:
    """One PlanCharge. `tiers` holds (metric value where the price starts, unit price)."""

    id: str
    name: str
    charge_type: str  # usage | fixed | seat | minimum
    product: Product
    credit_type: CreditType
    tiers: tuple[tuple[Decimal, Decimal], ...]
    custom_fields: dict[str, str]

    @property
    def is_tiered(self) -> bool:
        return len(self.tiers) > 1

    @property
    def unit_price(self) -> Decimal:
        return self.tiers[0][1]

    def to_api(self) -> dict[str, Any]:
        prices = [{"tier": start, "value": price} for start, price in self.tiers]
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "charge_type": self.charge_type,
            "product_id": self.product.id,
            "product_name": self.product.name,
            "credit_type": self.credit_type.ref(),
            "custom_fields": self.custom_fields,
            "prices": prices,
        }
        if self.charge_type == "fixed":
            body["quantity"] = D(1)
        return body


@dataclass(frozen=True)
class Plan:
    id: str
    family: str
    name: str
    description: str
    credit_type: CreditType
    months_per_period: int
    charges: tuple[Charge, ...]
    custom_fields: dict[str, str]
    recurring_credit: Decimal | None = None  # a credit grant renewed every period
    fiat_conversion: tuple[CreditType, Decimal] | None = None  # custom units only
    onboarding_fee: tuple[Product, Decimal] | None = None  # billed once, without a charge

    @property
    def minimum(self) -> Charge | None:
        return next((c for c in self.charges if c.charge_type == "minimum"), None)

    def billed_charges(self) -> list[Charge]:
        """Charges that become sub-lines; a minimum shows as an invoice adjustment."""
        return [c for c in self.charges if c.charge_type != "minimum"]

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "custom_fields": self.custom_fields,
        }

    def detail(self) -> dict[str, Any]:
        minimum = self.minimum
        body = {
            **self.summary(),
            "minimums": [],
            "overage_rates": [],
            "credit_grants": [],
        }
        if minimum is not None:
            body["minimums"] = [
                {
                    "name": minimum.name,
                    "value": minimum.unit_price,
                    "start_period": D(0),
                    "credit_type": self.credit_type.ref(),
                }
            ]
        if self.recurring_credit is not None:
            body["credit_grants"] = [self._credit_grant()]
        if self.fiat_conversion is not None:
            fiat, factor = self.fiat_conversion
            body["overage_rates"] = [
                {
                    "credit_type": self.credit_type.ref(),
                    "fiat_credit_type": fiat.ref(),
                    "to_fiat_conversion_factor": factor,
                    "start_period": D(0),
                }
            ]
        return body

    def _credit_grant(self) -> dict[str, Any]:
        return {
            "name": "Monthly platform credit",
            "amount_granted": self.recurring_credit,
            "amount_granted_credit_type": self.credit_type.ref(),
            "amount_paid": D(0),
            "amount_paid_credit_type": self.credit_type.ref(),
            "effective_duration": D(1),
            "priority": "1",
            "send_invoice": False,
            "reason": "Included in the Enterprise platform fee",
            "recurrence_duration": D(1),
            "recurrence_interval": D(1),
        }


@dataclass
class Catalog:
    credit_types: list[CreditType]
    products: dict[str, Product]
    plans: dict[str, Plan] = field(default_factory=dict)  # by family


# (product, metric) names; the metric is what a usage charge meters
_PRODUCTS = {
    "api": ("API calls", "api_calls"),
    "storage": ("Storage", "storage_gb"),
    "compute": ("Compute", "compute_hours"),
    "platform": ("Platform", None),
    "seats": ("Seats", None),
    "commitment": ("Minimum commitment", None),
    "services": ("Professional services", None),
}

# family -> (name, credit type, months per period, recurring credit, charges)
# charge: (name, charge_type, product key, tiers as (start, price) text pairs)
_PLANS: dict[str, tuple[str, str, int, str | None, list[tuple[str, str, str, list[str]]]]] = {
    "starter": ("Starter", "usd", 1, None, [
        ("Platform fee", "fixed", "platform", ["0:2900"]),
        ("API calls", "usage", "api", ["0:0", "10000:0.08"]),
        ("Storage (GB-month)", "usage", "storage", ["0:25"]),
    ]),
    "growth": ("Growth", "usd", 1, None, [
        ("Platform fee", "fixed", "platform", ["0:49900"]),
        ("API calls", "usage", "api", ["0:0.05", "1000000:0.035", "10000000:0.02"]),
        ("Storage (GB-month)", "usage", "storage", ["0:21.5"]),
        ("Seats", "seat", "seats", ["0:1500"]),
        ("Monthly minimum ($1,000.00)", "minimum", "commitment", ["0:100000"]),
    ]),
    "enterprise": ("Enterprise", "usd", 1, "50000", [
        ("Platform fee", "fixed", "platform", ["0:250000"]),
        ("Premium support", "fixed", "platform", ["0:75000"]),
        ("API calls", "usage", "api", ["0:0.03", "10000000:0.02", "100000000:0.012"]),
        ("Compute hours", "usage", "compute", ["0:9.5", "5000:8"]),
        ("Storage (GB-month)", "usage", "storage", ["0:18"]),
        ("Seats", "seat", "seats", ["0:4000"]),
        ("Monthly minimum ($10,000.00)", "minimum", "commitment", ["0:1000000"]),
    ]),
    "growth_eu": ("Growth EU", "eur", 1, None, [
        ("Platform fee", "fixed", "platform", ["0:459"]),
        ("API calls", "usage", "api", ["0:0.00045", "1000000:0.0003"]),
        ("Storage (GB-month)", "usage", "storage", ["0:0.19"]),
        ("Seats", "seat", "seats", ["0:14"]),
        ("Monthly minimum (900 EUR)", "minimum", "commitment", ["0:900"]),
    ]),
    "credits": ("Compute Credits", "credits", 1, None, [
        ("Platform access", "fixed", "platform", ["0:100"]),
        ("Compute hours", "usage", "compute", ["0:1.2", "1000:0.9"]),
        ("API calls", "usage", "api", ["0:0.0002", "5000000:0.00015"]),
    ]),
    "quarterly": ("Scale Quarterly", "usd", 3, None, [
        ("Platform fee (quarterly)", "fixed", "platform", ["0:450000"]),
        ("API calls", "usage", "api", ["0:0.03", "30000000:0.02"]),
        ("Seats (quarterly)", "seat", "seats", ["0:3600"]),
        ("Quarterly minimum ($15,000.00)", "minimum", "commitment", ["0:1500000"]),
    ]),
}  # fmt: skip

_DESCRIPTIONS = {
    "starter": "Self-serve plan: platform fee, metered API calls and storage",
    "growth": "For scaling teams: seats, volume-tiered API calls, $1,000 monthly minimum",
    "enterprise": "Committed spend with premium support and monthly platform credits",
    "growth_eu": "Growth plan invoiced in euros for EU entities",
    "credits": "Prepaid compute billed in Cloud credits",
    "quarterly": "Scale plan billed quarterly in arrears",
}

_GL_CODES = {"usage": "4100", "fixed": "4000", "seat": "4050", "minimum": "4200"}


def build_catalog(rng: random.Random) -> Catalog:
    usd = CreditType(USD_CENTS_ID, "USD (cents)", is_currency=True)
    eur = CreditType(new_uuid(rng), "EUR", is_currency=True)
    credits = CreditType(new_uuid(rng), "Cloud credits", is_currency=False)
    units = {"usd": usd, "eur": eur, "credits": credits}
    products = {
        key: Product(new_uuid(rng), name, metric) for key, (name, metric) in _PRODUCTS.items()
    }
    catalog = Catalog(credit_types=[usd, eur, credits], products=products)
    for family, (name, unit, months, credit, charges) in _PLANS.items():
        credit_type = units[unit]
        catalog.plans[family] = Plan(
            id=new_uuid(rng),
            family=family,
            name=name,
            description=_DESCRIPTIONS[family],
            credit_type=credit_type,
            months_per_period=months,
            charges=tuple(_charge(rng, spec, products, credit_type, family) for spec in charges),
            custom_fields={
                "tier": family,
                "billing_frequency": "quarterly" if months == 3 else "monthly",
                "sku": f"PLAN-{family.upper()}-2025",
            },
            recurring_credit=D(credit) if credit else None,
            fiat_conversion=(usd, D(100)) if unit == "credits" else None,
            onboarding_fee=(products["services"], D(250000)) if family == "enterprise" else None,
        )
    return catalog


def _charge(
    rng: random.Random,
    spec: tuple[str, str, str, list[str]],
    products: dict[str, Product],
    credit_type: CreditType,
    family: str,
) -> Charge:
    name, charge_type, product_key, tier_texts = spec
    tiers = tuple((D(s), D(p)) for s, p in (text.split(":") for text in tier_texts))
    return Charge(
        id=new_uuid(rng),
        name=name,
        charge_type=charge_type,
        product=products[product_key],
        credit_type=credit_type,
        tiers=tiers,
        custom_fields={"gl_code": _GL_CODES[charge_type], "plan_family": family},
    )
