"""A small, valid Fincome account in the destination's row format, parents first.

Values are typed the way the transform writes them (Decimal money, aware datetimes, dict
custom properties); invoices and credit notes embed their lines.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from destinations.fincome.hints import column_hints
from destinations.fincome.schema import PUSH_ORDER

Row = dict[str, Any]

JAN = datetime(2024, 1, 1, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)


def _line(invoice_id: str, n: int, amount: str, **extra: Any) -> Row:
    return {
        "id": f"{invoice_id}:L{n}",
        "invoice_id": invoice_id,
        "subscription_id": "sub_1",
        "price_id": "price_seats",
        "type": "subscription",
        "amount_excluding_tax_after_discount": Decimal(amount),
        "tax_amount": Decimal("0"),
        "discount_amount": Decimal("0"),
        "currency_code": "EUR",
        "quantity": 3,
        "description": f"Seats {n}",
        "period_start": JAN,
        "period_end": FEB,
        "custom_properties": {"tiers": [{"upto": 10, "price": "1.50"}]},
        **extra,
    }


GRAPH: dict[str, list[Row]] = {
    "customers": [
        {"id": "cus_parent", "name": "Acme Group", "email": "billing@acme.test", "country": "FR",
         "zip_code": "75001", "custom_properties": {"metronome_archived": False}},
        {"id": "cus_1", "name": "Acme SAS", "root_parent_id": "cus_parent", "email": None,
         "country": "FR", "zip_code": None, "custom_properties": {"segment": "smb"}},
    ],
    "products": [
        {"id": "prod_seats", "name": "Seats", "custom_properties": {}},
        {"id": "metronome:adjustment", "name": "Adjustment", "custom_properties": {}},
    ],
    "prices": [
        {"id": "price_seats", "name": "Seats monthly", "period_unit": "month", "period_length": 1,
         "product_id": "prod_seats", "type": "recurring", "amount": Decimal("12.50"),
         "currency_code": "EUR", "custom_properties": {}},
    ],
    "subscriptions": [
        {"id": "sub_1", "customer_id": "cus_1", "status": "active", "subscription_start_date": JAN,
         "monthly_value": Decimal("37.50"), "currency_code": "EUR", "price_id": "price_seats",
         "custom_properties": {"plan": "Pro"}},
    ],
    "invoices": [
        {"id": "inv_1", "customer_id": "cus_1", "invoice_number": "F-0001", "date": FEB,
         "status": "paid", "is_renew": "false", "custom_properties": {"type": "USAGE"},
         "invoice_line_items": [_line("inv_1", 0, "37.50"), _line("inv_1", 1, "0.01")]},
        {"id": "inv_2", "customer_id": "cus_1", "invoice_number": None, "date": FEB,
         "status": "open", "is_renew": "true", "custom_properties": {},
         "invoice_line_items": [_line("inv_2", 0, "12.345", quantity=None, type="one_off",
                                      period_start=None, period_end=None)]},
    ],
    "credit_notes": [
        {"id": "cn_1", "invoice_id": "inv_1", "date": FEB, "status": "refund_due",
         "custom_properties": {},
         "credit_note_line_items": [
             {"id": "cn_1:L0", "credit_note_id": "cn_1", "invoice_line_item_id": "inv_1:L0",
              "amount": Decimal("-5.00"), "currency_code": "EUR", "description": "Refund",
              "custom_properties": {}},
         ]},
    ],
}  # fmt: skip


def graph() -> dict[str, list[Row]]:
    """A fresh copy, so a test may change rows freely."""
    return deepcopy(GRAPH)


def count_rows(rows_by_collection: dict[str, list[Row]]) -> dict[str, int]:
    """Rows per collection, embedded lines counted in their own collection."""
    counts = {name: len(rows) for name, rows in rows_by_collection.items()}
    for parent, child in (("invoices", "invoice_line_items"),
                          ("credit_notes", "credit_note_line_items")):  # fmt: skip
        lines = sum(len(row.get(child) or []) for row in rows_by_collection.get(parent, []))
        counts[child] = counts.get(child, 0) + lines
    return counts


def load_in_push_order(pipeline: Any, rows_by_collection: dict[str, list[Row]]) -> None:
    """One `pipeline.run` per collection, parents first, with the column hints, as callers of
    `fincome` should do."""
    for spec in PUSH_ORDER:
        rows = rows_by_collection.get(spec.name)
        if rows:
            pipeline.run(rows, table_name=spec.name, columns=column_hints(spec.name))
