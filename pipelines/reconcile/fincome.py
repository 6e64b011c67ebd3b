"""The Fincome side: what Fincome holds, read back through its read-only analytics API.

- Documents: from a view `discovery.py` chose by its columns (any slug, any column
  names), read page by page (1,000 rows a page, ordered by the id column so pages do not
  shift). An invoice is worth its total (its lines' sum), a credit note the magnitude of its
  lines' sum (`credited_amount` when the view has it). A view of both kinds is read once.
- Aggregates, as a cross-check of those documents: the metrics chosen as `invoiced` and
  `revenue` (invoiced minus credited), with `dimension=currency` at monthly grain (each
  currency on its own, unconverted), over the months the documents span. A metric not found
  is None in every month: not cross-checked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from destinations.fincome import FincomeClient
from destinations.fincome.reads import MAX_PAGE_SIZE
from pipelines.reconcile.discovery import (
    METRIC_NAMES,
    DocumentView,
    MetricRole,
    Role,
)
from pipelines.reconcile.documents import (
    VOID,
    DocumentKind,
    Documents,
    Held,
    month_of,
    to_amount,
)

MonthCurrency = tuple[str, str]


@dataclass(frozen=True)
class MetricTotals:
    """Fincome's own metrics for one month and currency; None: that metric was not read."""

    invoiced: Decimal | None = Decimal(0)
    revenue: Decimal | None = Decimal(0)


def read_view(
    client: FincomeClient, view: DocumentView, kinds: Collection[DocumentKind]
) -> Documents:
    """Every document of these kinds in the view, with its total as Fincome computes it."""
    documents: Documents = {}
    rows = client.views.query(view.slug, order_by=view.columns["id"], page_size=MAX_PAGE_SIZE)
    for row in rows:
        held = _held(view, row)
        if held is not None and held.kind in kinds:
            documents[held.id] = held
    return documents


def read_metrics(
    client: FincomeClient, first_month: str, last_month: str, metrics: Mapping[MetricRole, str]
) -> dict[MonthCurrency, MetricTotals]:
    """The chosen metrics per month and currency from `first_month` to `last_month`."""
    values: dict[MetricRole, dict[MonthCurrency, Decimal]] = {}
    for role, slug in metrics.items():
        result = client.metrics.get(
            slug,
            date_start=f"{first_month}-01",
            date_end=f"{last_month}-01",  # a date selects its whole month
            date_step="month",
            dimension="currency",
        )
        values[role] = dict(_points(result.get("series") or []))
    keys: set[MonthCurrency] = set().union(*values.values())
    return {key: MetricTotals(**_totals(values, key)) for key in keys}


def _totals(
    values: Mapping[MetricRole, Mapping[MonthCurrency, Decimal]], key: MonthCurrency
) -> dict[str, Decimal | None]:
    return {
        role: values[role].get(key, Decimal(0)) if role in values else None for role in METRIC_NAMES
    }


def _held(view: DocumentView, row: Mapping[str, Any]) -> Held | None:
    """A row as a document; None for a row of a kind reconcile does not compare."""
    kind = view.kind or _kind(row.get(view.columns["kind"]))
    if kind is None:
        return None
    status = str(_cell(view, row, "status") or "")
    amount = to_amount(row.get(view.columns["amount"]))
    return Held(
        kind=kind,
        id=str(row[view.columns["id"]]),
        customer_id=_cell(view, row, "customer"),
        currency=row.get(view.columns["currency"]) or None,
        month=month_of(row.get(view.columns["date"])),
        amount=amount if kind == "invoice" else abs(amount),
        status=status,
        counted=status != VOID,
    )


def _cell(view: DocumentView, row: Mapping[str, Any], role: Role) -> Any:
    column = view.columns.get(role)
    return row.get(column) if column else None


def _kind(value: object) -> DocumentKind | None:
    word = str(value or "").lower().replace("-", "_").replace(" ", "_")
    return "invoice" if word == "invoice" else "credit_note" if word == "credit_note" else None


def _points(series: list[dict[str, Any]]) -> Iterable[tuple[MonthCurrency, Decimal]]:
    for one in series:
        currency = (one.get("keys") or {}).get("currency")
        if not currency:
            continue
        for point in one.get("points") or []:
            value = to_amount(point.get("value"))
            if value:
                yield (str(point["period_start"])[:7], currency), value
