"""Calendar arithmetic for billing periods: month boundaries in UTC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FINALIZATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class Period:
    """A billing period [start, end): `end` is the next period's start."""

    start: datetime
    end: datetime

    def elapsed_share(self, now: datetime) -> float:
        """How much of the period lies before `now`, between 0 and 1."""
        if now <= self.start:
            return 0.0
        if now >= self.end:
            return 1.0
        return (now - self.start) / (self.end - self.start)

    def is_final(self, now: datetime) -> bool:
        """Metronome finalizes a usage invoice once its period ended plus the grace."""
        return now >= self.end + FINALIZATION_GRACE


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """The first of the month `months` after `moment`'s month."""
    index = moment.year * 12 + moment.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def months_between(earlier: datetime, later: datetime) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def billing_periods(
    anchor: datetime, months_per_period: int, start_from: datetime, until: datetime
) -> Iterator[Period]:
    """Periods of `months_per_period` months counted from `anchor` (a month start).

    Yields those that start at or after `start_from` and before `until`.
    """
    behind = max(0, months_between(anchor, start_from))
    index = -(-behind // months_per_period)  # first period starting at or after start_from
    while True:
        start = add_months(anchor, index * months_per_period)
        if start >= until:
            return
        yield Period(start, add_months(start, months_per_period))
        index += 1
