"""Read a staged customer bundle: its customer plans and its invoices' headers.

Malformed or duplicated records become rejects here, before any mapping; drafts are never
rejected (they are not sent, and are checked once they are final).
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from destinations.fincome.ledger import Reject
from pipelines.transform.catalog import CatalogUsage
from pipelines.transform.header import CONSOLIDATED, InvoiceHeader, read_header
from pipelines.transform.inputs import CustomerBundleLike, Record
from pipelines.transform.options import MappingOptions
from pipelines.transform.subscriptions import PlanTerm, SubscriptionFacts, read_plan_term
from pipelines.transform.values import MappingError, Row, identifier, record, text


@dataclass
class CustomerRows:
    """Everything one customer maps to."""

    customer: Row | None = None
    rows: dict[str, list[Row]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    usage: CatalogUsage = field(default_factory=CatalogUsage)

    def add(self, collection: str, *rows: Row) -> None:
        self.rows.setdefault(collection, []).extend(rows)

    def reject(self, collection: str, record_id: str, reason: str, payload: Any) -> None:
        self.rejects.append(Reject("transform", collection, record_id, reason, payload=payload))


@dataclass
class CustomerInvoices:
    """The customer's invoices as read, and what mapping them established so far."""

    headers: list[tuple[InvoiceHeader, Record]] = field(default_factory=list)
    subscription_of: dict[str, str | None] = field(default_factory=dict)
    facts: dict[str, SubscriptionFacts] = field(default_factory=dict)
    synced: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> charge -> line id
    payer: tuple[datetime, str, str] | None = None  # date, invoice id, payer id


def read_plan_terms(
    bundle: CustomerBundleLike, customer_id: str, out: CustomerRows
) -> list[PlanTerm]:
    terms: dict[str, PlanTerm] = {}
    for n, raw in enumerate(_items(bundle.plans)):
        record_id = raw_id(raw, f"{customer_id}:customer_plans[{n}]")
        try:
            term = read_plan_term(record(raw, "customer plan"))
        except MappingError as error:
            out.reject("customer_plans", record_id, str(error), raw)
            continue
        if term.id in terms:
            out.reject("customer_plans", record_id, "duplicate customer plan id", raw)
            continue
        terms[term.id] = term
    return [terms[term_id] for term_id in sorted(terms)]


def read_invoices(
    bundle: CustomerBundleLike,
    customer_id: str,
    options: MappingOptions,
    taken: Set[str],
    out: CustomerRows,
) -> CustomerInvoices:
    invoices = CustomerInvoices()
    seen: set[str] = set()
    for n, raw in enumerate(_items(bundle.invoices)):
        record_id = raw_id(raw, f"{customer_id}:invoices[{n}]")
        try:
            invoice = record(raw, "invoice")
            header = read_header(invoice, identifier(invoice.get("id"), "invoice id"))
        except MappingError as error:
            if not _is_draft(raw):  # a draft is not sent: it is checked once it is final
                out.reject("invoices", record_id, str(error), raw)
            continue
        if header.id in seen or header.id in taken:
            out.reject("invoices", record_id, "duplicate invoice id", raw)
            continue
        seen.add(header.id)
        if header.type == CONSOLIDATED and options.consolidated_invoices == "skip":
            continue  # its amounts are on the constituent invoices of the child customers
        invoices.headers.append((header, invoice))
    invoices.headers.sort(key=lambda pair: pair[0].id)
    return invoices


def _items(value: object) -> Iterator[object]:
    if isinstance(value, list | tuple):
        yield from value


def raw_id(raw: object, fallback: str) -> str:
    """The record's id for its reject; `fallback` (its position) when the id is blank."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value.strip() else fallback


def _is_draft(raw: object) -> bool:
    return isinstance(raw, dict) and (text(raw.get("status")) or "").upper() == "DRAFT"
