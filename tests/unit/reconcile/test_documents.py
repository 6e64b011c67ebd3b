"""Months in UTC, amounts read back, money written exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pipelines.reconcile.documents import money_text, month_of, to_amount
from pipelines.reconcile.wording import amount_text, month_label

D = Decimal


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        ("2026-04-30T23:30:00Z", "2026-04"),
        ("2026-04-30T23:30:00-02:00", "2026-05"),
        (datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2025-12"),
        (datetime(2026, 2, 3), "2026-02"),  # naive: UTC
        (datetime(2026, 2, 3, tzinfo=UTC), "2026-02"),
        ("not a date", None),
        (None, None),
    ],
)
def test_month_of_is_the_utc_month(moment: datetime | str | None, month: str | None) -> None:
    assert month_of(moment) == month


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (D("1234.5"), "USD", "1234.50"),
        (D("-0.1"), "EUR", "-0.10"),
        (D("1500"), "JPY", "1500"),
        (D("2"), "KWD", "2.000"),
        (D("1.005"), "USD", "1.005"),  # finer than a cent: every digit kept
        (D("1E+3"), None, "1000"),
        (D("0E-9"), None, "0"),
        (D("123456789012345678901234567890.12"), "USD", "123456789012345678901234567890.12"),
    ],
)
def test_money_text_is_exact(amount: Decimal, currency: str | None, text: str) -> None:
    assert money_text(amount, currency) == text
    assert D(text) == amount


def test_amounts_read_back_from_json_or_sql() -> None:
    assert [to_amount(v) for v in (None, 3, "1.50", D("2.5"))] == [D(0), D(3), D("1.50"), D("2.5")]
    with pytest.raises(ValueError, match="not an amount"):
        to_amount(True)
    with pytest.raises(ValueError, match="not an amount"):
        to_amount("lots")


def test_wording_groups_digits_and_names_months() -> None:
    assert amount_text(D("-1234567.5"), "USD") == "-1,234,567.50 USD"
    assert amount_text(D("12"), None) == "12"
    assert (month_label("2026-04"), month_label(None)) == ("Apr 2026", "-")
