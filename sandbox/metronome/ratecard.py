"""The contracts' rate card: every contract product and its price, in this one place.

A subscription's price is per unit per billing period of its `frequency` (Metronome's
subscription rate: the contract itself carries no price, its invoice lines do). So the
monthly value of a subscription is `quantity x price / MONTHS_PER_PERIOD[frequency]`: the
annual platform at 1,200,000 cents is 100,000 cents ($1,000) a month; 12 seats at 4,500
cents are 54,000 a month; the quarterly support at 300,000 is 100,000 a month.

Usage products are priced per unit, graduated by tier (`tiers`: where a price starts, the
price); the compute product is priced in the custom pricing unit "Cloud credits", converted
to USD cents at `CREDITS_TO_CENTS` when commits and credits do not cover it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from sandbox.metronome.catalog import CreditType
from sandbox.metronome.wire import new_uuid

D = Decimal

MONTHS_PER_PERIOD = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUAL": 12}
CREDITS_TO_CENTS = D(100)  # one Cloud credit is worth 100 USD cents

# key -> (name, product type, credit unit, billing frequency (subscriptions), tiers as
# (start, price) text pairs: one pair for a flat price)
_RATES: dict[str, tuple[str, str, str, str | None, list[str]]] = {
    "platform_annual": ("Platform (annual)", "SUBSCRIPTION", "usd", "ANNUAL", ["0:1200000"]),
    "platform_monthly": ("Platform", "SUBSCRIPTION", "usd", "MONTHLY", ["0:80000"]),
    "seats": ("Seats", "SUBSCRIPTION", "usd", "MONTHLY", ["0:4500"]),
    "support_quarterly": ("Premium support", "SUBSCRIPTION", "usd", "QUARTERLY", ["0:300000"]),
    "analyst_seats": ("Analyst seats", "SUBSCRIPTION", "usd", "MONTHLY", ["0:2000"]),
    "platform_eur": ("Platform EU", "SUBSCRIPTION", "eur", "MONTHLY", ["0:650"]),
    "api": ("API requests", "USAGE", "usd", None, ["0:0.04", "1000000:0.025"]),
    "api_eur": ("API requests EU", "USAGE", "eur", None, ["0:0.0004", "1000000:0.00025"]),
    "compute": ("GPU compute", "USAGE", "credits", None, ["0:1.5"]),
    "onboarding": ("Onboarding package", "FIXED", "usd", None, ["0:500000"]),
    "onboarding_eur": ("Onboarding package EU", "FIXED", "eur", None, ["0:4000"]),
    "prepaid": ("Prepaid commit", "FIXED", "usd", None, ["0:0"]),
    "prepaid_eur": ("Prepaid commit EU", "FIXED", "eur", None, ["0:0"]),
    "postpaid": ("Minimum spend commitment", "FIXED", "usd", None, ["0:0"]),
    "credit": ("Promotional credit", "FIXED", "usd", None, ["0:0"]),
    "compute_credit": ("Included GPU credits", "FIXED", "credits", None, ["0:0"]),
}

PRODUCT_TYPES = {
    "SUBSCRIPTION": "SubscriptionProductListItem",
    "USAGE": "UsageProductListItem",
    "FIXED": "FixedProductListItem",
}
REGIONS = ("us-east-1", "eu-west-1")  # the pricing group key `region` of usage products
ENVIRONMENTS = ("production", "staging")  # the presentation group key `environment`


@dataclass(frozen=True)
class RateCardProduct:
    key: str
    id: str
    name: str
    product_type: str  # SUBSCRIPTION | USAGE | FIXED
    credit_type: CreditType
    frequency: str | None
    tiers: tuple[tuple[Decimal, Decimal], ...]

    @property
    def price(self) -> Decimal:
        """The flat price: per unit per billing period for a subscription."""
        return self.tiers[0][1]

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class RateCard:
    id: str
    products: dict[str, RateCardProduct]


def build_rate_card(rng: random.Random, units: dict[str, CreditType]) -> RateCard:
    card_id = new_uuid(rng)
    products = {}
    for key, (name, product_type, unit, frequency, tier_texts) in _RATES.items():
        tiers = tuple((D(s), D(p)) for s, p in (text.split(":") for text in tier_texts))
        products[key] = RateCardProduct(
            key, new_uuid(rng), name, product_type, units[unit], frequency, tiers
        )
    return RateCard(card_id, products)
