"""Which of a Fincome company's views and metrics reconcile reads, chosen by what they describe.

Views and metrics are per company (reference §6): their slugs are never assumed. A view is
chosen by its described columns (`GET /views/{slug}`), not by its slug, as a view of
documents when it has, under any of the names below (first match wins, types checked):

| role | column names | type |
|---|---|---|
| `id` | id, document_id | string |
| `amount` | total_amount, amount_incl_lines, amount, total (a credit note's: credited_amount first) | number |
| `currency` | currency_code, currency | string |
| `date` | the view's `time.as_of_column`, else date, issued_on, issue_date | date-time or date |
| `status` | status, state (optional) | string |
| `customer` | customer_id, client_id (optional) | string |
| `kind` | kind, document_kind, document_type (optional: its rows say invoice or credit note) | string |

Without `kind`, a view with `credited_amount` holds credit notes; one that names a parent
(`invoice_id`, `credit_note_id`) without it holds lines, not documents; otherwise invoices.
Of the views that fit, the one that names the most roles wins, then the first listed.

A metric is used as the cross-check it means when its slug or label names it (`invoiced`:
invoiced, billings, billed; `revenue`, invoiced minus credited: revenue, net billings, net
invoiced), it counts money over a period (`unit` currency, `kind` period) and can be broken
down by currency. Nothing else about a metric's meaning is described, so nothing else is
guessed.
"""  # noqa: E501

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from destinations.fincome import FincomeClient, NotFound, RequestRejected
from pipelines.reconcile.documents import DocumentKind

Role = Literal["id", "amount", "currency", "date", "status", "customer", "kind"]
MetricRole = Literal["invoiced", "revenue"]
NAMES: dict[Role, tuple[str, ...]] = {
    "id": ("id", "document_id"),
    "amount": ("total_amount", "amount_incl_lines", "amount", "total"),
    "currency": ("currency_code", "currency"),
    "date": ("date", "issued_on", "issue_date"),
    "status": ("status", "state"),
    "customer": ("customer_id", "client_id"),
    "kind": ("kind", "document_kind", "document_type"),
}
TYPES: dict[Role, frozenset[str]] = {
    "amount": frozenset({"number", "numeric", "decimal", "integer"}),
    "date": frozenset({"datetime", "date", "timestamp", "string"}),
}
REQUIRED: tuple[Role, ...] = ("id", "amount", "currency", "date")
CREDITED = "credited_amount"
PARENTS = ("invoice_id", "credit_note_id")
METRIC_NAMES: dict[MetricRole, frozenset[str]] = {
    "invoiced": frozenset({"invoiced", "billings", "billed"}),
    "revenue": frozenset({"revenue", "net_billings", "net_invoiced"}),
}
KINDS: tuple[DocumentKind, ...] = ("invoice", "credit_note")


@dataclass(frozen=True)
class DocumentView:
    """A view reconcile reads documents from: its slug, which column plays each role, and the
    kind of documents it holds (None: each row's `kind` column says)."""

    slug: str
    columns: Mapping[Role, str]
    kind: DocumentKind | None

    def holds(self, kind: DocumentKind) -> bool:
        return self.kind in (None, kind)

    def describe(self) -> str:
        named = ", ".join(f"{role}={column}" for role, column in self.columns.items())
        return f"view `{self.slug}` ({named})"


@dataclass(frozen=True)
class Choice:
    """What reconcile reads from Fincome: a view per kind of document (None: read by id) and
    the metrics that cross-check them; with what was on offer."""

    views: Mapping[DocumentKind, DocumentView | None]
    metrics: Mapping[MetricRole, str]
    views_offered: tuple[str, ...] = ()
    metrics_offered: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # discovery reads that failed, in words

    def describe(self) -> list[str]:
        """One line per choice: what reconcile uses, or what it falls back to and why."""
        offered = ", ".join(self.views_offered) or "none"
        lines = []
        for kind in KINDS:
            view = self.views[kind]
            label = "invoices" if kind == "invoice" else "credit notes"
            lines.append(
                f"{label}: {view.describe()}"
                if view is not None
                else f"{label}: no view fits (views offered: {offered}); read one by one by id"
            )
        for role in METRIC_NAMES:
            slug = self.metrics.get(role)
            listed = ", ".join(self.metrics_offered) or "none"
            lines.append(
                f"{role} metric: `{slug}`"
                if slug
                else f"{role} metric: none known (metrics offered: {listed}); not cross-checked"
            )
        return lines + list(self.problems)


