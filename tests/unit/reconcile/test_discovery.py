"""Choosing Fincome's views and metrics by what they describe, never by slug."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from destinations.fincome import FincomeClient, FincomeSettings
from pipelines.reconcile.discovery import choose_sources, discover, document_view, metric_for

S, N, D = "string", "number", "datetime"


def view(slug: str, *columns: tuple[str, str], as_of: str | None = None) -> dict[str, Any]:
    return {
        "slug": slug,
        "label": slug.title(),
        "columns": [{"name": name, "type": kind, "description": ""} for name, kind in columns],
        "time": {"kind": "point_in_time", "as_of_column": as_of},
    }


EMULATOR_INVOICES = view(
    "invoices", ("id", S), ("customer_id", S), ("date", D), ("status", S),
    ("currency_code", S), ("total_amount", N), ("tax_amount", N), as_of="date",
)  # fmt: skip
EMULATOR_CREDIT_NOTES = view(
    "credit_notes", ("id", S), ("invoice_id", S), ("customer_id", S), ("date", D),
    ("status", S), ("currency_code", S), ("total_amount", N), ("credited_amount", N),
    as_of="date",
)  # fmt: skip
EMULATOR_LINES = view(
    "invoice_line_items", ("id", S), ("invoice_id", S), ("currency_code", S),
    ("amount_excluding_tax_after_discount", N), ("invoice_date", D), as_of="invoice_date",
)  # fmt: skip
CREDIT_NOTE_LINES = view(
    "credit_note_line_items", ("id", S), ("credit_note_id", S), ("amount", N),
    ("currency_code", S), ("credit_note_date", D), as_of="credit_note_date",
)  # fmt: skip
BILLING_DOCUMENTS = view(
    "billing_documents", ("document_id", S), ("kind", S), ("client_id", S), ("issued_on", D),
    ("state", S), ("currency", S), ("amount_incl_lines", N), as_of="issued_on",
)  # fmt: skip
MONTHLY = view("monthly_billing", ("month", S), ("currency", S), ("billed", N), as_of="month")
CUSTOMERS = view("customers", ("id", S), ("name", S), ("created_at", D), as_of="created_at")
AMOUNT_AS_TEXT = view(
    "docs", ("id", S), ("total_amount", S), ("currency", S), ("date", D), as_of="date"
)  # fmt: skip
NO_CURRENCY = view("docs", ("id", S), ("total_amount", N), ("date", D), as_of="date")


@pytest.mark.parametrize(
    ("description", "kind", "columns"),
    [
        (EMULATOR_INVOICES, "invoice", {"id": "id", "amount": "total_amount",
         "currency": "currency_code", "date": "date", "status": "status",
         "customer": "customer_id"}),
        (EMULATOR_CREDIT_NOTES, "credit_note", {"id": "id", "amount": "credited_amount",
         "currency": "currency_code", "date": "date", "status": "status",
         "customer": "customer_id"}),
        (BILLING_DOCUMENTS, None, {"id": "document_id", "amount": "amount_incl_lines",
         "currency": "currency", "date": "issued_on", "status": "state",
         "customer": "client_id", "kind": "kind"}),
        (EMULATOR_LINES, "none", None),  # no document total: lines
        (CREDIT_NOTE_LINES, "none", None),  # an amount, but it names its parent: lines
        (MONTHLY, "none", None),  # totals per month, no document id
        (CUSTOMERS, "none", None),
        (AMOUNT_AS_TEXT, "none", None),  # an amount column that is not a number
        (NO_CURRENCY, "none", None),
    ],
    ids=lambda value: value.get("slug") if isinstance(value, dict) else None,
)  # fmt: skip
def test_a_view_of_documents_is_known_by_its_columns(
    description: dict[str, Any], kind: str | None, columns: dict[str, str] | None
) -> None:
    found = document_view(description)

    if columns is None:
        assert found is None
        return
    assert found is not None
    assert (found.kind, dict(found.columns)) == (kind, columns)


def test_the_date_is_the_view_s_own_time_column_first() -> None:
    described = view(
        "docs", ("id", S), ("date", D), ("booked_at", D), ("currency", S), ("total", N),
        as_of="booked_at",
    )  # fmt: skip
    found = document_view(described)
    assert found is not None
    assert found.columns["date"] == "booked_at"


def metric(slug: str, label: str = "", unit: str = "currency", kind: str = "period",
           dimensions: tuple[str, ...] = ("currency",)) -> dict[str, Any]:  # fmt: skip
    return {
        "slug": slug,
        "label": label or slug,
        "unit": unit,
        "kind": kind,
        "dimensions": [{"id": d, "label": d, "filter_only": False} for d in dimensions],
    }


@pytest.mark.parametrize(
    ("metrics", "invoiced", "revenue"),
    [
        ([metric("invoiced"), metric("revenue"), metric("mrr", kind="point_in_time")],
         "invoiced", "revenue"),
        ([metric("billings", "Billings"), metric("net_billings", "Net billings")],
         "billings", "net_billings"),
        ([metric("x1", "Invoiced"), metric("x2", "Net invoiced")], "x1", "x2"),
        ([metric("invoiced", unit="count"), metric("revenue", kind="point_in_time")],
         None, None),
        ([metric("invoiced", dimensions=("country",))], None, None),  # not by currency
        ([metric("recognized_revenue"), metric("mrr")], None, None),  # unknown meanings
        ([], None, None),
    ],
)  # fmt: skip
def test_a_metric_is_used_only_when_it_means_what_we_compare(
    metrics: list[dict[str, Any]], invoiced: str | None, revenue: str | None
) -> None:
    assert (metric_for("invoiced", metrics), metric_for("revenue", metrics)) == (
        invoiced,
        revenue,
    )


@pytest.mark.parametrize(
    ("listed", "invoices", "credit_notes"),
    [
        ([EMULATOR_INVOICES, EMULATOR_CREDIT_NOTES, EMULATOR_LINES, CUSTOMERS],
         "invoices", "credit_notes"),
        ([MONTHLY, BILLING_DOCUMENTS, CUSTOMERS], "billing_documents", "billing_documents"),
        ([EMULATOR_INVOICES, MONTHLY], "invoices", None),  # credit notes: read by id
        ([MONTHLY, CUSTOMERS], None, None),
        ([], None, None),
    ],
)  # fmt: skip
def test_views_are_chosen_per_kind_of_document(
    listed: list[dict[str, Any]], invoices: str | None, credit_notes: str | None
) -> None:
    # GET /views lists no columns: they come from GET /views/{slug}
    bare = [{**one, "columns": []} for one in listed]
    described = {one["slug"]: one for one in listed}

    choice = choose_sources(bare, described, [{"id": "f", "metrics": [metric("invoiced")]}])

    chosen = {kind: (v.slug if v else None) for kind, v in choice.views.items()}
    assert chosen == {"invoice": invoices, "credit_note": credit_notes}
    assert choice.metrics == {"invoiced": "invoiced"}
    assert choice.views_offered == tuple(one["slug"] for one in listed)
    described_lines = choice.describe()
    assert len(described_lines) == 4
    if invoices is None:
        assert "no view fits" in described_lines[0]
    assert "revenue metric: none known (metrics offered: invoiced)" in described_lines[3]


def test_discovery_survives_a_view_that_will_not_describe_itself_and_no_metrics() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        answers: dict[str, Any] = {
            "/views": [{"slug": "broken", "columns": []}, {**BILLING_DOCUMENTS, "columns": []}],
            "/views/billing_documents": BILLING_DOCUMENTS,
        }
        if request.url.path in answers:
            return httpx.Response(200, json=answers[request.url.path])
        return httpx.Response(404, json={"detail": "Not Found"})

    client = FincomeClient(
        FincomeSettings(api_key="k", base_url="https://fincome.test", max_attempts=1),
        transport=httpx.MockTransport(handle),
    )
    choice = discover(client)

    assert {kind: v.slug if v else None for kind, v in choice.views.items()} == {
        "invoice": "billing_documents",
        "credit_note": "billing_documents",
    }
    assert choice.metrics == {}
    assert choice.problems == (
        "view `broken` could not be described (GET /views/broken answered 404: "
        '{"detail":"Not Found"})',
        "GET /metrics is not served: no metrics",
    )
    assert seen == ["/views", "/views/broken", "/views/billing_documents", "/metrics"]
