"""A reconciliation's outcome, and its JSON form (documented in `pipelines.commands.reconcile`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from pipelines.reconcile.compare import Difference, MonthRow, Totals
from pipelines.reconcile.coverage import KIND_LABELS, KindRead
from pipelines.reconcile.discovery import METRIC_NAMES, Choice
from pipelines.reconcile.documents import SOURCES, DocumentKind, Held, Source, money_text
from pipelines.reconcile.guidance import next_step, next_steps
from pipelines.reconcile.metronome import NotMappable
from pipelines.reconcile.wording import (
    explain,
    headline,
    not_checked,
)


@dataclass
class Reconciliation:
    months: list[MonthRow]
    differences: list[Difference]
    not_mappable: list[NotMappable]
    documents: dict[Source, int]  # documents each source counts
    metrics_checked: bool  # whether Fincome's metrics were read (there were months to read)
    choice: Choice | None = None  # the views and metrics discovered and chosen
    reads: dict[DocumentKind, KindRead] = field(default_factory=dict)  # how each kind was read
    read_paths: dict[DocumentKind, str] = field(default_factory=dict)  # each kind's path
    problems: list[str] = field(default_factory=list)  # Fincome reads that failed, in words
    customer_names: dict[str, str] = field(default_factory=dict)  # staged names, by id
    requests: dict[str, Any] = field(default_factory=dict)  # Fincome read requests
    duration_seconds: float = 0.0

    @property
    def agrees(self) -> bool:
        return not self.differences and all(row.agrees for row in self.months)

    @property
    def reads_complete(self) -> bool:
        """Every Fincome document was read (a view, or all by id)."""
        return all(read.complete for read in self.reads.values())

    @property
    def complete(self) -> bool:
        """Everything was compared: no invoice left out, every Fincome document read (a
        failed discovery read that a read by id made up for is said, not counted here)."""
        return not self.not_mappable and self.reads_complete

    @property
    def verdict(self) -> str:
        """`differs`, `incomplete` (what was compared agrees, not everything was) or `agrees`."""
        return "differs" if not self.agrees else "agrees" if self.complete else "incomplete"

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
        names = self.customer_names
        return {
            "verdict": self.verdict,
            "headline": headline(self),
            "next_steps": next_steps(self),
            "not_checked": not_checked(self),
            "fincome_read": self._read_json(),
            "months": [_month_json(row) for row in self.months],
            "differences": [_difference_json(d, names) for d in self.differences],
            "not_mappable": [
                {**asdict(item), "customer_name": names.get(item.customer_id or "")}
                for item in self.not_mappable
            ],
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

    def _read_json(self) -> dict[str, Any]:
        choice = self.choice
        kinds = {
            KIND_LABELS[kind].replace(" ", "_"): read.to_json(self.read_paths.get(kind, ""))
            for kind, read in self.reads.items()
        }
        return {
            **kinds,
            "metrics": {
                role: (choice.metrics.get(role) if choice else None) for role in METRIC_NAMES
            },
            "views_offered": list(choice.views_offered) if choice else [],
            "metrics_offered": list(choice.metrics_offered) if choice else [],
            "problems": list(self.problems),
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
        **{
            source: _totals_json(row.series[source], row.currency)
            if source in row.compared
            else None  # Fincome's documents were not all read: partial totals would mislead
            for source in SOURCES
        },
        "fincome_metrics": None
        if metrics is None
        else {
            "invoiced": _metric_text(metrics.invoiced, row.currency),
            "revenue": _metric_text(metrics.revenue, row.currency),
        },
        "agrees": row.agrees,
    }


def _metric_text(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else money_text(value, currency)


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


def _difference_json(difference: Difference, names: dict[str, str]) -> dict[str, Any]:
    return {
        "invoice_id": difference.id,
        "document": difference.document,
        "customer_id": difference.customer_id,
        "customer_name": names.get(difference.customer_id or ""),
        "month": difference.month,
        "currency": difference.currency,
        "kind": difference.kind,
        **{source: _held_json(difference.held[source]) for source in SOURCES},
        "fincome_checked": difference.fincome_checked,
        "explanation": explain(difference),
        "next_step": next_step(difference),
    }
