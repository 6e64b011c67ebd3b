"""Period rules of the Fincome read API, as the seed states them, and MRR's month counting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sandbox.fincome.mrr import months_between
from sandbox.fincome.periods import Grain, Period, add_months, one_year_before, periods_between

D = date.fromisoformat


@pytest.mark.parametrize(
    ("start", "end", "grain", "expected"),
    [
        # the seed's own examples
        ("2024-05-01", "2024-05-31", "month", [("2024-05-01", "2024-05-31")]),
        ("2024-05-01", "2024-06-01", "month",
         [("2024-05-01", "2024-05-31"), ("2024-06-01", "2024-06-30")]),
        # a date selects the whole period it falls in
        ("2024-05-17", "2024-05-17", "month", [("2024-05-01", "2024-05-31")]),
        ("2024-01-31", "2024-03-01", "month", [("2024-01-01", "2024-01-31"),
         ("2024-02-01", "2024-02-29"), ("2024-03-01", "2024-03-31")]),
        ("2023-12-15", "2024-01-02", "month",
         [("2023-12-01", "2023-12-31"), ("2024-01-01", "2024-01-31")]),
        ("2024-02-10", "2024-03-31", "quarter", [("2024-01-01", "2024-03-31")]),
        ("2024-03-31", "2024-04-01", "quarter",
         [("2024-01-01", "2024-03-31"), ("2024-04-01", "2024-06-30")]),
        ("2024-11-20", "2025-01-05", "quarter",
         [("2024-10-01", "2024-12-31"), ("2025-01-01", "2025-03-31")]),
        ("2024-06-30", "2024-12-31", "year", [("2024-01-01", "2024-12-31")]),
        ("2023-12-31", "2024-01-01", "year",
         [("2023-01-01", "2023-12-31"), ("2024-01-01", "2024-12-31")]),
    ],
)  # fmt: skip
def test_periods_between_selects_whole_periods(
    start: str, end: str, grain: Grain, expected: list[tuple[str, str]]
) -> None:
    periods = periods_between(D(start), D(end), grain)
    assert [(p.start.isoformat(), p.end.isoformat()) for p in periods] == expected


def test_default_range_is_one_year_back_so_thirteen_months() -> None:
    freshness = D("2024-06-15")
    assert len(periods_between(one_year_before(freshness), freshness, "month")) == 13
    assert one_year_before(D("2024-02-29")) == D("2023-02-28")


def test_as_of_is_the_freshness_date_only_for_the_current_period() -> None:
    may, june = Period(D("2024-05-01"), D("2024-05-31")), Period(D("2024-06-01"), D("2024-06-30"))
    freshness = D("2024-06-15")
    assert may.as_of(freshness) == D("2024-05-31")
    assert june.as_of(freshness) == freshness
    assert june.measured_at(freshness) == datetime(2024, 6, 16, tzinfo=UTC)
    assert may.measured_at(freshness) == datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [("2024-01-31", 1, "2024-02-29"), ("2024-03-31", -1, "2024-02-29"),
     ("2023-11-30", 3, "2024-02-29"), ("2024-05-15", -17, "2022-12-15")],
)  # fmt: skip
def test_add_months_clamps_to_the_month_end(day: str, months: int, expected: str) -> None:
    assert add_months(D(day), months) == D(expected)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2024-04-01", "2024-05-01", Decimal(1)),
        ("2024-01-01", "2024-04-01", Decimal(3)),
        ("2024-01-01", "2025-01-01", Decimal(12)),
        ("2024-01-31", "2024-02-29", Decimal(1)),
        ("2024-05-15", "2024-06-15", Decimal(1)),
        ("2024-05-01", "2024-05-16", Decimal(15) / Decimal(31)),
        ("2024-02-01T12:00", "2024-03-01T00:00", Decimal("28.5") / Decimal(29)),
    ],
)
def test_months_between(start: str, end: str, months: Decimal) -> None:
    assert months_between(_at(start), _at(end)) == months
