"""Map one staged customer (its customer plans and invoices) to its Fincome rows.

Order of work, because later steps need earlier ones: the customer (one that cannot be read
takes its plans and invoices with it); its customer plans and every invoice's header
(drafts too: they tell which subscriptions still run); invoices attached to subscriptions;
ordinary invoices mapped, then corrections (a credit note needs the invoice it corrects);
then prorated lines are pointed at the lines they prorate and the subscriptions summarise
their lines (customer plans, contract subscriptions, contracts); last the customer's parent,
the payer of its newest synced invoice. A record the mapping cannot represent becomes a
`TransformReject` and the rest goes on; an invoice that is not revenue is a `Skipped` (bundle.py).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime

from destinations.fincome.rows import InvoiceLineItemRow, SubscriptionRow
from pipelines.transform.bundle import (
    CustomerInvoices,
    CustomerRows,
    raw_id,
    read_contract_subscriptions,
    read_invoices,
    read_plan_terms,
)
from pipelines.transform.catalog import CatalogUsage, CatalogView, ChargeUse, Recency
from pipelines.transform.contract_subscriptions import (
    ContractSubscription,
    SubscriptionLine,
    line_only_row,
    recurring_by_subscription,
    set_proration_targets,
    subscription_row,
)
from pipelines.transform.credit_notes import credit_note_line_rows, credit_note_row, is_credit_note
from pipelines.transform.customers import customer_row, with_payer
from pipelines.transform.header import InvoiceHeader
from pipelines.transform.inputs import CustomerBundleLike, Record
from pipelines.transform.invoice_line_items import LineContext, line_item_row
from pipelines.transform.invoices import PricedInvoice, invoice_row, price_invoice
from pipelines.transform.options import MappingOptions
from pipelines.transform.subscriptions import (
    PlanTerm,
    Source,
    SubscriptionFacts,
    invoice_only_row,
    recurring_of,
    subscription_id,
    term_row,
)
from pipelines.transform.values import MappingError, clean_text, identifier, record

INTERNAL_ERROR = "internal mapping error (please report)"
PUSHED_STATUSES = ("FINALIZED", "VOID")


def internal_error(error: Exception) -> str:
    """The reject reason for a failure the mapping did not foresee (a bug to fix)."""
    try:
        message = clean_text(str(error))
    except ValueError:  # a message holding an int too large to print
        message = ""
    return f"{INTERNAL_ERROR}: {type(error).__name__}: {message}"


def map_customer(
    bundle: CustomerBundleLike,
    view: CatalogView,
    options: MappingOptions,
    as_of: datetime,
    taken_invoice_ids: Set[str] = frozenset(),
) -> CustomerRows:
    """The Fincome rows of one customer; ids in `taken_invoice_ids` are rejected as duplicates."""
    try:
        return _map_customer(bundle, view, options, as_of, taken_invoice_ids)
    except Exception as error:  # one bad customer must not stop the sync
        out = CustomerRows()
        reason = internal_error(error)
        out.reject("customers", raw_id(bundle.customer, "<customer>"), reason, bundle.customer)
        return out


def _map_customer(
    bundle: CustomerBundleLike,
    view: CatalogView,
    options: MappingOptions,
    as_of: datetime,
    taken_invoice_ids: Set[str],
) -> CustomerRows:
    out = CustomerRows()
    try:
        customer = record(bundle.customer, "customer")
        customer_id = identifier(customer.get("id"), "customer id")
        row = customer_row(customer, customer_id, options)
    except MappingError as error:
        out.reject(
            "customers",
            raw_id(bundle.customer, "<customer without id>"),
            f"{error}; its plans and invoices are not synced",
            bundle.customer,
        )
        return out
    job = _Job(customer_id, read_plan_terms(bundle, customer_id, out), view, options, out)
    job.contract_subscriptions = read_contract_subscriptions(bundle, out)
    job.invoices = read_invoices(bundle, customer_id, options, taken_invoice_ids, out)
    _attach_subscriptions(job.invoices, job.terms, customer_id, out)
    for corrections in (False, True):  # a credit note needs the invoice it corrects
        for header, raw in job.invoices.headers:
            if header.status in PUSHED_STATUSES and header.is_correction == corrections:
                job.map_invoice_guarded(header, raw)
    out.add("subscriptions", *job.subscription_rows(as_of))
    out.customer = with_payer(row, job.invoices.payer[2] if job.invoices.payer else None)
    return out


@dataclass
class _Job:
    """One customer's mapping in progress."""

    customer_id: str
    terms: list[PlanTerm]
    view: CatalogView
    options: MappingOptions
    out: CustomerRows
    invoices: CustomerInvoices = field(default_factory=CustomerInvoices)
    contract_subscriptions: list[ContractSubscription] = field(default_factory=list)
    subscription_lines: list[SubscriptionLine] = field(default_factory=list)
    linked: set[str] = field(default_factory=set)  # the plan/contract subscriptions lines use

    def map_invoice_guarded(self, header: InvoiceHeader, raw: Record) -> None:
        """Map one invoice; whatever goes wrong becomes a reject of that invoice only."""
        try:
            self.map_invoice(header, raw)
        except MappingError as error:
            self.out.reject("invoices", header.id, str(error), raw)
        except Exception as error:  # one bad record must not stop the sync
            reason = internal_error(error)
            self.out.reject("invoices", header.id, reason, raw)

    def map_invoice(self, header: InvoiceHeader, raw: Record) -> None:
        priced = price_invoice(raw, header, self.view, self.options)
        if is_credit_note(priced) and header.status == "VOID":
            return  # a voided correction no longer refunds anything
        subscription = self.invoices.subscription_of.get(header.id)
        context = LineContext(
            header, priced.currency, subscription, self.view.charges, self.options
        )
        if is_credit_note(priced):
            self._add_credit_note(priced, context)
        else:
            self._add_invoice(priced, context)
        _record_usage(priced, self.out.usage)
        _note_payer(header, self.invoices)

    def _add_credit_note(self, priced: PricedInvoice, context: LineContext) -> None:
        synced = self.invoices.synced
        note = credit_note_row(priced, synced)
        corrected = synced.get(priced.header.corrected_invoice_id or "", {})
        lines = credit_note_line_rows(priced, context, corrected, self.options)
        self.out.add("credit_notes", note)
        self.out.add("credit_note_line_items", *lines)

    def _add_invoice(self, priced: PricedInvoice, context: LineContext) -> None:
        header, subscription = priced.header, context.subscription_id
        first_start = _first_period_start(subscription, self.terms, self.invoices)
        row = invoice_row(priced, self.customer_id, first_start)
        lines = [
            line_item_row(draft, amount, context)
            for draft, amount in zip(priced.drafts, priced.amounts, strict=True)
        ]
        self.out.add("invoices", row)
        self.out.add("invoice_line_items", *lines)
        self.invoices.synced[header.id] = _lines_by_charge(priced)
        self._note_links(priced, row["date"], lines)
        if subscription is not None:
            recurring = recurring_of(header, priced.currency, lines, subscription)
            if recurring is not None:
                self.invoices.facts[subscription].offer_recurring(recurring)

    def _note_links(
        self, priced: PricedInvoice, date: datetime, lines: list[InvoiceLineItemRow]
    ) -> None:
        """Which subscriptions the invoice's lines belong to (contract lines each decide)."""
        header = priced.header
        for draft, line in zip(priced.drafts, lines, strict=True):
            rule = draft.contract
            if rule is None or rule.subscription_ref is None or draft.period is None:
                if line["subscription_id"] is not None:
                    self.linked.add(line["subscription_id"])
                continue
            self.subscription_lines.append(
                SubscriptionLine(
                    subscription=rule.subscription_ref,
                    row=line,
                    period=draft.period,
                    prorated=rule.prorated,
                    finalized=header.status == "FINALIZED",
                    counted=header.status != "VOID",
                    order=(date, header.id),
                    currency=priced.currency,
                )
            )

    def subscription_rows(self, as_of: datetime) -> list[SubscriptionRow]:
        """Every customer plan and contract subscription, and those only lines tell of."""
        facts, plans = self.invoices.facts, self.view.plans
        rows = [
            term_row(term, self.customer_id, facts.get(term.id), plans.get(term.plan_id, {}), as_of)
            for term in self.terms
        ]
        term_ids = {term.id for term in self.terms}
        rows.extend(
            invoice_only_row(subscription, self.customer_id, facts[subscription], as_of)
            for subscription in sorted(self.linked - term_ids)
        )
        rows.extend(self._contract_subscription_rows(as_of))
        return sorted(rows, key=lambda row: row["id"])

    def _contract_subscription_rows(self, as_of: datetime) -> list[SubscriptionRow]:
        set_proration_targets(self.subscription_lines)
        recurring = recurring_by_subscription(self.subscription_lines)
        rows = [
            subscription_row(staged, self.customer_id, recurring.get(staged.id), as_of)
            for staged in self.contract_subscriptions
        ]
        staged_ids = {staged.id for staged in self.contract_subscriptions}
        by_subscription: dict[str, list[SubscriptionLine]] = {}
        for line in self.subscription_lines:
            if line.subscription not in staged_ids:
                by_subscription.setdefault(line.subscription, []).append(line)
        rows.extend(
            line_only_row(ref, self.customer_id, lines, recurring.get(ref), as_of)
            for ref, lines in sorted(by_subscription.items())
        )
        return rows


