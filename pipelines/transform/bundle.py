"""Read a staged customer bundle: its customer plans, contract subscriptions and invoices.

Malformed or duplicated records become rejects here, before any mapping; drafts are never
rejected (they are not sent, and are checked once they are final).

Invoices that are not revenue are skipped here, each counted with its reason (a `Skipped`,
shown by `billing-sync status`; not a reject: nothing is wrong with them):
- `billable_status: unbillable`: Metronome does not send it to the customer's billing
  provider, so it is not revenue; `[mapping] keep_unbillable_invoices = true` keeps them. A
  customer's `current_billable_status` is not read for this: it is the customer's status
  from its `effective_at` on, while each invoice carries its own, the fact at its issue;
- `USAGE_CONSOLIDATED` (`[mapping] consolidated_invoices = "skip"`, the default): every line
  is a copy (`origin`) of a line of a constituent invoice, synced with its own customer and
  rolled up to the payer through `root_parent_id`; counting both would count the money
  twice. A consolidated line without `origin` is money no constituent holds: the invoice is
  then a reject. With `keep`, the consolidated invoice is synced too (for accounts that
  sync the payer alone) and each line keeps its `origin` ids.
Drafts are neither skipped nor counted: they are never sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from destinations.fincome.rows import CustomerRow, FincomeRow
from pipelines.transform.catalog import CatalogUsage
from pipelines.transform.contract_subscriptions import (
    ContractSubscription,
    contract_subscriptions,
    read_contract_subscription,
)
from pipelines.transform.header import CONSOLIDATED, InvoiceHeader, read_header
from pipelines.transform.inputs import CustomerBundleLike, Record
from pipelines.transform.options import MappingOptions
from pipelines.transform.rejects import TransformReject
from pipelines.transform.subscriptions import PlanTerm, SubscriptionFacts, read_plan_term
from pipelines.transform.values import MappingError, identifier, record, records, text

UNBILLABLE = "billable_status unbillable: not revenue"
CONSOLIDATED_SKIP = "USAGE_CONSOLIDATED: its money is on its constituent invoices"


@dataclass(frozen=True)
class Skipped:
    """A record left out on purpose because it is not revenue (not a reject)."""

    collection: str
    record_id: str
    reason: str


@dataclass
class CustomerRows:
    """Everything one customer maps to."""

    customer: CustomerRow | None = None
    rows: dict[str, list[FincomeRow]] = field(default_factory=dict)  # by collection
    rejects: list[TransformReject] = field(default_factory=list)
    usage: CatalogUsage = field(default_factory=CatalogUsage)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, collection: str, *rows: FincomeRow) -> None:
        self.rows.setdefault(collection, []).extend(rows)

    def reject(self, collection: str, record_id: str, reason: str, payload: Any) -> None:
        self.rejects.append(TransformReject(collection, record_id, reason, payload=payload))


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
        try:
            reason = _not_revenue(header, invoice, options)
        except MappingError as error:
            if header.status != "DRAFT":
                out.reject("invoices", record_id, str(error), raw)
            continue
        if reason is not None:
            if header.status != "DRAFT":
                out.skipped.append(Skipped("invoices", header.id, reason))
            continue
        invoices.headers.append((header, invoice))
    invoices.headers.sort(key=lambda pair: pair[0].id)
    return invoices


def skip_reason(header: InvoiceHeader, options: MappingOptions) -> str | None:
    """Why an invoice is left out as not revenue, from its header alone; None when synced.

    The reconcile asks the same question of the same header, so both sides skip alike.
    """
    if not header.billable and not options.keep_unbillable_invoices:
        return UNBILLABLE
    if header.type == CONSOLIDATED and options.consolidated_invoices == "skip":
        return CONSOLIDATED_SKIP
    return None


def _not_revenue(header: InvoiceHeader, invoice: Record, options: MappingOptions) -> str | None:
    """Why the invoice is skipped, None when it is synced; `MappingError` if it cannot be."""
    reason = skip_reason(header, options)
    if reason != CONSOLIDATED_SKIP:
        return reason
    for i, item in enumerate(records(invoice.get("line_items"), "line_items")):
        if not item.get("origin"):
            raise MappingError(
                f"USAGE_CONSOLIDATED line_items[{i}] has no origin: no constituent invoice "
                "holds its money, so skipping the invoice would drop it"
            )
    return CONSOLIDATED_SKIP


def read_contract_subscriptions(
    bundle: CustomerBundleLike, out: CustomerRows
) -> list[ContractSubscription]:
    """The subscriptions of the customer's staged contracts, by id."""
    found: dict[str, ContractSubscription] = {}
    for n, raw in enumerate(_items(bundle.contracts)):
        contract_id = raw_id(raw, f"contracts[{n}]")
        try:
            contract = record(raw, "contract")
            subscriptions = contract_subscriptions(contract)
        except MappingError as error:
            out.reject("contracts", contract_id, str(error), raw)
            continue
        for k, subscription in enumerate(subscriptions):
            try:
                read = read_contract_subscription(subscription, contract_id)
            except MappingError as error:
                where = f"{contract_id}:subscriptions[{k}]"
                out.reject("contract_subscriptions", where, str(error), subscription)
                continue
            if read.id in found:
                out.reject("contract_subscriptions", read.id, "duplicate subscription id", raw)
                continue
            found[read.id] = read
    return [found[key] for key in sorted(found)]


def _items(value: object) -> Iterator[object]:
    if isinstance(value, list | tuple):
        yield from value


def raw_id(raw: object, fallback: str) -> str:
    """The record's id for its reject; `fallback` (its position) when the id is blank."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value.strip() else fallback


def _is_draft(raw: object) -> bool:
    return isinstance(raw, dict) and (text(raw.get("status")) or "").upper() == "DRAFT"
