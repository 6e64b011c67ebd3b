"""MRR per account, taken at the end of each period, and what follows from it.

Fincome's published method, as implemented:
- only `subscription` lines of invoices that are not `void` count; credit notes are ignored
  (Fincome's default "ignore credit notes" option), `one_off` lines are not recurring;
- a line contributes `amount_excluding_tax_after_discount / months(period_start, period_end)`
  (its monthly value) in its own currency, converted only when totalling across currencies;
- MRR is a snapshot "taken at period end", not prorated within the month: a line counts in a
  period when its service period `[period_start, period_end)` covers the period's last
  instant, i.e. `period_start < t <= period_end` with `t` the first instant after the
  period's `as_of` day. So `[May 1, Jun 1)` counts in May only, `[May 15, Jun 15)` counts in
  full in May and not in June;
- `months` is whole calendar months from `period_start` (same day of month, clamped to the
  month's end) plus the rest as a fraction of the following month: `[Jan 1, Apr 1)` = 3,
  `[May 1, May 16)` = 15/31;
- per account (root parent customer) and period: active when its MRR rounds to more than 0;
  movements between the previous period's end and this one's: `new` (0 -> >0, reactivations
  included), `churned` (>0 -> 0), otherwise `expansion` / `contraction` by the sign of the
  change. Movement values are the changes (churn and contraction negative), so they add up
  to the change of MRR.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sandbox.fincome.facts import Fact, service_period
from sandbox.fincome.money import CENT
from sandbox.fincome.periods import add_months

Row = list[Decimal]  # one account's MRR at each instant
Value = Decimal | int


@lru_cache(maxsize=1 << 16)  # lines of one billing period share their bounds
def months_between(start: datetime, end: datetime) -> Decimal:
    whole = (end.year - start.year) * 12 + end.month - start.month
    while _shift(start, whole) > end:
        whole -= 1
    anchor, following = _shift(start, whole), _shift(start, whole + 1)
    rest = Decimal((end - anchor).total_seconds()) / Decimal((following - anchor).total_seconds())
    return whole + rest


def _shift(instant: datetime, months: int) -> datetime:
    day = add_months(instant.date(), months)
    return instant.replace(year=day.year, month=day.month, day=day.day)


def account_rows(
    facts: Iterable[Fact],
    instants: list[datetime],
    key_of: Callable[[Fact], Hashable],
    worth: Callable[[Fact], Decimal],
) -> dict[Hashable, dict[str, Row]]:
    """Series key -> account -> MRR at each instant (instants ascending)."""
    rows: dict[Hashable, dict[str, Row]] = {}
    for fact in facts:
        period = service_period(fact)
        if period is None:
            continue
        start, end = period
        first, stop = bisect_right(instants, start), bisect_right(instants, end)
        if first >= stop:
            continue
        monthly = worth(fact) / months_between(start, end)
        by_account = rows.setdefault(key_of(fact), {})
        row = by_account.setdefault(fact.account, [Decimal(0)] * len(instants))
        for index in range(first, stop):
            row[index] += monthly
    return rows


def _active(value: Decimal) -> bool:
    return value.quantize(CENT) > 0


def _movement(before: Decimal, after: Decimal) -> str | None:
    if not _active(before) and _active(after):
        return "new"
    if _active(before) and not _active(after):
        return "churned"
    if after > before:
        return "expansion"
    return "contraction" if after < before else None


def _mrr(rows: list[Row], index: int) -> Value:
    return sum((row[index] for row in rows), Decimal(0))


def _count(test: Callable[[Decimal, Decimal], bool]) -> Callable[[list[Row], int], Value]:
    return lambda rows, index: sum(1 for row in rows if test(row[index - 1], row[index]))


def _moved(kind: str) -> Callable[[list[Row], int], Value]:
    def change(rows: list[Row], index: int) -> Value:
        moved = (
            row[index] - row[index - 1]
            for row in rows
            if _movement(row[index - 1], row[index]) == kind
        )
        return sum(moved, Decimal(0))

    return change


# slug -> value at instant `index` (>= 1; instant 0 is the end of the period before the range)
POINT_VALUES: dict[str, Callable[[list[Row], int], Value]] = {
    "mrr": _mrr,
    "arr": lambda rows, index: 12 * _mrr(rows, index),
    "active_customers": _count(lambda before, after: _active(after)),
    "new_customers": _count(lambda before, after: _movement(before, after) == "new"),
    "churned_customers": _count(lambda before, after: _movement(before, after) == "churned"),
    "new_mrr": _moved("new"),
    "expansion_mrr": _moved("expansion"),
    "contraction_mrr": _moved("contraction"),
    "churned_mrr": _moved("churned"),
}
