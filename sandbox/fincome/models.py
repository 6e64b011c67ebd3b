"""Create bodies of the eight Fincome collections, field by field from the API seed.

Written from `../shared/seeds/000_*.txt` only, never from the client's schema, so that a
misreading on one side shows up as a failing request instead of cancelling out.
`Required[...]` marks the seed's "required" fields; every other field may be omitted or null.
Unknown fields are refused (`extra="forbid"`), including `created_at`/`updated_at`.
Update bodies are derived from these in `validation.py`: same fields and types, all optional,
no embedded line items.
"""

from __future__ import annotations

from typing import Literal, Required

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from sandbox.fincome.fields import DateTime, Id, Integer, Money, Properties

InvoiceStatus = Literal["open", "pending", "paid", "unpaid", "void"]
CreditNoteStatus = Literal["refunded", "refund_due"]
SubscriptionStatus = Literal["trialing", "active", "paused", "canceled", "unpaid"]
LineItemType = Literal["subscription", "one_off"]
PeriodUnit = Literal["day", "week", "month", "year"]

_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class CustomerBody(TypedDict, total=False):
    id: Required[Id]
    root_parent_id: str | None
    name: str | None
    email: str | None
    country: str | None
    zip_code: str | None
    custom_properties: Properties | None


@with_config(_STRICT)
class ProductBody(TypedDict, total=False):
    id: Required[Id]
    name: str | None
    custom_properties: Properties | None


@with_config(_STRICT)
class PriceBody(TypedDict, total=False):
    id: Required[Id]
    name: str | None
    period_unit: PeriodUnit | None
    period_length: Integer | None
    product_id: str | None
    # The seed cuts the list of types off ("Possible values:"), so any string is accepted.
    type: str | None
    amount: Money | None
    currency_code: str | None
    custom_properties: Properties | None


@with_config(_STRICT)
class SubscriptionBody(TypedDict, total=False):
    id: Required[Id]
    customer_id: str | None
    status: SubscriptionStatus | None
    subscription_set_id: str | None
    trial_start: DateTime | None
    trial_end: DateTime | None
    canceled_at: DateTime | None
    effective_cancellation_date: DateTime | None
    subscription_start_date: DateTime | None
    deal_closed_date: DateTime | None
    contractual_commitment_end_date: DateTime | None
    monthly_value: Money | None
    currency_code: str | None
    price_id: str | None
    custom_properties: Properties | None


@with_config(_STRICT)
class InvoiceLineItemBody(TypedDict, total=False):
    id: Required[Id]
    invoice_id: Required[Id]
    subscription_id: str | None
    price_id: str | None
    type: Required[LineItemType]
    amount_excluding_tax_after_discount: Required[Money]
    tax_amount: Required[Money]
    discount_amount: Money | None
    temporary_discount_amount: Money | None
    currency_code: Required[str]
    quantity: Integer | None
    description: str | None
    period_start: DateTime | None
    period_end: DateTime | None
    proration_target_line_item_id: str | None
    custom_properties: Properties | None


@with_config(_STRICT)
class InvoiceBody(TypedDict, total=False):
    id: Required[Id]
    customer_id: Required[Id]
    invoice_number: str | None
    date: Required[DateTime]
    status: Required[InvoiceStatus]
    is_renew: str | None
    custom_properties: Properties | None
    invoice_line_items: list[InvoiceLineItemBody] | None


@with_config(_STRICT)
class CreditNoteLineItemBody(TypedDict, total=False):
    id: Required[Id]
    credit_note_id: Required[Id]
    invoice_line_item_id: str | None
    amount: Required[Money]
    discount_amount: Money | None
    temporary_discount_amount: Money | None
    currency_code: Required[str]
    description: str | None
    custom_properties: Properties | None


@with_config(_STRICT)
class CreditNoteBody(TypedDict, total=False):
    id: Required[Id]
    invoice_id: Required[Id]
    date: DateTime | None
    status: CreditNoteStatus | None
    custom_properties: Properties | None
    credit_note_line_items: list[CreditNoteLineItemBody] | None
