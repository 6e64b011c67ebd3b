"""Row-level views: one per collection, with totals a reconcile can compare record by record.

Views and the columns computed on top of the stored fields (time column in brackets):
- `customers` [as of `created_at`];
- `subscriptions` [period `subscription_start_date` -> `effective_cancellation_date`];
- `invoices`: `currency_code`, `total_amount`, `tax_amount`, `line_count` [as of `date`];
- `invoice_line_items`: `invoice_date`, `customer_id`, `invoice_status` [as of `invoice_date`];
- `credit_notes`: `customer_id`, `currency_code`, `total_amount`, `credited_amount`,
  `line_count` [as of `date`];
- `credit_note_line_items`: `credit_note_date`, `invoice_id` [as of `credit_note_date`].

`total_amount` is the sum of the lines' amounts as sent (`amount_excluding_tax_after_discount`,
credit note lines' `amount`); `credited_amount` its magnitude, as the metrics count it.
`currency_code` is the lines' currency, or their codes joined by `,` when they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sandbox.fincome.store import FincomeStore

Record = dict[str, Any]
ColumnType = Literal["string", "number", "integer", "datetime", "object"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "description": self.description}


@dataclass(frozen=True)
class ViewTime:
    kind: Literal["point_in_time", "period"]
    as_of_column: str | None = None
    period_start_column: str | None = None
    period_end_column: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "as_of_column": self.as_of_column,
            "period_start_column": self.period_start_column,
            "period_end_column": self.period_end_column,
        }


@dataclass(frozen=True)
class View:
    slug: str
    label: str
    collection: str
    columns: tuple[Column, ...]
    time: ViewTime
    default_order: str
    computed: Callable[[FincomeStore, Record], Record] | None = None

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)

    def rows(self, store: FincomeStore) -> list[Record]:
        """Every row, with all columns (stored fields and computed ones)."""
        records = store.records[self.collection].values()
        if self.computed is None:
            return list(records)
        computed = self.computed
        return [{**record, **computed(store, record)} for record in records]


def _c(name: str, type_: ColumnType, description: str) -> Column:
    return Column(name, type_, description)


ID = _c("id", "string", "Unique identifier")
PROPERTIES = _c("custom_properties", "object", "Custom properties")
STAMPS = (
    _c("created_at", "datetime", "When the record was created in Fincome"),
    _c("updated_at", "datetime", "When the record was last updated in Fincome"),
)
CURRENCY = _c("currency_code", "string", "Currency code of the lines")
LINE_COUNT = _c("line_count", "integer", "Number of line items")


def _currency(lines: list[Record]) -> str | None:
    codes = sorted({line["currency_code"] for line in lines})
    return ",".join(codes) if codes else None


def _invoice_totals(store: FincomeStore, invoice: Record) -> Record:
    lines = store.lines_of("invoices", invoice["id"])
    return {
        "currency_code": _currency(lines),
        "total_amount": sum((x["amount_excluding_tax_after_discount"] for x in lines), Decimal(0)),
        "tax_amount": sum((line["tax_amount"] for line in lines), Decimal(0)),
        "line_count": len(lines),
    }


def _credit_note_totals(store: FincomeStore, note: Record) -> Record:
    lines = store.lines_of("credit_notes", note["id"])
    total = sum((line["amount"] for line in lines), Decimal(0))
    return {
        "customer_id": store.records["invoices"][note["invoice_id"]]["customer_id"],
        "currency_code": _currency(lines),
        "total_amount": total,
        "credited_amount": abs(total),
        "line_count": len(lines),
    }


def _line_invoice(store: FincomeStore, line: Record) -> Record:
    invoice = store.records["invoices"][line["invoice_id"]]
    return {
        "invoice_date": invoice["date"],
        "customer_id": invoice["customer_id"],
        "invoice_status": invoice["status"],
    }


def _credit_line_note(store: FincomeStore, line: Record) -> Record:
    note = store.records["credit_notes"][line["credit_note_id"]]
    return {"credit_note_date": note["date"], "invoice_id": note["invoice_id"]}


_LINE_FIELDS = (
    _c("subscription_id", "string", "Subscription the line bills"),
    _c("price_id", "string", "Price of the line"),
    _c("type", "string", "subscription or one_off"),
    _c("amount_excluding_tax_after_discount", "number", "Amount excluding tax, after discount"),
    _c("tax_amount", "number", "Tax amount"),
    _c("discount_amount", "number", "Permanent discount amount"),
    _c("temporary_discount_amount", "number", "Temporary discount amount"),
    _c("currency_code", "string", "Currency code"),
    _c("quantity", "integer", "Quantity"),
    _c("description", "string", "Description"),
    _c("period_start", "datetime", "Start of the service period"),
    _c("period_end", "datetime", "End of the service period (exclusive)"),
    _c("proration_target_line_item_id", "string", "Line this proration applies to"),
)
_DATES = (  # of subscriptions
    "trial_start", "trial_end", "canceled_at", "effective_cancellation_date",
    "subscription_start_date", "deal_closed_date", "contractual_commitment_end_date",
)  # fmt: skip

VIEWS: dict[str, View] = {view.slug: view for view in (
    View("customers", "Customers", "customers", (
        ID, _c("name", "string", "Name"), _c("email", "string", "Email"),
        _c("country", "string", "Country"), _c("zip_code", "string", "Zip code"),
        _c("root_parent_id", "string", "Parent customer, if any"), PROPERTIES, *STAMPS,
    ), ViewTime("point_in_time", as_of_column="created_at"), "id"),
    View("subscriptions", "Subscriptions", "subscriptions", (
        ID, _c("customer_id", "string", "Customer"), _c("status", "string", "Status"),
        _c("subscription_set_id", "string", "Subscription set"),
        *(_c(name, "datetime", name.replace("_", " ").capitalize()) for name in _DATES),
        _c("monthly_value", "number", "Monthly value"), _c("currency_code", "string", "Currency"),
        _c("price_id", "string", "Price (plan)"), PROPERTIES, *STAMPS,
    ), ViewTime("period", period_start_column="subscription_start_date",
                period_end_column="effective_cancellation_date"), "id"),
    View("invoices", "Invoices", "invoices", (
        ID, _c("customer_id", "string", "Customer"),
        _c("invoice_number", "string", "Invoice number"), _c("date", "datetime", "Issue date"),
        _c("status", "string", "open, pending, paid, unpaid or void"),
        _c("is_renew", "string", "Renewal flag"), CURRENCY,
        _c("total_amount", "number", "Sum of the lines' amounts excluding tax"),
        _c("tax_amount", "number", "Sum of the lines' tax"), LINE_COUNT, PROPERTIES, *STAMPS,
    ), ViewTime("point_in_time", as_of_column="date"), "date", _invoice_totals),
    View("invoice_line_items", "Invoice line items", "invoice_line_items", (
        ID, _c("invoice_id", "string", "Invoice"), *_LINE_FIELDS, PROPERTIES,
        _c("invoice_date", "datetime", "Issue date of the invoice"),
        _c("customer_id", "string", "Customer of the invoice"),
        _c("invoice_status", "string", "Status of the invoice"), *STAMPS,
    ), ViewTime("point_in_time", as_of_column="invoice_date"), "id", _line_invoice),
    View("credit_notes", "Credit notes", "credit_notes", (
        ID, _c("invoice_id", "string", "Credited invoice"),
        _c("customer_id", "string", "Customer of the credited invoice"),
        _c("date", "datetime", "Issue date"), _c("status", "string", "refunded or refund_due"),
        CURRENCY, _c("total_amount", "number", "Sum of the lines' amounts as sent"),
        _c("credited_amount", "number", "Amount credited (magnitude of the total)"),
        LINE_COUNT, PROPERTIES, *STAMPS,
    ), ViewTime("point_in_time", as_of_column="date"), "date", _credit_note_totals),
    View("credit_note_line_items", "Credit note line items", "credit_note_line_items", (
        ID, _c("credit_note_id", "string", "Credit note"),
        _c("invoice_line_item_id", "string", "Credited invoice line"),
        _c("amount", "number", "Amount as sent"),
        _c("discount_amount", "number", "Permanent discount amount"),
        _c("temporary_discount_amount", "number", "Temporary discount amount"),
        _c("currency_code", "string", "Currency code"), _c("description", "string", "Description"),
        PROPERTIES, _c("credit_note_date", "datetime", "Issue date of the credit note"),
        _c("invoice_id", "string", "Credited invoice"), *STAMPS,
    ), ViewTime("point_in_time", as_of_column="credit_note_date"), "id", _credit_line_note),
)}  # fmt: skip
