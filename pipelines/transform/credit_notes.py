"""Fincome credit notes: FINALIZED Metronome correction invoices with a negative total.

A correction is an invoice carrying a `correction_record`. With a positive (or zero) total it
is an ordinary invoice (invoices.py); a VOID or DRAFT correction is not sent.

| Fincome field | from | rule |
|---|---|---|
| id | correction invoice `id` | |
| invoice_id | `correction_record.corrected_invoice_id` | (1) |
| date | `issued_at` | else `created_at`, else `end_timestamp` |
| status | `external_invoice.external_status` | PAID -> `refunded`, else `refund_due` |
| custom_properties | invoice `custom_fields` | (2) |

Credit note line items, one per line as for invoices (ids from lines.py, money from money.py):

| Fincome field | from | rule |
|---|---|---|
| id | correction id + position | `{id}:L{i}.S{j}`, `:L{i}`, `:L{i}.R`, `:A{k}` |
| credit_note_id | correction invoice `id` | |
| invoice_line_item_id | the corrected invoice's lines | its first line with the same charge id |
| amount | as invoice line amounts | (3) |
| discount_amount | - | 0 |
| temporary_discount_amount | - | 0 |
| currency_code | invoice `credit_type` | |
| description | as invoice lines | |
| custom_properties | as invoice lines | invoice_line_items.py |

(1) Must be one of the customer's synced invoices, else the credit note is rejected.
(2) Plus `metronome_invoice_type`, `metronome_plan_name`, `metronome_credit_type`,
    `metronome_correction_reason`, `metronome_correction_memo`.
(3) Negative, as in Metronome, by default; `[mapping] credit_note_sign = "positive"` flips
    every line.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from destinations.fincome.rows import CreditNoteLineItemRow, CreditNoteRow
from pipelines.transform.invoice_line_items import LineContext, line_properties
from pipelines.transform.invoices import PricedInvoice, credit_type_name
from pipelines.transform.money import plain_zero
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import MappingError, custom_properties, shown, text


def is_credit_note(priced: PricedInvoice) -> bool:
    return priced.header.is_correction and sum(priced.amounts, Decimal(0)) < 0


def credit_note_row(
    priced: PricedInvoice, synced_invoice_ids: Mapping[str, object]
) -> CreditNoteRow:
    header = priced.header
    corrected = header.corrected_invoice_id
    if corrected is None or corrected not in synced_invoice_ids:
        named = shown(corrected) if corrected else None
        raise MappingError(
            f"corrected invoice {named} is not synced (missing, draft, rejected or not this "
            "customer's): the credit note needs it first"
        )
    date = header.issued_at or header.created_at or header.date
    if date is None:
        raise MappingError("no credit note date: no issued_at, created_at or end_timestamp")
    return {
        "id": header.id,
        "invoice_id": corrected,
        "date": date,
        "status": "refunded" if header.external_status == "PAID" else "refund_due",
        "custom_properties": custom_properties(
            header.custom_fields,
            {
                "metronome_invoice_type": header.type or None,
                "metronome_plan_name": header.plan_name,
                "metronome_credit_type": credit_type_name(header),
                "metronome_correction_reason": text(header.correction.get("reason")),
                "metronome_correction_memo": text(header.correction.get("memo")),
            },
        ),
    }


def credit_note_line_rows(
    priced: PricedInvoice,
    context: LineContext,
    corrected_lines_by_charge: Mapping[str, str],
    options: MappingOptions,
) -> list[CreditNoteLineItemRow]:
    sign = Decimal(-1) if options.credit_note_sign == "positive" else Decimal(1)
    return [
        {
            "id": f"{priced.header.id}:{draft.suffix}",
            "credit_note_id": priced.header.id,
            "invoice_line_item_id": corrected_lines_by_charge.get(draft.charge_id or ""),
            "amount": plain_zero(amount * sign),
            "discount_amount": Decimal(0),
            "temporary_discount_amount": Decimal(0),
            "currency_code": priced.currency.code,
            "description": draft.description,
            "custom_properties": line_properties(draft, context),
        }
        for draft, amount in zip(priced.drafts, priced.amounts, strict=True)
    ]
