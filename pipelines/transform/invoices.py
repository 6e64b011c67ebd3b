"""Fincome invoices: FINALIZED and VOID Metronome invoices (a DRAFT still changes: never sent).

| Fincome field | from | rule |
|---|---|---|
| id | invoice `id` | (1) |
| customer_id | the staged customer `id` | |
| invoice_number | `external_invoice.invoice_id` | null without an external invoice |
| date | `issued_at` | else `end_timestamp`; neither: rejected |
| status | `status`, `external_invoice.external_status` | (2) |
| is_renew | its subscription's first period | (3) |
| custom_properties | invoice `custom_fields` | (4) |

(1) A regenerated invoice has a new id, so it is a new invoice; the voided one stays, `void`.
(2) VOID -> `void`. FINALIZED by external status: PAID -> `paid`, PAYMENT_FAILED and
    UNCOLLECTIBLE -> `unpaid`, VOID and DELETED -> `void`, else `open`; a zero total without
    an external invoice -> `paid` (nothing to collect, no provider to say otherwise).
(3) `"false"` when the invoice's service starts on or before the day its subscription
    started (its first period), or when it has no subscription; else `"true"`.
(4) Plus `metronome_invoice_type`, `metronome_plan_name`, `metronome_credit_type`; a
    correction with a positive (or zero) total adds `metronome_corrected_invoice_id`; an
    unbillable invoice kept by `[mapping] keep_unbillable_invoices` adds
    `metronome_billable_status = unbillable`; applied POSTPAID commits, which are outside
    the total and so no lines, are listed in `metronome_postpaid_applied` (`-4 USD (id)`).

Corrections with a negative total are credit notes instead (credit_notes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from destinations.fincome.rows import InvoiceRow
from pipelines.transform.catalog import CatalogView
from pipelines.transform.header import InvoiceHeader
from pipelines.transform.inputs import Record
from pipelines.transform.lines import DraftLine, PostpaidApplied, draft_lines
from pipelines.transform.money import Currency, balance, is_fiat, resolve_currency
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import (
    MappingError,
    custom_properties,
    decimal_text,
    optional_record,
    text,
)

UNPAID_EXTERNAL = frozenset({"PAYMENT_FAILED", "UNCOLLECTIBLE"})
VOID_EXTERNAL = frozenset({"VOID", "DELETED"})


@dataclass(frozen=True)
class PricedInvoice:
    """An invoice's lines with their final amounts, adding up exactly to its total."""

    header: InvoiceHeader
    currency: Currency
    drafts: list[DraftLine]
    amounts: list[Decimal]  # converted, rounded and balanced; same order as `drafts`
    postpaid: list[PostpaidApplied]  # applied POSTPAID commits: outside the total, no lines


def price_invoice(
    invoice: Record, header: InvoiceHeader, view: CatalogView, options: MappingOptions
) -> PricedInvoice:
    """Resolve the currency, cut the lines and balance them; `MappingError` if impossible."""
    currency = resolve_currency(header.credit_type, options, view.credit_types)
    drafted = draft_lines(invoice, header, lambda unit: is_fiat(unit, view.credit_types))
    drafts = drafted.lines
    amounts = balance(
        [currency.convert(d.amount) for d in drafts], currency.convert(header.total), currency
    )
    # a remainder worth less than half a minor unit is rounding noise, not a line
    kept = [(d, a) for d, a in zip(drafts, amounts, strict=True) if a or d.kind != "remainder"]
    return PricedInvoice(
        header, currency, [d for d, _ in kept], [a for _, a in kept], drafted.postpaid
    )


def invoice_row(
    priced: PricedInvoice, customer_id: str, first_period_start: datetime | None
) -> InvoiceRow:
    header = priced.header
    if header.date is None:
        raise MappingError("no invoice date: neither issued_at nor end_timestamp is set")
    return {
        "id": header.id,
        "customer_id": customer_id,
        "invoice_number": header.external_invoice_id,
        "date": header.date,
        "status": invoice_status(header, sum(priced.amounts, Decimal(0))),
        "is_renew": is_renew(header, first_period_start),
        "custom_properties": custom_properties(
            header.custom_fields,
            {
                "metronome_invoice_type": header.type or None,
                "metronome_plan_name": header.plan_name,
                "metronome_credit_type": credit_type_name(header),
                "metronome_corrected_invoice_id": header.corrected_invoice_id,
                "metronome_billable_status": None if header.billable else "unbillable",
                "metronome_postpaid_applied": postpaid_summary(priced),
            },
        ),
    }


def postpaid_summary(priced: PricedInvoice) -> str | None:
    """`-4 USD (postpaid-1)`: each applied POSTPAID commit, converted, with its commit id."""
    return (
        "; ".join(
            f"{decimal_text(priced.currency.round(priced.currency.convert(applied.amount)))} "
            f"{priced.currency.code} ({applied.commit_id or 'no commit id'})"
            for applied in priced.postpaid
        )
        or None
    )


def invoice_status(header: InvoiceHeader, rounded_total: Decimal) -> str:
    if header.status == "VOID":
        return "void"
    external = header.external_status
    if external == "PAID":
        return "paid"
    if external in UNPAID_EXTERNAL:
        return "unpaid"
    if external in VOID_EXTERNAL:
        return "void"
    if not header.has_external_invoice and not rounded_total:
        return "paid"  # nothing to collect and no billing provider that could say otherwise
    return "open"


def is_renew(header: InvoiceHeader, first_period_start: datetime | None) -> str:
    start = header.service_start
    if first_period_start is None or start is None:
        return "false"
    return "false" if start.date() <= first_period_start.date() else "true"


def credit_type_name(header: InvoiceHeader) -> str | None:
    try:
        return text(optional_record(header.credit_type, "credit_type").get("name"))
    except MappingError:
        return None
