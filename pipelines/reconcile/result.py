"""A reconciliation's outcome, and its JSON form (documented in `pipelines.commands.reconcile`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.reconcile.compare import Difference, MonthRow, Totals
from pipelines.reconcile.documents import SOURCES, Held, Source, money_text
from pipelines.reconcile.metronome import NotMappable
from pipelines.reconcile.wording import explain


@dataclass
class Reconciliation:
    months: list[MonthRow]
    differences: list[Difference]
    not_mappable: list[NotMappable]
    documents: dict[Source, int]  # documents each source counts
    metrics_checked: bool  # whether Fincome's metrics were read (there were months to read)
    requests: dict[str, Any] = field(default_factory=dict)  # Fincome read requests
    duration_seconds: float = 0.0

    @property
    def agrees(self) -> bool:
        return not self.differences and all(row.agrees for row in self.months)

    @property
    def months_differing(self) -> list[MonthRow]:
        return [row for row in self.months if not row.agrees]

    def by_currency(self) -> dict[str, dict[Source, Totals]]:
        """Every month added up, per currency and source."""
        totals: dict[str, dict[Source, Totals]] = {}
        for row in self.months:
            per_source = totals.setdefault(row.currency, {s: Totals() for s in SOURCES})
            for source in SOURCES:
                into, month = per_source[source], row.series[source]
                into.invoiced += month.invoiced
                into.credited += month.credited
                into.documents += month.documents
        return dict(sorted(totals.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "months": [_month_json(row) for row in self.months],
            "differences": [_difference_json(d) for d in self.differences],
            "not_mappable": [asdict(item) for item in self.not_mappable],
            "totals": {
                "by_currency": {
                    currency: {s: _totals_json(t, currency) for s, t in per_source.items()}
                    for currency, per_source in self.by_currency().items()
                },
                "documents": dict(self.documents),
                "months": len(self.months),
                "months_differing": len(self.months_differing),
                "differences": len(self.differences),
                "differences_by_kind": dict(
                    sorted(Counter(d.kind for d in self.differences).items())
                ),
                "not_mappable": len(self.not_mappable),
            },
            "metrics_checked": self.metrics_checked,
            "fincome_requests": self.requests,
            "duration_seconds": round(self.duration_seconds, 3),
        }


def _totals_json(totals: Totals, currency: str) -> dict[str, Any]:
    return {
        "invoiced": money_text(totals.invoiced, currency),
        "credited": money_text(totals.credited, currency),
        "net": money_text(totals.net, currency),
        "documents": totals.documents,
    }


def _month_json(row: MonthRow) -> dict[str, Any]:
    metrics = row.metrics
    return {
        "month": row.month,
        "currency": row.currency,
        **{source: _totals_json(row.series[source], row.currency) for source in SOURCES},
        "fincome_metrics": None
        if metrics is None
        else {
            "invoiced": money_text(metrics.invoiced, row.currency),
            "revenue": money_text(metrics.revenue, row.currency),
        },
        "agrees": row.agrees,
    }


def _held_json(held: Held | None) -> dict[str, Any] | None:
    if held is None:
        return None
    return {
        "amount": money_text(held.amount, held.currency),
        "currency": held.currency,
        "status": held.status,
        "month": held.month,
        "counted": held.counted,
    }


def _difference_json(difference: Difference) -> dict[str, Any]:
    return {
        "invoice_id": difference.id,
        "document": difference.document,
        "customer_id": difference.customer_id,
        "month": difference.month,
        "currency": difference.currency,
        "kind": difference.kind,
        **{source: _held_json(difference.held[source]) for source in SOURCES},
        "explanation": explain(difference),
    }
