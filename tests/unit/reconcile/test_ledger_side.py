"""The ledger side: acknowledged line bodies summed per invoice and credit note."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from destinations.fincome.ledger import LedgerEntry, LedgerStore
from pipelines.reconcile.ledger import read_ledger

D = Decimal


def _line(line_id: str, invoice_id: str, amount: str, currency: str = "USD") -> LedgerEntry:
    body = {
        "id": line_id,
        "invoice_id": invoice_id,
        "amount_excluding_tax_after_discount": amount,
        "currency_code": currency,
    }
    return LedgerEntry("invoice_line_items", line_id, "h", body, invoice_id)


def _credit_line(line_id: str, note_id: str, amount: str) -> LedgerEntry:
    body = {"id": line_id, "credit_note_id": note_id, "amount": amount, "currency_code": "USD"}
    return LedgerEntry("credit_note_line_items", line_id, "h", body, note_id)


def _document(collection: str, document_id: str, **body: str) -> LedgerEntry:
    return LedgerEntry(collection, document_id, "h", {"id": document_id, **body})


def test_documents_are_worth_their_acknowledged_lines() -> None:
    db = duckdb.connect()
    LedgerStore(db).record(
        [
            _document("invoices", "inv-1", customer_id="cus-1", date="2026-04-30T23:30:00-02:00",
                      status="paid"),
            _line("inv-1:L0", "inv-1", "100.10"),
            _line("inv-1:L1", "inv-1", "-0.10"),
            _document("invoices", "inv-2", customer_id="cus-1", date="2026-04-02T00:00:00Z",
                      status="void"),
            _line("inv-2:L0", "inv-2", "5.00"),
            _document("invoices", "inv-3", customer_id="cus-2", date="2026-04-02T00:00:00Z",
                      status="open"),
            _line("inv-3:L0", "inv-3", "1", "EUR"),
            _line("inv-3:L1", "inv-3", "2", "USD"),
            _document("invoices", "empty", customer_id="cus-2", date="2026-04-02T00:00:00Z",
                      status="paid"),
            _document("credit_notes", "cn-1", invoice_id="inv-1", date="2026-05-01T00:00:00Z",
                      status="refunded"),
            _credit_line("cn-1:L0", "cn-1", "-30.00"),
            _line("orphan:L0", "orphan", "999"),  # a line whose invoice the ledger lost
        ]
    )  # fmt: skip
    documents = read_ledger(db)

    assert set(documents) == {"inv-1", "inv-2", "inv-3", "empty", "cn-1"}
    invoice = documents["inv-1"]
    # 23:30 at -02:00 is already May in UTC
    assert (invoice.amount, invoice.currency, invoice.month, invoice.counted) == (
        D("100.00"),
        "USD",
        "2026-05",
        True,
    )
    assert not documents["inv-2"].counted
    assert documents["inv-3"].currency == "EUR,USD"  # as Fincome's views name mixed lines
    assert (documents["empty"].amount, documents["empty"].currency) == (D(0), None)
    note = documents["cn-1"]
    assert (note.kind, note.amount, note.net, note.customer_id, note.status) == (
        "credit_note",
        D("30.00"),
        D("-30.00"),
        "cus-1",
        "refunded",
    )


def test_no_ledger_yet_is_nothing_pushed() -> None:
    assert read_ledger(duckdb.connect()) == {}
