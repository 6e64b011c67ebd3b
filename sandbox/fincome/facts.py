"""Money facts the metrics are computed from: one per invoice line or credit note line.

- Invoice facts: every line of an invoice that is not `void`, dated by the invoice `date`,
  worth `amount_excluding_tax_after_discount` (after discounts, before tax: what Fincome's
  default calculation uses) in the line's `currency_code`.
- Credit facts: every credit note line, dated by the credit note `date` (the credited
  invoice's date when the note has none), worth the credited amount. Senders write credit
  note amounts negative (our transform's default) or positive; the emulator reads each note in
  its own convention: when a note's lines add up to a negative total every line's credit is
  `-amount`, otherwise `amount`. A note's total credit is thus the magnitude of its total,
  whichever sign the sender chose, and a mixed-sign note nets out correctly.
- The account of a fact is its customer's `root_parent_id` when set, else the customer:
  Fincome computes everything at the parent level once a hierarchy is linked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.fincome.store import FincomeStore

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Fact:
    day: date  # UTC date the fact counts on
    amount: Decimal  # in `currency`, signed as it counts (credits are positive credit facts)
    currency: str
    account: str
    invoice: Record  # the invoice, or the invoice a credit note credits
    invoice_line: Record | None  # the line, or the invoice line a credit note line points at


def account_of(store: FincomeStore, customer_id: str) -> str:
    customer = store.records["customers"][customer_id]
    parent: str | None = customer["root_parent_id"]
    return parent or customer_id


def invoice_facts(store: FincomeStore) -> Iterator[Fact]:
    lines_by_id = store.records["invoice_line_items"]
    for invoice in store.records["invoices"].values():
        if invoice["status"] == "void":
            continue
        account = account_of(store, invoice["customer_id"])
        day = invoice["date"].date()
        for line_id in store.referrers("invoice_line_items", "invoice_id", invoice["id"]):
            line = lines_by_id[line_id]
            amount = line["amount_excluding_tax_after_discount"]
            yield Fact(day, amount, line["currency_code"], account, invoice, line)


def credit_facts(store: FincomeStore) -> Iterator[Fact]:
    invoice_lines = store.records["invoice_line_items"]
    for note in store.records["credit_notes"].values():
        invoice = store.records["invoices"][note["invoice_id"]]
        lines = store.lines_of("credit_notes", note["id"])
        sign = -1 if sum(line["amount"] for line in lines) < 0 else 1
        account = account_of(store, invoice["customer_id"])
        day = (note["date"] or invoice["date"]).date()
        for line in lines:
            target = invoice_lines.get(line["invoice_line_item_id"] or "")
            yield Fact(day, sign * line["amount"], line["currency_code"], account, invoice, target)


def service_period(fact: Fact) -> tuple[datetime, datetime] | None:
    """The service period of a `subscription` line (validated `start < end`), else None."""
    line = fact.invoice_line
    if line is None or line["type"] != "subscription":
        return None
    return line["period_start"], line["period_end"]
