"""The Metronome emulator's building blocks: exact numbers, cursors, periods, tiers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.metronome.paging import Page, PageRequest, keyset_page
from sandbox.metronome.periods import Period, billing_periods
from sandbox.metronome.rating import split_into_tiers
from sandbox.metronome.wire import decimal_text, decode_cursor, encode_cursor, to_json

D = Decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("1234.5"), "1234.5"), (D("1234.50"), "1234.5"), (D("-300.00"), "-300"), (D("0E-8"), "0"),
     (D("0.0000012"), "0.0000012"), (D("1E+3"), "1000")],
)  # fmt: skip
def test_decimals_become_exact_json_numbers(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text
    assert to_json({"total": value}) == b'{"total":' + text.encode() + b"}"


KEY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x1f"))


@given(st.lists(KEY_TEXT, min_size=1, max_size=3))
def test_cursors_carry_their_key_opaquely(parts: list[str]) -> None:
    token = encode_cursor(*parts)
    assert decode_cursor(token, parts=len(parts)) == parts
    assert decode_cursor(token + "x", parts=len(parts)) != parts


def test_foreign_cursors_are_refused() -> None:
    assert decode_cursor("bm90LWEtY3Vyc29y", parts=1) is None  # base64 of "not-a-cursor"
    assert decode_cursor("%%%", parts=1) is None


def test_keyset_pages_end_with_a_null_cursor() -> None:
    items = [f"{i:02d}" for i in range(5)]
    first = keyset_page(items, PageRequest(3), key=lambda i: (i,), render=str.encode)
    assert first.items == [b"00", b"01", b"02"]
    assert first.next_page is not None
    last = keyset_page(
        items, PageRequest(3, first.next_page), key=lambda i: (i,), render=str.encode
    )
    assert last == Page([b"03", b"04"], None)
    assert last.to_json() == b'{"data":[03,04],"next_page":null}'


def test_quarterly_periods_count_from_the_plan_start() -> None:
    anchor = datetime(2025, 2, 1, tzinfo=UTC)
    window = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    periods = list(billing_periods(anchor, 3, *window))
    assert [(p.start.month, p.end.month) for p in periods] == [(8, 11), (11, 2)]


def test_a_period_finalizes_a_day_after_it_ends() -> None:
    march = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert not march.is_final(datetime(2026, 4, 1, 23, 59, tzinfo=UTC))
    assert march.is_final(datetime(2026, 4, 2, tzinfo=UTC))
    assert march.elapsed_share(datetime(2026, 3, 16, 12, tzinfo=UTC)) == pytest.approx(0.5)


TIERS = ((D(0), D("0.05")), (D(1000), D("0.035")), (D(10000), D("0.02")))


def test_graduated_tiers_price_each_slice() -> None:
    tiers = split_into_tiers(TIERS, D(12000))
    slices = [(t["starting_at"], t["quantity"], t["subtotal"]) for t in tiers]
    assert slices == [(0, 1000, 50), (1000, 9000, 315), (10000, 2000, 40)]


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_tiers_share_out_the_whole_quantity(quantity: Decimal) -> None:
    tiers = split_into_tiers(TIERS, quantity)
    assert sum(t["quantity"] for t in tiers) == quantity
    assert all(t["subtotal"] == t["quantity"] * t["price"] for t in tiers)
