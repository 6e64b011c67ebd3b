"""The metrics read API, computed from what is stored at each request.

Rules (facts in `facts.py`, MRR in `mrr.py`, currencies in `money.py`, periods in
`periods.py`):
- `invoiced` (kind `period`): sum of line amounts (`amount_excluding_tax_after_discount`) of
  invoices that are not `void`, in the period of the invoice `date`;
- `credit_notes` (`period`): credited amounts (magnitudes, see `facts.py`) in the period of
  the credit note `date`;
- `revenue` (`period`): `invoiced` minus `credit_notes` of the same period. Not Fincome's
  day-prorated recognition on purpose: it is what a reconcile compares with the billing
  system's totals per month and currency, and with `dimension=currency` it is exact;
- `mrr`, `arr` (= 12 x MRR), `active_customers`, `new_customers`, `churned_customers`,
  `new_mrr`, `expansion_mrr`, `contraction_mrr`, `churned_mrr` (kind `point_in_time`):
  see `mrr.py`;
- every point has `as_of` = the period's last day, or the freshness date for the period that
  contains it; sums in their own currency are exact, converted and MRR values are rounded to
  the cent (half even);
- series: one per value of `dimension` (keys `{dimension: value}`, null for no value,
  label the value, or the customer's name for `customer_id`), sorted by value, at most
  `MAX_SERIES` returned (`meta.series_total` tells how many exist); without a dimension, one
  series `Total` with empty keys.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any, Literal

from sandbox.fincome import dimensions
from sandbox.fincome.facts import Fact, credit_facts, invoice_facts
from sandbox.fincome.filters import Filter
from sandbox.fincome.money import CENT, Reporting, reporting
from sandbox.fincome.mrr import POINT_VALUES, account_rows
from sandbox.fincome.periods import Grain, Period
from sandbox.fincome.store import FincomeStore

MAX_SERIES = 1000
Kind = Literal["period", "point_in_time"]


@dataclass(frozen=True)
class Metric:
    slug: str
    label: str
    description: str
    unit: Literal["currency", "count"]
    kind: Kind

    def describe(self, store: FincomeStore) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "label": self.label,
            "description": self.description,
            "unit": self.unit,
            "kind": self.kind,
            "dimensions": [dimension.describe() for dimension in dimensions.available(store)],
            "natural_dimension": "currency" if self.unit == "currency" else None,
        }


def _recurring(slug: str, label: str, description: str) -> Metric:
    return Metric(slug, label, description, "currency", "point_in_time")


def _flow(slug: str, label: str, description: str) -> Metric:
    return Metric(slug, label, description, "currency", "period")


def _count(slug: str, label: str, description: str) -> Metric:
    return Metric(slug, label, description, "count", "point_in_time")


FAMILIES: tuple[tuple[str, str, tuple[Metric, ...]], ...] = (
    ("recurring_revenue", "Recurring revenue", (
        _recurring("mrr", "MRR", "Monthly recurring revenue at period end"),
        _recurring("arr", "ARR", "Annual recurring revenue: 12 x MRR"),
        _recurring("new_mrr", "New MRR", "MRR of accounts that had none"),
        _recurring("expansion_mrr", "Expansion MRR", "MRR gained by paying accounts"),
        _recurring("contraction_mrr", "Contraction MRR", "MRR lost by paying accounts"),
        _recurring("churned_mrr", "Churned MRR", "MRR of accounts that left"),
    )),
    ("billing", "Billing", (
        _flow("invoiced", "Invoiced", "Lines of non-void invoices by invoice date"),
        _flow("credit_notes", "Credit notes", "Credited amounts by credit note date"),
        _flow("revenue", "Revenue", "Invoiced minus credit notes of the period"),
    )),
    ("customers", "Customers", (
        _count("active_customers", "Active customers", "Accounts with MRR at period end"),
        _count("new_customers", "New customers", "Accounts with MRR that had none before"),
        _count("churned_customers", "Churned customers", "Accounts whose MRR fell to none"),
    )),
)  # fmt: skip
METRICS: dict[str, Metric] = {metric.slug: metric for _, _, group in FAMILIES for metric in group}


@dataclass(frozen=True)
class MetricQuery:
    periods: list[Period]
    grain: Grain
    freshness: date
    dimension: str | None
    filters: list[Filter]


def metric_result(
    store: FincomeStore, metric: Metric, query: MetricQuery, company_id: int
) -> dict[str, Any]:
    money = reporting(query.dimension, query.filters)
    values = _series_values(store, metric, query, money)
    keys = sorted(values, key=lambda key: (key is None, key or ""))
    shown = keys[:MAX_SERIES]
    return {
        "slug": metric.slug,
        "label": metric.label,
        "unit": metric.unit,
        "currency": money.currency if metric.unit == "currency" else None,
        "kind": metric.kind,
        "timegrain": query.grain,
        "dimensions": [query.dimension] if query.dimension else [],
        "series": [_series(store, query, key, values[key]) for key in shown],
        "meta": {
            "company_id": company_id,
            "computed_at": datetime.now(UTC),
            "min_available_date": _min_available_date(store),
            "freshness_date": query.freshness,
            "series_total": len(keys),
            "series_returned": len(shown),
        },
    }


def _series_values(
    store: FincomeStore, metric: Metric, query: MetricQuery, money: Reporting
) -> dict[Any, list[Decimal | int]]:
    key_of: Callable[[Fact], Hashable] = (
        dimensions.reader(store, query.dimension) if query.dimension else lambda fact: None
    )
    facts = _filtered(store, metric.slug, query.filters)
    if metric.kind == "period":
        values = _period_sums(facts, query.periods, key_of, money.amount())
    else:
        values = _point_values(metric.slug, facts, query, key_of, money.amount())
    if query.dimension is None and not values:
        values[None] = [0 if metric.unit == "count" else Decimal(0) for _ in query.periods]
    if metric.unit == "currency" and (money.converts or metric.kind == "point_in_time"):
        values = {key: [Decimal(v).quantize(CENT) for v in row] for key, row in values.items()}
    return values


def _filtered(store: FincomeStore, slug: str, filters: list[Filter]) -> Iterator[Fact]:
    if slug == "credit_notes":
        facts: Iterable[Fact] = credit_facts(store)
    elif slug == "revenue":
        facts = chain(invoice_facts(store), (_negated(fact) for fact in credit_facts(store)))
    else:
        facts = invoice_facts(store)
    readers = [(clause, dimensions.reader(store, clause.field)) for clause in filters]
    return (fact for fact in facts if all(c.keeps(read(fact)) for c, read in readers))


def _negated(fact: Fact) -> Fact:
    return Fact(
        fact.day, -fact.amount, fact.currency, fact.account, fact.invoice, fact.invoice_line
    )


def _period_sums(
    facts: Iterable[Fact],
    periods: list[Period],
    key_of: Callable[[Fact], Hashable],
    worth: Callable[[Fact], Decimal],
) -> dict[Any, list[Decimal | int]]:
    starts = [period.start for period in periods]
    first, last = periods[0].start, periods[-1].end
    sums: dict[Any, list[Decimal | int]] = {}
    for fact in facts:
        if first <= fact.day <= last:
            row = sums.setdefault(key_of(fact), [Decimal(0)] * len(periods))
            row[bisect_right(starts, fact.day) - 1] += worth(fact)
    return sums


def _point_values(
    slug: str,
    facts: Iterable[Fact],
    query: MetricQuery,
    key_of: Callable[[Fact], Hashable],
    worth: Callable[[Fact], Decimal],
) -> dict[Any, list[Decimal | int]]:
    # instant 0 ends the period before the range, so movements of the first period are known
    ends = [period.measured_at(query.freshness) for period in query.periods]
    instants = [query.periods[0].start_instant, *ends]
    value_at = POINT_VALUES[slug]
    rows = account_rows(facts, instants, key_of, worth)
    return {
        key: [value_at(list(by_account.values()), index) for index in range(1, len(instants))]
        for key, by_account in rows.items()
    }


def _series(
    store: FincomeStore, query: MetricQuery, key: Any, values: list[Decimal | int]
) -> dict[str, Any]:
    points = [
        {
            "period_start": period.start,
            "period_end": period.end,
            "value": value,
            "as_of": period.as_of(query.freshness),
        }
        for period, value in zip(query.periods, values, strict=True)
    ]
    if query.dimension is None:
        return {"keys": {}, "label": "Total", "points": points}
    return {
        "keys": {query.dimension: key},
        "label": _label(store, query.dimension, key),
        "points": points,
    }


def _label(store: FincomeStore, dimension: str, key: Any) -> str:
    if key is None:
        return "(none)"
    if dimension == "customer_id":
        name: str | None = store.records["customers"][key]["name"]
        return name or str(key)
    return str(key)


def _min_available_date(store: FincomeStore) -> date | None:
    dated = chain(store.records["invoices"].values(), store.records["credit_notes"].values())
    days = [record["date"].date() for record in dated if record["date"] is not None]
    return min(days, default=None)
