"""`billing-sync sync` end to end: both emulators on loopback, the CLI in-process.

Fincome must end up holding exactly the mapped state, a re-run must write nothing, and an
upstream void, regeneration or vanished line must cost exactly the writes it needs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.transform.money import MappingError, resolve_currency
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import to_decimal
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import Bodies, canonical, desired

runner = CliRunner()


@pytest.fixture
def configured(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", metronome_api.url)
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", metronome_api.token)
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome_api.api_key)
    monkeypatch.setenv("DESTINATION__FINCOME__REQUESTS_PER_SECOND", "0")


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def held(fincome: FincomeEmulator) -> Bodies:
    return canonical(fincome.state())


@pytest.mark.usefixtures("configured")
def test_sync_leaves_fincome_holding_exactly_the_mapped_state_then_writes_nothing(
    fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    code, report = cli("sync", "--data-dir", str(tmp_path))
    # the pinned account bills a few invoices in a custom pricing unit: set aside, exit 3
    assert code == 3
    assert {(r["stage"], r["collection"]) for r in report["rejects"]} == {("transform", "invoices")}
    state = desired(tmp_path)
    assert all(state[name] for name in ("customers", "invoices", "invoice_line_items"))
    assert held(fincome_api) == state
    # one write per entity group: lines ride inside their invoice's create
    groups = sum(len(state[c]) for c in state if not c.endswith("line_items"))
    assert report["push"]["requests"]["attempts"] == groups

    before = fincome_api.writes()
    code, again = cli("sync", "--data-dir", str(tmp_path))
    assert code == 0  # the same records are still set aside, none newly: no alert again
    assert fincome_api.writes() == before  # its pre-flight reads, and writes nothing
    assert again["push"]["done"] == {}


@pytest.mark.usefixtures("configured")
def test_a_void_and_its_regeneration_upstream_cost_one_patch_and_one_create(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    cli("sync", "--data-dir", str(tmp_path))
    invoice_id = _latest_finalized_usd_invoice(metronome_api)
    assert metronome_api.request("POST", "/v1/invoices/void", json={"id": invoice_id}).is_success
    regenerated = metronome_api.request("POST", "/v1/invoices/regenerate", json={"id": invoice_id})
    new_id = regenerated.json()["data"]["id"]
    logged = fincome_api.requests()["total"]

    cli("sync", "--data-dir", str(tmp_path))

    assert writes_since(fincome_api, logged) == [
        ("PATCH", f"/invoices/{invoice_id}"),
        ("POST", "/invoices"),
    ]
    stored = fincome_api.state()["invoices"]
    assert stored[invoice_id]["status"] == "void"
    assert new_id in stored
    assert held(fincome_api) == desired(tmp_path)


@pytest.mark.usefixtures("configured")
def test_a_line_that_disappears_upstream_is_deleted(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    cli("sync", "--data-dir", str(tmp_path))
    invoice_id = _latest_finalized_usd_invoice(metronome_api, lines=2)
    customer_id = _customer_of(metronome_api, invoice_id)
    invoice = metronome_api.get(f"/v1/customers/{customer_id}/invoices/{invoice_id}")["data"]
    dropped = invoice["line_items"].pop()
    total = float(to_decimal(invoice["total"]) - to_decimal(dropped["total"]))  # exact: cents
    metronome_api.patch(invoice_id, line_items=invoice["line_items"], total=total, subtotal=total)
    logged = fincome_api.requests()["total"]

    cli("sync", "--data-dir", str(tmp_path))

    deletes = [w for w in writes_since(fincome_api, logged) if w[0] == "DELETE"]
    assert deletes
    assert all(path.startswith(f"/invoice_line_items/{invoice_id}:") for _, path in deletes)
    assert held(fincome_api) == desired(tmp_path)


@pytest.mark.usefixtures("configured")
def test_a_credit_note_voided_upstream_is_deleted_once_with_each_of_its_lines(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    cli("sync", "--data-dir", str(tmp_path))
    held_notes = fincome_api.state()["credit_notes"]
    note_id = sorted(held_notes)[-1]
    lines = sorted(
        line_id
        for line_id, line in fincome_api.state()["credit_note_line_items"].items()
        if line["credit_note_id"] == note_id
    )
    assert lines
    assert metronome_api.request("POST", "/v1/invoices/void", json={"id": note_id}).is_success
    logged = fincome_api.requests()["total"]

    cli("sync", "--full-refresh", "--data-dir", str(tmp_path))  # an old invoice: re-read all

    answered = [
        (r["method"], r["path"], r["status"])
        for r in fincome_api.requests()["requests"]
        if r["seq"] > logged and r["method"] == "DELETE"
    ]
    # lines first (in any order among themselves), each once: a second round of them used
    # to answer 404; then the credit note
    assert sorted(answered[:-1]) == [
        ("DELETE", f"/credit_note_line_items/{line_id}", 204) for line_id in lines
    ]
    assert answered[-1] == ("DELETE", f"/credit_notes/{note_id}", 204)
    assert note_id not in fincome_api.state()["credit_notes"]


@pytest.mark.usefixtures("configured")
def test_fincome_revenue_and_invoiced_equal_metronome_totals_per_month_and_currency(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    cli("sync", "--data-dir", str(tmp_path))
    expected = _metronome_totals(metronome_api.state(), metronome_api.revenue_invoices())
    months = sorted({month for month, _ in expected["net"]})
    for metric, series in (("revenue", "net"), ("invoiced", "invoiced")):
        answer = fincome_api.client().get(
            f"/metrics/{metric}",
            params={
                "date_start": months[0] + "-01",
                "date_end": months[-1] + "-01",
                "dimension": "currency",
            },
        )
        got = {
            (point["period_start"][:7], item["keys"]["currency"]): Decimal(str(point["value"]))
            for item in answer.json()["series"]
            for point in item["points"]
            if point["value"]
        }
        assert got == {k: v for k, v in expected[series].items() if v}, metric


@pytest.mark.usefixtures("configured")
def test_dry_run_prints_the_plan_with_money_and_sends_nothing(
    fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    code, report = cli("sync", "--dry-run", "--data-dir", str(tmp_path))
    assert code == 3
    plan = report["push"]["plan"]
    assert plan["customers"]["create"] > 0
    assert plan["invoice_line_items"]["embedded"] > 0
    assert set(plan["invoices"]["money"]["create"]) == {"EUR", "USD"}
    assert report["push"]["done"] == {}
    assert fincome_api.writes() == 0
    code, push = cli("push", "--data-dir", str(tmp_path))
    assert push["done"]["customers"]["created"] == plan["customers"]["create"]


def writes_since(fincome: FincomeEmulator, seq: int) -> list[tuple[str, str]]:
    return sorted(
        (r["method"], r["path"])
        for r in fincome.requests()["requests"]
        if r["seq"] > seq and r["method"] in {"POST", "PATCH", "DELETE"}
    )


def _customer_of(metronome: MetronomeEmulator, invoice_id: str) -> str:
    return next(i["customer_id"] for i in metronome.state()["invoices"] if i["id"] == invoice_id)


def _latest_finalized_usd_invoice(metronome: MetronomeEmulator, *, lines: int = 1) -> str:
    """A recent plain FINALIZED invoice in USD, inside the extract's lookback window."""
    candidates = [
        i
        for i in metronome.state()["invoices"]
        if i["status"] == "FINALIZED"
        and i["credit_type"]["name"] == "USD (cents)"
        and i.get("type") == "PLAN_ARREARS"
        and len(i["line_items"]) >= lines
        and not i.get("invoice_adjustments")
    ]
    return str(max(candidates, key=lambda i: (i["issued_at"], i["id"]))["id"])


def _metronome_totals(
    state: dict[str, Any], revenue: list[dict[str, Any]]
) -> dict[str, dict[tuple[str, str], Decimal]]:
    """Revenue invoice totals per issue month and currency, converted like the transform:
    `net` counts everything, `invoiced` leaves out negative corrections (credit notes)."""
    options, credit_types = MappingOptions(), {c["id"]: c for c in state["credit_types"]}
    totals: dict[str, dict[tuple[str, str], Decimal]] = {
        "net": defaultdict(Decimal),
        "invoiced": defaultdict(Decimal),
    }
    for invoice in revenue:
        try:
            currency = resolve_currency(invoice["credit_type"], options, credit_types)
        except MappingError:
            continue  # a custom pricing unit: set aside, never pushed
        amount = currency.round(currency.convert(to_decimal(invoice["total"], "total")))
        key = ((invoice.get("issued_at") or invoice["end_timestamp"])[:7], currency.code)
        totals["net"][key] += amount
        if not (invoice.get("correction_record") and amount < 0):
            totals["invoiced"][key] += amount
    return totals
