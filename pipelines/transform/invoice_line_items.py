"""Fincome invoice line items, one per drafted Metronome line (lines.py gives the ids).

| Fincome field | from | rule |
|---|---|---|
| id | invoice id + position | `{invoice_id}:L{i}.S{j}`, `:L{i}`, `:L{i}.R`, `:A{k}` |
| invoice_id | invoice `id` | |
| subscription_id | the invoice's subscription | (6) |
| price_id | sub-line `charge_id` | (1) |
| type | line item `type`, invoice `type` | see `line_type` |
| amount_excluding_tax_after_discount | subtotal / total | (2) |
| tax_amount | - | 0: Metronome amounts are before tax |
| discount_amount | - | 0: credits and discounts stay negative lines |
| temporary_discount_amount | - | 0 |
| currency_code | invoice `credit_type` | money.py |
| quantity | sub-line / line `quantity` | (3) |
| description | sub-line, line or adjustment `name` | remainder: `<line name> (remainder)` |
| period_start, period_end | seat, line or invoice dates | (4) |
| proration_target_line_item_id | a prorated contract subscription line | (7) |
| custom_properties | line and charge `custom_fields` | (5) |

(1) Only when the charge is in the staged catalog (so its price exists); else null and
    `metronome_price_note` says why.
(2) Sub-line `subtotal`, line or adjustment `total`, or a line's unexplained remainder;
    converted and rounded half-even; the invoice's rounding residue on the lines rounded
    the most the other way (`money.balance`: an exact amount is never changed).
(3) An integer when integral; else null, and `metronome_quantity` holds the exact value.
(4) Seat `start_date`/`end_date`, else the line's `starting_at`/`ending_before`, else (plan
    invoices only) the invoice period; null for `one_off` lines. A contract invoice's line
    has only its own period (contract_lines.py).
(5) Plus `product_id` (the Fincome product), `metronome_line_kind`, `metronome_charge_id`,
    `metronome_charge_type`, `metronome_tiers` (text summary), `metronome_quantity`,
    `metronome_credit_grant_id`, `metronome_price_note`: strings and integers only.
    Contract lines add their Metronome ids (contract_lines.py).
(6) Plan invoices: the invoice's customer plan; contract invoices: a `subscription` line's
    Metronome subscription, any other line the contract (contract_lines.py); null without
    plan or contract.
(7) Set once the customer's invoices are all mapped (contract_subscriptions.py); else null.

Line types on plan invoices: see `line_type`; on contract invoices each Metronome line type
has its rule (contract_lines.py), which decides before the invoice type does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from destinations.fincome.rows import InvoiceLineItemRow
from pipelines.transform.header import InvoiceHeader, Period
from pipelines.transform.inputs import Record
from pipelines.transform.lines import DraftLine
from pipelines.transform.money import Currency
from pipelines.transform.options import LineType, MappingOptions
from pipelines.transform.values import MAX_EXACT_INT, Row, decimal_text, text

# Metronome line item types that are not for a service period.
ONE_OFF_LINE_TYPES = frozenset({"scheduled", "commit_purchase", "applied_commit_or_credit"})
UNKNOWN_CHARGE_NOTE = "charge not in the staged plan catalog: no Fincome price"


@dataclass(frozen=True)
class LineContext:
    """What every line of one invoice shares."""

    header: InvoiceHeader
    currency: Currency
    subscription_id: str | None
    charges: Mapping[str, Record]  # the staged plan charges, by id
    options: MappingOptions

    @property
    def invoice_id(self) -> str:
        return self.header.id


def line_item_row(draft: DraftLine, amount: Decimal, context: LineContext) -> InvoiceLineItemRow:
    kind = line_type(draft, context)
    period = line_period(draft, context.header) if kind == "subscription" else None
    return {
        "id": f"{context.invoice_id}:{draft.suffix}",
        "invoice_id": context.invoice_id,
        "subscription_id": line_subscription(draft, context),
        "price_id": price_id(draft, context),
        "type": kind,
        "amount_excluding_tax_after_discount": amount,
        "tax_amount": Decimal(0),
        "discount_amount": Decimal(0),
        "temporary_discount_amount": Decimal(0),
        "currency_code": context.currency.code,
        "quantity": whole_quantity(draft.quantity),
        "description": draft.description,
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "proration_target_line_item_id": None,
        "custom_properties": line_properties(draft, context),
    }


def line_type(draft: DraftLine, context: LineContext) -> LineType:
    """`subscription` for charges of a service period, `one_off` otherwise.

    One-off: every line of a SCHEDULED, CREDIT_PURCHASE or correction invoice, credit
    adjustments, and scheduled, commit purchase and applied commit/credit line items. A minimum
    true-up on a periodic invoice is the contracted minimum for that service period:
    `[mapping] minimum_line_type`, subscription by default, like the table's "minimum on
    periodic invoices". A line item of a plan invoice without sub-line items comes from no
    plan charge (an ad-hoc fee such as onboarding): `[mapping] ad_hoc_line_type`, one-off by
    default. A product listed in `[mapping.line_types]` takes the type given there. Fincome
    needs a period on a subscription line, so one without any becomes one-off.
    """
    header, options = context.header, context.options
    override = options.line_types.get(draft.product_id)
    if override is not None:
        kind = override
    elif draft.contract is not None and not header.is_correction:
        kind = "one_off" if draft.kind == "adjustment" else draft.contract.line_type
    elif header.is_periodic and draft.line_type == "minimum":
        kind = options.minimum_line_type
    elif not header.is_periodic or _one_off_line(draft):
        kind = "one_off"
    elif draft.kind == "line" and header.plan_id is not None:
        kind = options.ad_hoc_line_type
    else:
        kind = "subscription"
    if kind == "subscription" and line_period(draft, header) is None:
        return "one_off"
    return kind


def _one_off_line(draft: DraftLine) -> bool:
    return draft.kind == "adjustment" or draft.line_type in ONE_OFF_LINE_TYPES


def line_period(draft: DraftLine, header: InvoiceHeader) -> Period | None:
    """The line's own period; on a plan invoice, else the invoice's."""
    return draft.period if header.is_contract else draft.period or header.period


def line_subscription(draft: DraftLine, context: LineContext) -> str | None:
    if draft.contract is not None and draft.contract.subscription_ref is not None:
        return draft.contract.subscription_ref
    return context.subscription_id


def price_id(draft: DraftLine, context: LineContext) -> str | None:
    return draft.charge_id if draft.charge_id in context.charges else None


def whole_quantity(quantity: Decimal | None) -> int | None:
    if quantity is None or quantity != quantity.to_integral_value():
        return None
    return int(quantity) if abs(quantity) < MAX_EXACT_INT else None


def line_properties(draft: DraftLine, context: LineContext) -> Row:
    properties: Row = {
        **draft.properties,
        "product_id": draft.product_id,
        "metronome_line_kind": draft.kind,
    }
    if draft.quantity is not None and whole_quantity(draft.quantity) is None:
        properties["metronome_quantity"] = decimal_text(draft.quantity)
    if draft.charge_id is not None:
        charge = context.charges.get(draft.charge_id)
        if isinstance(charge, Mapping):
            charge_type = text(charge.get("charge_type"))
            if charge_type:
                properties["metronome_charge_type"] = charge_type
        else:
            properties["metronome_price_note"] = UNKNOWN_CHARGE_NOTE
    if draft.tiers:
        properties["metronome_tiers"] = tiers_summary(draft, context.currency)
    return properties


def tiers_summary(draft: DraftLine, currency: Currency) -> str:
    """`0+: 1000 x 0.02; 1000+: 500 x 0.01`: tier start, quantity and unit price in currency."""
    return "; ".join(
        f"{decimal_text(tier.starting_at)}+: {decimal_text(tier.quantity)} x "
        f"{decimal_text(currency.convert(tier.price))}"
        for tier in draft.tiers
    )