def _attach_subscriptions(
    invoices: CustomerInvoices, terms: list[PlanTerm], customer_id: str, out: CustomerRows
) -> None:
    term_ids = {term.id for term in terms}
    for header, _ in invoices.headers:
        subscription = subscription_id(header, terms, customer_id)
        invoices.subscription_of[header.id] = subscription
        if subscription is not None:
            source: Source = (
                "customer_plan"
                if subscription in term_ids
                else "contract"
                if header.contract_id
                else "plan_invoices"
            )
            invoices.facts.setdefault(subscription, SubscriptionFacts(source)).observe(header)
        if header.plan_id and header.period and header.is_periodic:
            out.usage.observe_plan_period(header.plan_id, header.period.months)


def _first_period_start(
    subscription: str | None, terms: list[PlanTerm], invoices: CustomerInvoices
) -> datetime | None:
    if subscription is None:
        return None
    starts = [t.starting_on for t in terms if t.id == subscription]
    facts = invoices.facts.get(subscription)
    if facts is not None and facts.first_start is not None:
        starts.append(facts.first_start)
    return min(starts, default=None)


def _lines_by_charge(priced: PricedInvoice) -> dict[str, str]:
    first: dict[str, str] = {}
    for draft in priced.drafts:
        if draft.charge_id is not None:
            first.setdefault(draft.charge_id, f"{priced.header.id}:{draft.suffix}")
    return first


def _record_usage(priced: PricedInvoice, usage: CatalogUsage) -> None:
    header = priced.header
    date = header.date.isoformat() if header.date else ""
    for draft in priced.drafts:
        line_id = f"{header.id}:{draft.suffix}"
        usage.use_product(draft.product_id, draft.product_name, Recency(date, line_id))
        if draft.charge_id is not None:
            usage.use_charge(draft.charge_id, ChargeUse(priced.currency.code, draft.product_id))


def _note_payer(header: InvoiceHeader, invoices: CustomerInvoices) -> None:
    if header.payer_id is None or header.date is None:
        return
    candidate = (header.date, header.id, header.payer_id)
    if invoices.payer is None or candidate > invoices.payer:
        invoices.payer = candidate
