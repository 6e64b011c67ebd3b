"""The Fincome side: what Fincome holds, read back through its read-only analytics API.

- Documents: the `invoices` view (`total_amount` = its lines' sum, `currency_code`, `date`,
  `status`) and the `credit_notes` view (`credited_amount`, the magnitude of its lines' sum),
  read page by page (1,000 rows a page, ordered by id so pages do not shift).
- Aggregates, as a cross-check of those documents: the `invoiced` and `revenue` metrics with
  `dimension=currency` at monthly grain (each currency on its own, unconverted), over the
  months the documents span.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from destinations.fincome import FincomeClient
from destinations.fincome.reads import MAX_PAGE_SIZE
from pipelines.reconcile.documents import (
    VOID,
    DocumentKind,
    Documents,
    Held,
    month_of,
    to_amount,
)

CROSS_CHECKED_METRICS = ("invoiced", "revenue")
MonthCurrency = tuple[str, str]


@dataclass(frozen=True)
class MetricTotals:
    """Fincome's own metrics for one month and currency."""

    invoiced: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)


def read_documents(client: FincomeClient) -> Documents:
    """Every invoice and credit note Fincome holds, with its total as Fincome computes it."""
    documents: Documents = {}
    for row in _rows(client, "invoices"):
        documents[row["id"]] = _held(row, "invoice", to_amount(row.get("total_amount")))
    for row in _rows(client, "credit_notes"):
        credited = row.get("credited_amount")
        amount = (
            to_amount(credited) if credited is not None else abs(to_amount(row["total_amount"]))
        )
        documents[row["id"]] = _held(row, "credit_note", amount)
    return documents


def read_metrics(
    client: FincomeClient, first_month: str, last_month: str
) -> dict[MonthCurrency, MetricTotals]:
    """`invoiced` and `revenue` per month and currency from `first_month` to `last_month`."""
    values: dict[str, dict[MonthCurrency, Decimal]] = {}
    for slug in CROSS_CHECKED_METRICS:
        result = client.metrics.get(
            slug,
            date_start=f"{first_month}-01",
            date_end=f"{last_month}-01",  # a date selects its whole month
            date_step="month",
            dimension="currency",
        )
        values[slug] = dict(_points(result.get("series") or []))
    keys = set(values["invoiced"]) | set(values["revenue"])
    return {
        key: MetricTotals(
            invoiced=values["invoiced"].get(key, Decimal(0)),
            revenue=values["revenue"].get(key, Decimal(0)),
        )
        for key in keys
    }


def _rows(client: FincomeClient, view: str) -> Iterable[dict[str, Any]]:
    return client.views.query(view, order_by="id", page_size=MAX_PAGE_SIZE)


def _held(row: dict[str, Any], kind: DocumentKind, amount: Decimal) -> Held:
    status = str(row.get("status") or "")
    return Held(
        kind=kind,
        id=str(row["id"]),
        customer_id=row.get("customer_id"),
        currency=row.get("currency_code") or None,
        month=month_of(row.get("date")),
        amount=amount,
        status=status,
        counted=status != VOID,
    )


def _points(series: list[dict[str, Any]]) -> Iterable[tuple[MonthCurrency, Decimal]]:
    for one in series:
        currency = (one.get("keys") or {}).get("currency")
        if not currency:
            continue
        for point in one.get("points") or []:
            value = to_amount(point.get("value"))
            if value:
                yield (str(point["period_start"])[:7], currency), value
