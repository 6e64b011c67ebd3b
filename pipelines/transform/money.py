"""Money: the currency of a credit type, conversion, half-even rounding, balanced invoices.

| Metronome credit type | Fincome currency | factor |
|---|---|---|
| id listed in `[mapping.pricing_units]` | its `currency` | its `factor` |
| name `USD (cents)` | USD | 0.01 |
| name a bare ISO 4217 code (`EUR`, `JPY`, `KWD`...) | that code | 1 |
| anything else (a custom pricing unit) | rejected | - |

A Fincome amount is the Metronome amount times the factor, rounded half-even to the
currency's minor unit (ISO 4217 exponent). An invoice's rounding residue goes, a minor unit
at a time, to the lines rounding moved furthest the other way (ties to the largest), so its
lines always add up exactly to its rounded total and an exact amount is never changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from functools import cached_property
from typing import Any

from pipelines.transform.currencies import minor_unit_exponent
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import (
    MappingError,
    decimal_text,
    optional_record,
    preview,
    shown,
    text,
)

USD_CENTS = "USD (cents)"
# Wide enough that sums and products of staged numbers (see values.MAX_ADJUSTED) are exact.
MONEY_CONTEXT = Context(prec=120, rounding=ROUND_HALF_EVEN)
# Fincome amounts travel as JSON numbers; beyond this they stop being exact as floats.
MAX_AMOUNT = Decimal(10) ** 15
# Unit prices may hold fractions of a minor unit; the `fincome` tables keep 9 decimals.
PRICE_PLACES = Decimal("1e-9")


@dataclass(frozen=True)
class Currency:
    """A Fincome currency and how Metronome amounts convert into it."""

    code: str
    factor: Decimal  # Fincome amount = Metronome amount x factor
    exponent: int  # ISO 4217 minor unit: 2 for USD, 0 for JPY, 3 for KWD

    @cached_property
    def minor_unit(self) -> Decimal:
        return Decimal(1).scaleb(-self.exponent)

    # MONEY_CONTEXT's own methods, not `localcontext`: these run for every line of every
    # invoice, and entering a local context copies the context each time
    def convert(self, amount: Decimal) -> Decimal:
        """The exact amount in this currency (not yet rounded)."""
        return MONEY_CONTEXT.multiply(amount, self.factor)

    def round(self, amount: Decimal) -> Decimal:
        return plain_zero(amount.quantize(self.minor_unit, ROUND_HALF_EVEN, MONEY_CONTEXT))

    def unit_price(self, amount: Decimal) -> Decimal | None:
        """A converted unit price to 9 decimals, None when it cannot travel exactly."""
        price = self.convert(amount).quantize(PRICE_PLACES, ROUND_HALF_EVEN, MONEY_CONTEXT)
        return plain_zero(price) if sendable(price) else None


def resolve_currency(
    credit_type: object, options: MappingOptions, credit_types: Mapping[str, Any]
) -> Currency:
    """The currency of an invoice's (or charge's) credit type, or `MappingError` with why."""
    shape = optional_record(credit_type, "credit_type")
    type_id = text(shape.get("id"))
    known = optional_record(credit_types.get(type_id), "credit type") if type_id else {}
    name = text(shape.get("name")) or text(known.get("name"))
    if type_id is None and name is None:
        raise MappingError("credit_type is missing (no id and no name)")
    if type_id is not None and type_id in options.pricing_units:
        unit = options.pricing_units[type_id]
        return Currency(unit.currency, unit.factor, _exponent(unit.currency))
    if name == USD_CENTS:
        return Currency("USD", Decimal("0.01"), 2)
    exponent = minor_unit_exponent(name) if name else None
    if exponent is not None and known.get("is_currency") is not False:
        return Currency(str(name), Decimal(1), exponent)
    raise MappingError(
        f"credit type {preview(name)} (id {shown(type_id) if type_id else None}) is a custom "
        "pricing unit: map its id to a currency and factor under [mapping.pricing_units]"
    )


def is_fiat(credit_type: object, credit_types: Mapping[str, Any]) -> bool:
    """Whether a credit type is a currency (`USD (cents)`, an ISO code), not a custom unit."""
    shape = optional_record(credit_type, "credit_type")
    type_id = text(shape.get("id"))
    known = optional_record(credit_types.get(type_id), "credit type") if type_id else {}
    name = text(shape.get("name")) or text(known.get("name"))
    if name == USD_CENTS:
        return True
    if name is None or minor_unit_exponent(name) is None:
        return False
    return known.get("is_currency") is not False


def balance(amounts: Sequence[Decimal], total: Decimal, currency: Currency) -> list[Decimal]:
    """Round converted line amounts so that they add up exactly to the rounded total.

    `amounts` and `total` are exact converted values. Lines that differ from the total by a
    whole minor unit or more cannot be balanced by rounding: that is a `MappingError`.
    """
    with localcontext(MONEY_CONTEXT):
        gap = total - sum(amounts, Decimal(0))
        if abs(gap) >= currency.minor_unit:
            raise MappingError(
                f"lines and adjustments add up to {decimal_text(total - gap)} {currency.code}"
                f" but the invoice total is {decimal_text(total)}"
            )
        rounded = [currency.round(amount) for amount in amounts]
        rounded_total = currency.round(total)
        residue = rounded_total - sum(rounded, Decimal(0))
        if residue:
            if not rounded:
                raise MappingError(
                    f"invoice total {decimal_text(total)} {currency.code} has no line to carry it"
                )
            _carry(residue, amounts, rounded, currency.minor_unit)
    for amount in (*rounded, rounded_total):
        require_sendable(amount, currency)
    return rounded


def _carry(
    residue: Decimal, amounts: Sequence[Decimal], rounded: list[Decimal], unit: Decimal
) -> None:
    """Spread `residue` one minor unit per line over the lines that rounding moved furthest
    the other way (largest remainder; ties to the largest line): an exact amount, such as a
    subscription's price, keeps its value, so its MRR is its price."""
    step = unit if residue > 0 else -unit
    order = sorted(
        range(len(amounts)),
        key=lambda i: ((amounts[i] - rounded[i]) * step, abs(amounts[i]), -i),
        reverse=True,
    )
    for n in range(int(residue / step)):
        rounded[order[n % len(order)]] += step


def plain_zero(amount: Decimal) -> Decimal:
    """-0.00 is 0.00: DuckDB stores no negative zero, so its hash would change on the way."""
    return amount if amount else amount.copy_abs()


def sendable(amount: Decimal) -> bool:
    """Whether Fincome can receive the amount exactly as a JSON number."""
    if abs(amount) >= MAX_AMOUNT:
        return False
    normalized = amount.normalize(MONEY_CONTEXT)
    if normalized == normalized.to_integral_value():
        return True
    return Decimal(repr(float(normalized))) == normalized


def require_sendable(amount: Decimal, currency: Currency) -> None:
    if not sendable(amount):
        raise MappingError(
            f"amount {decimal_text(amount)} {currency.code} is too large or too precise "
            "to send to Fincome exactly"
        )


def _exponent(code: str) -> int:
    exponent = minor_unit_exponent(code)
    if exponent is None:  # MappingOptions validates the code; this guards a hand-built one
        raise MappingError(f"{code!r} is not an ISO 4217 currency code")
    return exponent