def choose_sources(
    views: Sequence[Mapping[str, Any]],
    described: Mapping[str, Mapping[str, Any]],
    metrics: Sequence[Mapping[str, Any]],
) -> Choice:
    """The choice from `GET /views`, `GET /views/{slug}` (by slug) and `GET /metrics`."""
    fitting = [
        fit
        for view in views
        if (fit := document_view(described.get(str(view.get("slug"))) or view)) is not None
    ]
    chosen: dict[DocumentKind, DocumentView | None] = {
        kind: max((v for v in fitting if v.holds(kind)), key=lambda v: len(v.columns), default=None)
        for kind in KINDS
    }
    listed = list(_metrics_of(metrics))
    return Choice(
        views=chosen,
        metrics={role: slug for role in METRIC_NAMES if (slug := metric_for(role, listed))},
        views_offered=tuple(str(view.get("slug")) for view in views),
        metrics_offered=tuple(str(metric.get("slug")) for metric in listed),
    )


def document_view(description: Mapping[str, Any]) -> DocumentView | None:
    """The view as a view of documents, or None when its columns do not describe one."""
    types = {
        str(column.get("name")): str(column.get("type") or "").lower()
        for column in description.get("columns") or []
    }
    columns: dict[Role, str] = {}
    as_of = (description.get("time") or {}).get("as_of_column")
    for role, names in NAMES.items():
        preferred = (CREDITED, *names) if role == "amount" else names
        candidates = (as_of, *names) if role == "date" and as_of else preferred
        found = next((n for n in candidates if n in types and _typed(role, types[n])), None)
        if found is not None:
            columns[role] = found
    if any(role not in columns for role in REQUIRED):
        return None
    kind = _kind(columns, types)
    if kind == "lines":
        return None
    if kind == "invoice" and columns["amount"] == CREDITED:
        return None  # a magnitude is no invoice total
    return DocumentView(str(description.get("slug")), columns, kind)


def metric_for(role: MetricRole, metrics: Iterable[Mapping[str, Any]]) -> str | None:
    """The slug of the first metric meaning `role`, in money over periods, by currency."""
    for metric in metrics:
        names = {_word(metric.get("slug")), _word(metric.get("label"))}
        dimensions = {_word(d.get("id")) for d in metric.get("dimensions") or []}
        by_currency = "currency" in dimensions or metric.get("natural_dimension") == "currency"
        if (
            names & METRIC_NAMES[role]
            and metric.get("unit") == "currency"
            and metric.get("kind") == "period"
            and by_currency
        ):
            return str(metric["slug"])
    return None


def discover(client: FincomeClient) -> Choice:
    """Ask Fincome which views and metrics it has (one read per view), then choose."""
    problems = []
    views: list[dict[str, Any]] = []
    described: dict[str, dict[str, Any]] = {}
    metrics: list[dict[str, Any]] = []
    try:
        views = [v for v in client.views.list() if isinstance(v, dict)]
    except NotFound:
        problems.append(f"GET {client.paths.root('views')} is not served: no views")
    for listed in views:
        slug = str(listed.get("slug"))
        try:
            described[slug] = client.views.describe(slug)
        except RequestRejected as exc:  # one view that will not describe itself is left out
            problems.append(f"view `{slug}` could not be described ({exc})")
    try:
        metrics = [family for family in client.metrics.list() if isinstance(family, dict)]
    except NotFound:
        problems.append(f"GET {client.paths.root('metrics')} is not served: no metrics")
    choice = choose_sources(views, described, metrics)
    return Choice(
        choice.views,
        choice.metrics,
        choice.views_offered,
        choice.metrics_offered,
        tuple(problems),
    )


def _typed(role: Role, column_type: str) -> bool:
    return column_type in TYPES.get(role, frozenset({"string"})) or not column_type


def _kind(
    columns: Mapping[Role, str], types: Mapping[str, str]
) -> DocumentKind | Literal["lines"] | None:
    if "kind" in columns:
        return None
    if columns["amount"] == CREDITED:
        return "credit_note"
    return "lines" if any(parent in types for parent in PARENTS) else "invoice"


def _metrics_of(families: Sequence[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Metrics listed in families (the seed's shape), or listed flat."""
    for entry in families:
        if "metrics" in entry:
            yield from entry.get("metrics") or []
        else:
            yield entry


def _word(value: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value or "").lower()).strip("_")
