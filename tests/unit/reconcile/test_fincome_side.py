"""The Fincome side: views read page by page, metrics per month and currency."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from destinations.fincome import FincomeClient, FincomeSettings
from pipelines.reconcile.discovery import DocumentView, MetricRole
from pipelines.reconcile.fincome import MetricTotals, read_metrics, read_view

D = Decimal
INVOICES = [
    {"id": f"inv-{n}", "customer_id": "cus-1", "currency_code": "USD", "status": "paid",
     "date": "2026-04-02T00:00:00Z", "total_amount": n}
    for n in range(3)
]  # fmt: skip
CREDIT_NOTE = {
    "id": "cn-1", "customer_id": "cus-1", "currency_code": "EUR", "status": "refunded",
    "date": "2026-05-01T00:00:00Z", "total_amount": -12.5, "credited_amount": 12.5,
}  # fmt: skip


def _client(answer: Any, seen: list[httpx.Request]) -> FincomeClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(answer(request)).encode())

    return FincomeClient(
        FincomeSettings(api_key="k", base_url="https://fincome.test"),
        transport=httpx.MockTransport(handle),
    )


def _views(request: httpx.Request) -> dict[str, Any]:
    offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
    rows = INVOICES if "/invoices/" in request.url.path else [CREDIT_NOTE]
    page = rows[offset : offset + 2]  # a server whose pages are smaller than asked
    more = offset + len(page) < len(rows)
    return {"rows": page, "page": {"limit": limit, "offset": offset, "has_more": more}}


COLUMNS = {"id": "id", "currency": "currency_code", "date": "date", "status": "status",
           "customer": "customer_id"}  # fmt: skip
INVOICES_VIEW = DocumentView("invoices", {**COLUMNS, "amount": "total_amount"}, "invoice")
CREDIT_NOTES_VIEW = DocumentView(
    "credit_notes", {**COLUMNS, "amount": "credited_amount"}, "credit_note"
)
MIXED_VIEW = DocumentView(
    "billing_documents",
    {"id": "document_id", "amount": "amount_incl_lines", "currency": "currency",
     "date": "issued_on", "kind": "kind"},
    None,
)  # fmt: skip


def test_documents_come_from_every_page_of_both_views() -> None:
    seen: list[httpx.Request] = []
    client = _client(_views, seen)
    documents = {
        **read_view(client, INVOICES_VIEW, ["invoice"]),
        **read_view(client, CREDIT_NOTES_VIEW, ["credit_note"]),
    }

    assert sorted(documents) == ["cn-1", "inv-0", "inv-1", "inv-2"]
    assert documents["inv-2"].amount == D(2)
    note = documents["cn-1"]
    assert (note.kind, note.amount, note.currency, note.month, note.counted) == (
        "credit_note",
        D("12.5"),
        "EUR",
        "2026-05",
        True,
    )
    assert [(r.url.path, r.url.params["offset"]) for r in seen] == [
        ("/views/invoices/query", "0"),
        ("/views/invoices/query", "2"),
        ("/views/credit_notes/query", "0"),
    ]
    assert {(r.url.params["limit"], r.url.params["order_by"]) for r in seen} == {("1000", "id")}


def _metrics(request: httpx.Request) -> dict[str, Any]:
    slug = request.url.path.rsplit("/", 1)[-1]
    usd = "100.25" if slug == "invoiced" else "90.25"  # the emulator writes sums as text
    return {
        "series": [
            {"keys": {"currency": "USD"}, "points": [
                {"period_start": "2026-03-01", "value": 0},
                {"period_start": "2026-04-01", "value": usd},
            ]},
            {"keys": {"currency": "EUR"}, "points": [
                {"period_start": "2026-03-01", "value": 7},
                {"period_start": "2026-04-01", "value": 0},
            ]},
        ]
    }  # fmt: skip


def test_metrics_are_read_per_currency_over_whole_months() -> None:
    seen: list[httpx.Request] = []
    chosen: dict[MetricRole, str] = {"invoiced": "invoiced", "revenue": "revenue"}
    totals = read_metrics(_client(_metrics, seen), "2026-03", "2026-04", chosen)

    assert totals == {
        ("2026-04", "USD"): MetricTotals(invoiced=D("100.25"), revenue=D("90.25")),
        ("2026-03", "EUR"): MetricTotals(invoiced=D(7), revenue=D(7)),
    }
    assert [dict(r.url.params) for r in seen] == [
        {"date_start": "2026-03-01", "date_end": "2026-04-01", "date_step": "month",
         "dimension": "currency"},
    ] * 2  # fmt: skip
    assert [r.url.path for r in seen] == ["/metrics/invoiced", "/metrics/revenue"]


def test_a_view_of_both_kinds_says_each_row_s_kind_and_other_kinds_are_left_out() -> None:
    rows = [
        {"document_id": "inv-1", "kind": "invoice", "amount_incl_lines": "10.5",
         "currency": "EUR", "issued_on": "2026-04-30T23:00:00Z"},
        {"document_id": "cn-1", "kind": "Credit note", "amount_incl_lines": -3,
         "currency": "EUR", "issued_on": "2026-05-01"},
        {"document_id": "q-1", "kind": "quote", "amount_incl_lines": 1, "currency": "EUR",
         "issued_on": "2026-05-01"},
    ]  # fmt: skip
    client = _client(lambda _: {"rows": rows, "page": {"has_more": False}}, [])

    documents = read_view(client, MIXED_VIEW, ["invoice", "credit_note"])

    assert {d.id: (d.kind, d.amount, d.month, d.status, d.counted) for d in documents.values()} == {
        "inv-1": ("invoice", D("10.5"), "2026-04", "", True),
        "cn-1": ("credit_note", D(3), "2026-05", "", True),
    }
    assert read_view(client, MIXED_VIEW, ["credit_note"]).keys() == {"cn-1"}


def test_a_metric_not_chosen_is_none_in_every_month() -> None:
    seen: list[httpx.Request] = []
    totals = read_metrics(_client(_metrics, seen), "2026-03", "2026-04", {"invoiced": "billings"})

    assert totals[("2026-04", "USD")] == MetricTotals(invoiced=D("90.25"), revenue=None)
    assert [r.url.path for r in seen] == ["/metrics/billings"]
