"""The second Fincome (`tests/fixtures/other_fincome.py`) speaks DESIGN.md §3 on its own paths.

Its wire is checked directly (routes, statuses, embedded lines, hand edits), then
`billing-sync sync` pushes the pinned Metronome account into it under `/clients` and
`/invoice_lines`, as a team whose Fincome serves those paths would configure it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.fixtures.metronome import MetronomeEmulator
from tests.fixtures.other_fincome import OtherFincome, OtherProfile

runner = CliRunner()
Start = Callable[..., OtherFincome]
INVOICE = (
    b'{"id": "i1", "customer_id": "c1", "date": "2026-04-03T00:00:00Z", "status": "paid",'
    b' "invoice_line_items": [{"id": "l1", "invoice_id": "i1", "currency_code": "EUR",'
    b' "amount_excluding_tax_after_discount": 12.50}]}'
)


@pytest.fixture
def client(other_fincome: Start) -> Iterator[tuple[OtherFincome, httpx.Client]]:
    server = other_fincome()
    headers = {server.header: server.key, "content-type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        yield server, http


def test_records_on_the_profile_paths(client: tuple[OtherFincome, httpx.Client]) -> None:
    server, http = client
    assert http.post("/clients", json={"id": "c1", "name": "Acme"}).status_code == 201
    assert http.post("/clients", json={"id": "c1"}).status_code == 409
    assert http.post("/invoices", content=INVOICE).status_code == 201

    read = http.get("/invoices/i1").json()
    assert [line["id"] for line in read["invoice_line_items"]] == ["l1"]
    assert http.get("/invoice_lines/l1").json()["amount_excluding_tax_after_discount"] == 12.5
    assert http.patch("/invoices/i1", json={"status": "open"}).status_code == 202
    assert server.held("invoices")["i1"]["status"] == "open"
    assert server.held("invoice_line_items")["l1"]["amount_excluding_tax_after_discount"] == (
        Decimal("12.50")
    )
    assert http.delete("/invoices/i1").status_code == 405  # the seed lists no invoice delete
    assert http.delete("/invoice_lines/l1").status_code == 204
    assert http.delete("/invoice_lines/l1").status_code == 404


def test_an_unknown_route_is_not_an_unknown_id(client: tuple[OtherFincome, httpx.Client]) -> None:
    server, http = client
    no_route = http.get("/customers/c1")
    no_record = http.get("/clients/c1")

    assert (no_route.status_code, no_route.json()) == (404, {"detail": "Not Found"})
    assert (no_record.status_code, no_record.json()) == (404, {"detail": "Customer 'c1' not found"})
    assert http.get("/clients/c1", headers={server.header: "wrong"}).status_code == 403
    assert server.requests[-3:] == [
        ("GET", "/customers/c1", 404), ("GET", "/clients/c1", 404), ("GET", "/clients/c1", 403),
    ]  # fmt: skip


def test_hand_edits_and_deletes(client: tuple[OtherFincome, httpx.Client]) -> None:
    server, http = client
    http.post("/invoices", content=INVOICE)

    server.edit("invoice_line_items", "l1", amount_excluding_tax_after_discount=Decimal("1"))
    assert (
        http.get("/invoices/i1").json()["invoice_line_items"][0][
            "amount_excluding_tax_after_discount"
        ]
        == 1
    )
    server.remove("invoices", "i1")
    assert server.held("invoices") == server.held("invoice_line_items") == {}


@pytest.mark.parametrize(
    ("views", "slugs"),
    [
        ("renamed", ["billing_documents", "monthly_billing", "clients"]),
        ("default", ["invoices", "credit_notes"]),
        ("none", []),
    ],
)
def test_views_by_profile(other_fincome: Start, views: str, slugs: list[str]) -> None:
    server = other_fincome(OtherProfile(views=views, metrics=False))  # type: ignore[arg-type]
    with httpx.Client(base_url=server.url, headers={server.header: server.key}) as http:
        assert [view["slug"] for view in http.get("/views").json()] == slugs
        assert http.get("/metrics").json() == []
        for slug in slugs:
            described = http.get(f"/views/{slug}").json()
            assert described["columns"], slug
            page = http.get(f"/views/{slug}/query", params={"limit": 1000}).json()
            assert page["page"]["has_more"] is False


def test_sync_lands_under_the_configured_paths(
    other_fincome: Start,
    metronome_api: MetronomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = other_fincome()
    env = {
        **server.env(),
        "SOURCES__METRONOME__BASE_URL": metronome_api.url,
        "SOURCES__METRONOME__API_TOKEN": metronome_api.token,
        "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    result = runner.invoke(app, ["sync", "--data-dir", str(tmp_path), "--json"])

    assert result.exit_code in (0, 3), result.output
    assert json.loads(result.stdout)["command"] == "sync"
    assert server.held("customers")
    assert server.held("invoice_line_items")
    posted = {path for method, path, _ in server.requests if method == "POST"}
    assert {"/clients", "/invoices"} <= posted
    writes = [(method, status) for method, _, status in server.requests if method != "GET"]
    assert all(status in (201, 202, 204) for _, status in writes), writes
