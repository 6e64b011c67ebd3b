"""Currencies of metric results: each currency on its own, or everything in the base currency.

With `dimension=currency`, or a filter that pins one currency (`eq`, or `in` with a single
value), every series is in its own currency, unconverted, so totals per month and currency
are exact. Otherwise amounts are converted to the base currency (USD) with a fixed table:
a stand-in for Fincome's daily rates that keeps results reproducible. A total that needs a
currency missing from the table answers 422 `fx_rate_not_found` rather than a wrong number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sandbox.fincome.errors import Invalid, error_item
from sandbox.fincome.facts import Fact
from sandbox.fincome.filters import Filter

BASE_CURRENCY = "USD"
USD_PER_UNIT: dict[str, Decimal] = {
    "USD": Decimal(1),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CHF": Decimal("1.12"),
    "CAD": Decimal("0.74"),
    "AUD": Decimal("0.66"),
    "JPY": Decimal("0.0067"),
    "SEK": Decimal("0.095"),
    "NOK": Decimal("0.094"),
    "DKK": Decimal("0.145"),
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Reporting:
    currency: str | None  # the result's currency; None when each series has its own
    converts: bool  # amounts go through the FX table

    def amount(self) -> Callable[[Fact], Decimal]:
        """How much a fact is worth in this reporting."""
        if not self.converts:
            return lambda fact: fact.amount
        return lambda fact: fact.amount * _rate(fact.currency)


def reporting(dimension: str | None, filters: list[Filter]) -> Reporting:
    pinned = _pinned_currency(filters)
    if pinned is not None or dimension == "currency":
        return Reporting(currency=pinned, converts=False)
    return Reporting(currency=BASE_CURRENCY, converts=True)


def _pinned_currency(filters: list[Filter]) -> str | None:
    for clause in filters:
        if clause.field != "currency":
            continue
        if clause.op == "eq" and isinstance(clause.value, str):
            return clause.value
        if clause.op == "in" and len(clause.value) == 1 and isinstance(clause.value[0], str):
            only: str = clause.value[0]
            return only
    return None


def _rate(currency: str) -> Decimal:
    rate = USD_PER_UNIT.get(currency)
    if rate is None:
        msg = (
            f"No exchange rate for {currency!r} to total in {BASE_CURRENCY}; "
            "break down by currency or filter on one"
        )
        raise Invalid([error_item(["query", "dimension"], msg, "fx_rate_not_found", currency)])
    return rate
