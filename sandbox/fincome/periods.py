"""Calendar periods of the read API, with the seed's inclusive rules.

"A date selects the whole period it falls in; the result spans every period from the one
containing date_start through the one containing date_end (e.g. monthly 2024-05-01→2024-05-31
= May; 2024-05-01→2024-06-01 = May and June)." Defaults: `date_end` = the company's freshness
date, `date_start` = one year before `date_end` (so 13 monthly periods). Periods are calendar
months, quarters (Jan/Apr/Jul/Oct) and years, in UTC; `end` is the period's last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Grain = Literal["month", "quarter", "year"]
_MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # last day, inclusive

    @property
    def start_instant(self) -> datetime:
        return midnight(self.start)

    def measured_at(self, freshness: date) -> datetime:
        """The instant a point-in-time value of this period is taken at: the end of its
        `as_of` day (exclusive bound)."""
        return midnight(self.as_of(freshness) + timedelta(days=1))

    def as_of(self, freshness: date) -> date:
        """The day a value of this period is taken at: its last day, or the freshness date
        for the period that contains it (the current period is not over yet)."""
        return freshness if self.start <= freshness <= self.end else self.end


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (Jan 31 + 1 = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first = date(year, month + 1, 1)
    last_day = (first_of_next_month(first) - timedelta(days=1)).day
    return first.replace(day=min(day.day, last_day))


def first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def period_of(day: date, grain: Grain) -> Period:
    span = _MONTHS_PER_PERIOD[grain]
    first_month = (day.month - 1) // span * span + 1
    start = date(day.year, first_month, 1)
    return Period(start, add_months(start, span) - timedelta(days=1))


def periods_between(first: date, last: date, grain: Grain) -> list[Period]:
    """Every period from the one containing `first` through the one containing `last`."""
    periods = [period_of(first, grain)]
    while periods[-1].end < last:
        periods.append(period_of(periods[-1].end + timedelta(days=1), grain))
    return periods


def one_year_before(day: date) -> date:
    return add_months(day, -12)
