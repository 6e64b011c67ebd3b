"""Compare the three sources: each document, then the totals per month and currency.

A document (invoice or credit note id) differs when at least one source counts it and:

| kind | when |
|---|---|
| `unknown_to_metronome` | staging has no invoice with that id, but the ledger or Fincome counts one |
| `missing_in_ledger` | Metronome counts it, the ledger does not hold it |
| `missing_in_fincome` | Metronome counts it and the ledger holds it, Fincome does not |
| `status_differs` | one source counts it and another holds it without counting it (void in Metronome but not in Fincome, a draft, a not-mappable invoice Fincome holds), or all count it with different statuses (paid vs open) |
| `amount_differs` | all count it with different amounts or currencies |
| `month_differs` | all count it with the same amount, in different months |

The first matching row of the table names the difference. A document nobody counts (void
everywhere, a draft never sent) is no difference. A document without lines says no currency;
it matches any. A document whose Fincome copy was not read (`unchecked`: outside a sample, or
a kind Fincome could not be read for) is compared between Metronome and the ledger only.

Per month and currency, each source's counted documents add up to `invoiced` (invoices),
`credited` (credit notes) and `net` (invoiced - credited). A month agrees when the three
sources have the same invoiced and credited amounts and, where Fincome's metrics were read,
its `invoiced` and `revenue` metrics equal the Fincome documents' invoiced and net. When
Fincome's documents were not all read (`fincome_complete` false), its partial totals are not
compared, and its metrics are compared with Metronome's totals instead.
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pipelines.reconcile.documents import SOURCES, DocumentKind, Documents, Held, Source
from pipelines.reconcile.fincome import MetricTotals, MonthCurrency

DifferenceKind = Literal[
    "unknown_to_metronome",
    "missing_in_ledger",
    "missing_in_fincome",
    "status_differs",
    "amount_differs",
    "month_differs",
]


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    document: DocumentKind
    id: str
    customer_id: str | None
    month: str | None
    currency: str | None
    held: dict[Source, Held | None]  # by source; None where that source does not hold it
    fincome_checked: bool = True  # False: Fincome's copy was not read (None says nothing)


@dataclass
class Totals:
    """What one source counts in one month and currency."""

    invoiced: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    documents: int = 0

    @property
    def net(self) -> Decimal:
        return self.invoiced - self.credited

    def add(self, document: Held) -> None:
        if document.kind == "invoice":
            self.invoiced += document.amount
        else:
            self.credited += document.amount
        self.documents += 1

    def same_money(self, other: Totals) -> bool:
        return self.invoiced == other.invoiced and self.credited == other.credited


@dataclass
class MonthRow:
    month: str
    currency: str
    series: dict[Source, Totals] = field(default_factory=lambda: {s: Totals() for s in SOURCES})
    metrics: MetricTotals | None = None  # Fincome's metrics; None when they were not read
    fincome_compared: bool = True  # False: Fincome's documents were not all read

    @property
    def compared(self) -> tuple[Source, ...]:
        return SOURCES if self.fincome_compared else ("metronome", "ledger")

    @property
    def series_agree(self) -> bool:
        metronome = self.series["metronome"]
        return all(metronome.same_money(self.series[source]) for source in self.compared)

    @property
    def metrics_agree(self) -> bool:
        if self.metrics is None:
            return True
        documents = self.series["fincome" if self.fincome_compared else "metronome"]
        invoiced, revenue = self.metrics.invoiced, self.metrics.revenue
        return (invoiced is None or invoiced == documents.invoiced) and (
            revenue is None or revenue == documents.net
        )

    @property
    def agrees(self) -> bool:
        return self.series_agree and self.metrics_agree


def find_differences(
    sources: Mapping[Source, Documents], unchecked: frozenset[str] = frozenset()
) -> list[Difference]:
    """Every document that does not agree across the sources, by month, currency and id;
    `unchecked` documents are compared without Fincome."""
    ids = set().union(*(documents.keys() for documents in sources.values()))
    differences = []
    for document_id in ids:
        held = {source: sources[source].get(document_id) for source in SOURCES}
        checked = document_id not in unchecked
        kind = classify(held, fincome_checked=checked)
        if kind is not None:
            differences.append(_difference(kind, document_id, held, checked))
    return sorted(
        differences,
        key=lambda d: (d.month or "9999", d.currency or "", d.customer_id or "", d.id),
    )


def classify(
    held: Mapping[Source, Held | None], *, fincome_checked: bool = True
) -> DifferenceKind | None:
    metronome, ledger, fincome = (held[source] for source in SOURCES)
    if not fincome_checked:
        if metronome is None and ledger is None:
            return None  # only a stray read of Fincome holds it: nothing to compare
        fincome = metronome if metronome is not None else ledger  # stands for itself
    present = [document for document in (metronome, ledger, fincome) if document is not None]
    if not any(document.counted for document in present):
        return None
    if metronome is None:
        return "unknown_to_metronome"
    if metronome.counted and ledger is None:
        return "missing_in_ledger"
    if metronome.counted and fincome is None:
        return "missing_in_fincome"
    if not all(document.counted for document in present):
        return "status_differs"
    if not _same_money(present):
        return "amount_differs"
    if len({document.month for document in present}) > 1:
        return "month_differs"
    if len({document.status for document in present}) > 1:
        return "status_differs"
    return None


def month_rows(
    sources: Mapping[Source, Documents],
    metrics: Mapping[MonthCurrency, MetricTotals] | None,
    *,
    fincome_complete: bool = True,
    metric_roles: Collection[str] = ("invoiced", "revenue"),
) -> list[MonthRow]:
    """Each source's counted documents added up per month and currency, with the metrics
    (`metric_roles`: those read, zero in a month they have no value for)."""
    rows: dict[MonthCurrency, MonthRow] = {}
    nothing = MetricTotals(
        **{role: Decimal(0) if role in metric_roles else None for role in ("invoiced", "revenue")}
    )

    def month(key: MonthCurrency) -> MonthRow:
        return rows.setdefault(key, MonthRow(*key, fincome_compared=fincome_complete))

    for source in SOURCES:
        for document in sources[source].values():
            # a document without lines or date adds nothing anywhere
            if document.counted and document.currency and document.month:
                month((document.month, document.currency)).series[source].add(document)
    if metrics is not None:
        for key in metrics:
            month(key)
        for key, row in rows.items():
            row.metrics = metrics.get(key, nothing)
    return [rows[key] for key in sorted(rows)]


def _same_money(present: list[Held]) -> bool:
    currencies = {document.currency for document in present if document.currency}
    return len(currencies) <= 1 and len({(d.kind, d.amount) for d in present}) == 1


def _difference(
    kind: DifferenceKind, document_id: str, held: dict[Source, Held | None], checked: bool
) -> Difference:
    present = [document for document in held.values() if document is not None]
    # what a source counts says more about the document than a void or draft copy
    reference = next((document for document in present if document.counted), present[0])
    return Difference(
        kind=kind,
        document=reference.kind,
        id=document_id,
        customer_id=next((d.customer_id for d in present if d.customer_id), None),
        month=reference.month or next((d.month for d in present if d.month), None),
        currency=reference.currency or next((d.currency for d in present if d.currency), None),
        held=held,
        fincome_checked=checked,
    )
