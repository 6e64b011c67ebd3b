"""One typed row per Fincome collection: what the transform builds, checked by mypy.

Each row type lists every field of its collection's seed table (schema.py), typed by kind:
string `str`, number `Decimal`, integer `int`, datetime `datetime`, object `JsonObject`. A
field not required on create may be None. The types are total: every row holds every key,
so a misspelt or forgotten field is a type error, never a silent null once the row is sent.
`tests/unit/destinations/test_fincome_rows.py` checks them against schema.py's field tables.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

# A JSON object as Fincome takes it (`custom_properties`): text keys, JSON values.
JsonObject = dict[str, Any]


class CustomerRow(TypedDict):
    id: str
    root_parent_id: str | None
    name: str | None
    email: str | None
    country: str | None
    zip_code: str | None
    custom_properties: JsonObject | None


class ProductRow(TypedDict):
    id: str
    name: str | None
    custom_properties: JsonObject | None


class PriceRow(TypedDict):
    id: str
    name: str | None
    period_unit: str | None
    period_length: int | None
    product_id: str | None
    type: str | None
    amount: Decimal | None
    currency_code: str | None
    custom_properties: JsonObject | None


class SubscriptionRow(TypedDict):
    id: str
    customer_id: str | None
    status: str | None
    subscription_set_id: str | None
    trial_start: datetime | None
    trial_end: datetime | None
    canceled_at: datetime | None
    effective_cancellation_date: datetime | None
    subscription_start_date: datetime | None
    deal_closed_date: datetime | None
    contractual_commitment_end_date: datetime | None
    monthly_value: Decimal | None
    currency_code: str | None
    price_id: str | None
    custom_properties: JsonObject | None


class InvoiceRow(TypedDict):
    id: str
    customer_id: str
    invoice_number: str | None
    date: datetime
    status: str
    is_renew: str | None
    custom_properties: JsonObject | None


class InvoiceLineItemRow(TypedDict):
    id: str
    invoice_id: str
    subscription_id: str | None
    price_id: str | None
    type: str
    amount_excluding_tax_after_discount: Decimal
    tax_amount: Decimal
    discount_amount: Decimal | None
    temporary_discount_amount: Decimal | None
    currency_code: str
    quantity: int | None
    description: str | None
    period_start: datetime | None
    period_end: datetime | None
    proration_target_line_item_id: str | None
    custom_properties: JsonObject | None


class CreditNoteRow(TypedDict):
    id: str
    invoice_id: str
    date: datetime | None
    status: str | None
    custom_properties: JsonObject | None


class CreditNoteLineItemRow(TypedDict):
    id: str
    credit_note_id: str
    invoice_line_item_id: str | None
    amount: Decimal
    discount_amount: Decimal | None
    temporary_discount_amount: Decimal | None
    currency_code: str
    description: str | None
    custom_properties: JsonObject | None


# A row of any collection (what the transform emits; `id` is the one field all share).
FincomeRow = (
    CustomerRow
    | ProductRow
    | PriceRow
    | SubscriptionRow
    | InvoiceRow
    | InvoiceLineItemRow
    | CreditNoteRow
    | CreditNoteLineItemRow
)
