"""Currency from the credit type, half-even rounding to minor units, balanced invoices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.transform.money import Currency, balance, resolve_currency, sendable
from pipelines.transform.options import MappingOptions, PricingUnit
from pipelines.transform.values import MappingError
from tests.unit.transform.builders import CREDITS, USD, USD_ID

D = Decimal
KNOWN = {USD_ID: {**USD, "is_currency": True}, CREDITS["id"]: {**CREDITS, "is_currency": False}}
MAPPED = MappingOptions(
    pricing_units={CREDITS["id"]: PricingUnit(currency="EUR", factor=D("0.25"))}
)


@pytest.mark.parametrize(
    ("credit_type", "options", "expected"),
    [
        (USD, MappingOptions(), Currency("USD", D("0.01"), 2)),
        ({"id": "x", "name": "EUR"}, MappingOptions(), Currency("EUR", D(1), 2)),
        ({"id": "x", "name": "JPY"}, MappingOptions(), Currency("JPY", D(1), 0)),
        ({"id": "x", "name": "KWD"}, MappingOptions(), Currency("KWD", D(1), 3)),
        ({"id": "x", "name": "BHD"}, MappingOptions(), Currency("BHD", D(1), 3)),
        ({"id": USD_ID}, MappingOptions(), Currency("USD", D("0.01"), 2)),  # name from catalog
        (CREDITS, MAPPED, Currency("EUR", D("0.25"), 2)),
    ],
)
def test_resolve_currency(
    credit_type: dict[str, str], options: MappingOptions, expected: Currency
) -> None:
    assert resolve_currency(credit_type, options, KNOWN) == expected


@pytest.mark.parametrize(
    "credit_type",
    [
        CREDITS,  # a custom pricing unit that the options do not map
        {"id": "x", "name": "ABC"},  # three letters, but not an ISO 4217 code
        {"id": "x", "name": "usd"},
        {"id": "x", "name": "USD cents"},
    ],
)
def test_custom_pricing_units_are_rejected_with_the_key_to_set(
    credit_type: dict[str, str],
) -> None:
    with pytest.raises(MappingError, match=r"custom pricing unit.*\[mapping.pricing_units\]"):
        resolve_currency(credit_type, MappingOptions(), KNOWN)


def test_a_custom_unit_s_odd_id_and_name_are_shown_escaped_and_short() -> None:
    # found by fuzzing: an id with a control character broke the reason's single line
    with pytest.raises(MappingError) as caught:
        resolve_currency({"id": "ct\n2", "name": "x" * 500}, MappingOptions(), KNOWN)
    reason = str(caught.value)
    assert reason.isprintable()
    assert reason.startswith("credit type 'xxx")
    assert "(id 'ct\\n2') is a custom pricing unit" in reason


def test_a_code_the_catalog_marks_as_no_currency_is_a_custom_unit() -> None:
    known = {"fake": {"id": "fake", "name": "EUR", "is_currency": False}}
    with pytest.raises(MappingError, match="custom pricing unit"):
        resolve_currency({"id": "fake", "name": "EUR"}, MappingOptions(), known)


@pytest.mark.parametrize("credit_type", [None, {}, "USD (cents)", 5])
def test_a_missing_or_malformed_credit_type_is_rejected(credit_type: object) -> None:
    with pytest.raises(MappingError, match="credit_type"):
        resolve_currency(credit_type, MappingOptions(), KNOWN)


USD_C = Currency("USD", D("0.01"), 2)
JPY_C = Currency("JPY", D(1), 0)
KWD_C = Currency("KWD", D(1), 3)


@pytest.mark.parametrize(
    ("currency", "raw_lines", "raw_total", "expected"),
    [
        # fractional cents: each rounds to 0.33; the residue +0.01 goes to the line rounded
        # down the most
        (USD_C, ["33.333", "33.333", "33.334"], "100", ["0.33", "0.33", "0.34"]),
        (USD_C, ["33.334", "33.333", "33.333"], "100", ["0.34", "0.33", "0.33"]),
        # half-even: 0.125 -> 0.12, 0.135 -> 0.14; total 0.26 matches
        (USD_C, ["12.5", "13.5"], "26", ["0.12", "0.14"]),
        # among lines rounded alike, to the largest (by absolute amount), not the first
        (USD_C, ["0.4", "0.4", "250.4"], "251.2", ["0.00", "0.00", "2.51"]),
        (USD_C, ["-500.4", "100.4"], "-400", ["-5.00", "1.00"]),
        # an exact amount (a subscription's price) never carries another line's rounding:
        # the residue goes to the lines rounded the most towards it
        (USD_C, ["80000", "0.4", "0.4"], "80000.8", ["800.00", "0.01", "0.00"]),
        (USD_C, ["80000", "12.6", "0.6"], "80013.2", ["800.00", "0.12", "0.01"]),
        (USD_C, ["80000", "0.6", "0.7"], "80001.3", ["800.00", "0.00", "0.01"]),
        (JPY_C, ["100.5", "200.5"], "301", ["100", "201"]),
        (KWD_C, ["1.0005", "2.0015"], "3.002", ["1.000", "2.002"]),
        (USD_C, [], "0", []),
        (USD_C, [], "0.4", []),  # less than half a cent: nothing to carry
    ],
)
def test_balance_lines_add_up_exactly_to_the_rounded_total(
    currency: Currency, raw_lines: list[str], raw_total: str, expected: list[str]
) -> None:
    amounts = [currency.convert(D(raw)) for raw in raw_lines]
    total = currency.convert(D(raw_total))
    balanced = balance(amounts, total, currency)
    assert balanced == [D(text) for text in expected]
    assert sum(balanced, D(0)) == currency.round(total)


def test_lines_that_miss_the_total_by_a_minor_unit_cannot_be_balanced() -> None:
    with pytest.raises(MappingError, match=r"add up to 1 USD but the invoice total is 1.01"):
        balance([USD_C.convert(D(100))], USD_C.convert(D(101)), USD_C)


def test_a_total_without_any_line_to_carry_it_is_rejected() -> None:
    with pytest.raises(MappingError, match="no line to carry it"):
        balance([], USD_C.convert(D("0.6")), USD_C)


def test_amounts_that_cannot_travel_exactly_are_rejected() -> None:
    assert sendable(D("123456789012.34"))
    assert not sendable(D("1e15"))
    assert not sendable(D("0.12345678901234567890"))  # more digits than a double holds
    with pytest.raises(MappingError, match="too large or too precise"):
        balance([D("1e16")], D("1e16"), Currency("EUR", D(1), 2))


def test_unit_prices_keep_fractions_of_a_cent_to_nine_decimals() -> None:
    assert USD_C.unit_price(D("0.05")) == D("0.0005")
    assert USD_C.unit_price(D("0.0000001234")) == D("0.000000001")
