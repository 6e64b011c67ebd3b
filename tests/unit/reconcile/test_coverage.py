"""Reading Fincome's documents kind by kind: by id where no view fits, and what is left
unread when Fincome refuses even that."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from destinations.fincome import FincomeClient, FincomeSettings
from pipelines.reconcile.byid import held_of, sample
from pipelines.reconcile.coverage import FincomeSide, read_the_rest

NOTE = {
    "id": "cn-1", "invoice_id": "inv-1", "date": "2026-05-01T00:00:00Z", "status": "refunded",
    "credit_note_line_items": [
        {"id": "cn-1:L0", "amount": -7.5, "currency_code": "EUR"},
        {"id": "cn-1:L1", "amount": -2.5, "currency_code": "EUR"},
    ],
}  # fmt: skip


def _client() -> FincomeClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/invoices/"):
            return httpx.Response(405, json={"detail": "Method Not Allowed"})
        if request.url.path == "/credit_notes/cn-1":
            return httpx.Response(200, content=json.dumps(NOTE).encode())
        return httpx.Response(404, json={"detail": "Credit note not found"})

    settings = FincomeSettings(api_key="k", base_url="https://fincome.test", max_attempts=1)
    return FincomeClient(settings, transport=httpx.MockTransport(handle))


def test_a_kind_fincome_will_not_serve_by_id_is_left_unread_and_said_so() -> None:
    known = {"invoice": {"inv-1", "inv-2"}, "credit_note": {"cn-1", "cn-gone"}}

    side = read_the_rest(_client(), FincomeSide(), known, None)  # type: ignore[arg-type]

    invoices, notes = side.reads["invoice"], side.reads["credit_note"]
    assert (invoices.how, invoices.unchecked) == ("unread", frozenset({"inv-1", "inv-2"}))
    assert invoices.problem is not None
    assert "405" in invoices.problem
    assert "not checked in Fincome" in invoices.describe("/invoices")
    assert (notes.how, notes.asked, notes.absent) == ("by_id", 2, 1)
    assert set(side.documents) == {"cn-1"}
    assert not side.complete
    assert side.unchecked == {"inv-1", "inv-2"}


def test_a_document_read_by_id_is_worth_its_lines() -> None:
    as_read = json.loads(json.dumps(NOTE), parse_float=Decimal)  # the client's parsing
    held = held_of("credit_note", "cn-1", as_read)

    assert (held.amount, held.currency, held.month, held.counted) == (
        Decimal(10), "EUR", "2026-05", True,
    )  # fmt: skip
    assert held_of("invoice", "inv-9", {"status": "void"}).counted is False


def test_a_sample_is_the_same_every_run_and_a_sample_of_more_is_all() -> None:
    ids = [f"inv-{n}" for n in range(50)]
    assert sample(ids, 5) == sample(reversed(ids), 5)
    assert len(sample(ids, 5)) == 5
    assert set(sample(ids, 500)) == set(sample(ids, None)) == set(ids)
