"""`billing-sync reconcile` in-process: a synced account agrees, tampering is named per invoice.

Each test syncs the pinned Metronome account (12 customers x 6 months) into a fresh Fincome
emulator with `run_extract` + `run_push`, then changes one side behind billing-sync's back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from destinations.fincome import FincomeSettings
from pipelines.cli import app
from pipelines.datadir import DataDir, resolve_data_dir, run_lock
from pipelines.extract import ExtractOptions, run_extract
from pipelines.push import run_push
from pipelines.transform.options import MappingOptions
from sources.metronome import MetronomeSettings
from tests.fixtures.fincome import FincomeEmulator, invoice_body, line_body, to_json
from tests.fixtures.metronome import MetronomeEmulator

MONEY = re.compile(r"^-?\d+(\.\d+)?$")
runner = CliRunner()


@dataclass
class Synced:
    data_dir: DataDir
    metronome: MetronomeEmulator
    fincome: FincomeEmulator

    def extract(self, *, full_refresh: bool = False) -> None:
        settings = MetronomeSettings(
            api_token=self.metronome.token, base_url=self.metronome.url, requests_per_second=0
        )
        run_extract(self.data_dir, settings, ExtractOptions(full_refresh=full_refresh))

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.data_dir.duckdb_path)) as db:
            return db.execute(query, list(params)).fetchall()

    def reconcile(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = runner.invoke(app, ["reconcile", "--data-dir", str(self.data_dir.root), *args])
        assert "Traceback" not in result.output
        return result.exit_code, json.loads(result.stdout)

    def invoices_with_lines(self, at_least: int) -> list[str]:
        """Ledger invoices (not void) with at least that many lines, by id."""
        rows = self.sql(
            "SELECT parent_id FROM fincome_sync.ledger WHERE collection = 'invoice_line_items' "
            "AND parent_id IN (SELECT id FROM fincome_sync.ledger WHERE collection = 'invoices' "
            "AND body->>'status' <> 'void') GROUP BY parent_id HAVING count(*) >= ? ORDER BY 1",
            at_least,
        )
        return [row[0] for row in rows]


@pytest.fixture
def synced(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Synced:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome_api.api_key)
    monkeypatch.setenv("DESTINATION__FINCOME__REQUESTS_PER_SECOND", "0")
    account = Synced(resolve_data_dir(tmp_path / "data"), metronome_api, fincome_api)
    account.extract()
    fincome = FincomeSettings(
        api_key=fincome_api.api_key, base_url=fincome_api.url, requests_per_second=None
    )
    run_push(account.data_dir, fincome, MappingOptions())
    return account


def _expected_net_by_currency(revenue: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Net per currency straight from the emulator's revenue invoices, converted, rounded."""
    factors = {"USD (cents)": ("USD", Decimal("0.01")), "EUR": ("EUR", Decimal(1))}
    nets: dict[str, Decimal] = {}
    for invoice in revenue:
        unit = factors.get(invoice["credit_type"]["name"])
        external = (invoice.get("external_invoice") or {}).get("external_status")
        if unit is None or external in ("VOID", "DELETED"):
            continue
        currency, factor = unit
        total = (Decimal(invoice["total"]) * factor).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        nets[currency] = nets.get(currency, Decimal(0)) + total
    return nets


def test_a_synced_account_agrees_month_by_month(synced: Synced) -> None:
    code, out = synced.reconcile("--json")

    assert (code, out["status"], out["agrees"]) == (0, "ok", True)
    assert out["differences"] == []
    assert out["months"], "the account has invoices"
    for month in out["months"]:
        assert month["metronome"] == month["ledger"] == month["fincome"], month["month"]
        metrics = month["fincome_metrics"]
        assert metrics == {
            "invoiced": month["fincome"]["invoiced"],
            "revenue": month["fincome"]["net"],
        }
    nets = {c: Decimal(t["metronome"]["net"]) for c, t in out["totals"]["by_currency"].items()}
    assert nets == _expected_net_by_currency(synced.metronome.revenue_invoices())
    assert any(Decimal(t["metronome"]["credited"]) for t in out["totals"]["by_currency"].values())
    custom_unit = {
        i["id"]
        for i in synced.metronome.state()["invoices"]
        if i["credit_type"]["name"] == "Cloud credits" and i["status"] != "DRAFT"
    }
    assert {item["invoice_id"] for item in out["not_mappable"]} == custom_unit


def test_invoices_left_out_are_in_the_headline_not_a_green_verdict(synced: Synced) -> None:
    code, out = synced.reconcile("--json")

    assert out["not_mappable"], "the pinned account bills some invoices in a custom unit"
    assert (code, out["agrees"], out["verdict"]) == (0, True, "incomplete")
    assert out["summary"][0] == out["headline"]
    assert not out["headline"].startswith("Everything agrees")
    assert f"{len(out['not_mappable'])} invoices left out of every total" in out["headline"]
    assert any(step.startswith("`billing-sync rejects`") for step in out["next_steps"])
    named = {item["customer_id"]: item["customer_name"] for item in out["not_mappable"]}
    staged = dict(synced.sql("SELECT id, name FROM metronome_raw.customers"))
    assert named == {customer: staged[customer] for customer in named}
    assert all(name in " ".join(out["summary"]) for name in list(named.values())[:3])

    page = runner.invoke(app, ["reconcile", "--data-dir", str(synced.data_dir.root)])
    assert "Everything agrees" not in page.stdout
    assert "billing-sync rejects" in page.stdout


def test_the_emulator_s_views_and_metrics_are_chosen_by_their_columns(synced: Synced) -> None:
    code, out = synced.reconcile("--json")

    assert code == 0
    read = out["fincome_read"]
    assert (read["invoices"]["how"], read["invoices"]["view"]) == ("view", "invoices")
    assert (read["credit_notes"]["how"], read["credit_notes"]["view"]) == ("view", "credit_notes")
    assert read["credit_notes"]["columns"]["amount"] == "credited_amount"
    assert read["metrics"] == {"invoiced": "invoiced", "revenue": "revenue"}
    assert {"invoices", "credit_notes", "invoice_line_items"} <= set(read["views_offered"])
    assert read["problems"] == []
    assert out["not_checked"] == [f"{len(out['not_mappable'])} Metronome invoices left out of "
                                  "every total (not mappable)."]  # fmt: skip


def test_tampering_is_named_down_to_the_invoice(synced: Synced) -> None:
    short_of_a_line, changed_in_ledger = synced.invoices_with_lines(3)[:2]
    [voided] = [
        i["id"]
        for i in synced.metronome.state()["invoices"]
        if i["status"] == "FINALIZED"
        and i["credit_type"]["name"] == "EUR"
        and i["id"] not in (short_of_a_line, changed_in_ledger)
    ][:1]
    [(line_id,)] = synced.sql(
        "SELECT min(id) FROM fincome_sync.ledger WHERE parent_id = ?", short_of_a_line
    )
    with synced.fincome.client() as fincome:
        assert fincome.delete(f"/invoice_line_items/{line_id}").is_success
    synced.metronome.patch(voided, status="VOID")
    synced.extract(full_refresh=True)  # staging only: nothing is pushed
    synced.sql(
        "UPDATE fincome_sync.ledger SET body = json_merge_patch(body, "
        '\'{"amount_excluding_tax_after_discount": "1.23"}\') '
        "WHERE id = (SELECT min(id) FROM fincome_sync.ledger WHERE parent_id = ?)",
        changed_in_ledger,
    )

    code, out = synced.reconcile("--json")

    assert (code, out["status"], out["agrees"]) == (3, "differs", False)
    kinds = {d["invoice_id"]: d["kind"] for d in out["differences"]}
    assert kinds == {
        short_of_a_line: "amount_differs",
        voided: "status_differs",
        changed_in_ledger: "amount_differs",
    }
    by_id = {d["invoice_id"]: d for d in out["differences"]}
    assert by_id[voided]["metronome"]["status"] == "void"
    assert by_id[voided]["fincome"]["status"] != "void"
    short = by_id[short_of_a_line]
    assert short["fincome"]["amount"] != short["metronome"]["amount"]
    assert short["ledger"]["amount"] == short["metronome"]["amount"]
    differing = {(m["month"], m["currency"]) for m in out["months"] if not m["agrees"]}
    assert differing == {(d["month"], d["currency"]) for d in out["differences"]}


def test_missing_and_unknown_documents_are_told_apart(synced: Synced) -> None:
    [(credit_note,)] = synced.sql(
        "SELECT id FROM fincome_sync.ledger WHERE collection = 'credit_notes' LIMIT 1"
    )
    [not_pushed, *_] = synced.invoices_with_lines(1)
    stranger = invoice_body("not-from-metronome", customer_id=_a_customer(synced), lines=[
        line_body("not-from-metronome:L0", "not-from-metronome", "42.00")
    ])  # fmt: skip
    with synced.fincome.client() as fincome:
        assert fincome.delete(f"/credit_notes/{credit_note}").is_success
        assert fincome.post("/invoices", content=to_json(stranger)).is_success
    synced.sql(
        "DELETE FROM fincome_sync.ledger WHERE id = ? OR parent_id = ?", not_pushed, not_pushed
    )

    code, out = synced.reconcile("--json")

    assert code == 3
    assert {d["invoice_id"]: d["kind"] for d in out["differences"]} == {
        credit_note: "missing_in_fincome",
        not_pushed: "missing_in_ledger",
        "not-from-metronome": "unknown_to_metronome",
    }
    assert out["totals"]["differences_by_kind"] == {
        "missing_in_fincome": 1, "missing_in_ledger": 1, "unknown_to_metronome": 1,
    }  # fmt: skip


def test_json_shape(synced: Synced) -> None:
    [tampered, *_] = synced.invoices_with_lines(2)
    synced.sql("DELETE FROM fincome_sync.ledger WHERE parent_id = ?", tampered)

    code, out = synced.reconcile("--json")

    assert code == 3
    assert set(out) == {
        "command", "status", "exit_code", "data_dir", "agrees", "summary", "months",
        "differences", "not_mappable", "totals", "metrics_checked", "fincome_requests",
        "duration_seconds", "report", "verdict", "headline", "next_steps", "not_checked",
        "fincome_read",
    }  # fmt: skip
    assert set(out["fincome_read"]) == {
        "invoices", "credit_notes", "metrics", "views_offered", "metrics_offered", "problems",
    }  # fmt: skip
    assert set(out["fincome_read"]["invoices"]) == {
        "how", "view", "columns", "read_by_id", "absent", "not_checked", "description",
    }  # fmt: skip
    assert (out["command"], out["exit_code"], out["report"]) == ("reconcile", 3, None)
    assert out["data_dir"] == str(synced.data_dir.root)
    assert all(isinstance(sentence, str) for sentence in out["summary"])
    series = {"invoiced", "credited", "net", "documents"}
    for month in out["months"]:
        assert re.fullmatch(r"\d{4}-\d{2}", month["month"])
        assert set(month) == {
            "month", "currency", "metronome", "ledger", "fincome", "fincome_metrics", "agrees",
        }  # fmt: skip
        for source in ("metronome", "ledger", "fincome"):
            assert set(month[source]) == series
            assert all(MONEY.match(month[source][k]) for k in ("invoiced", "credited", "net"))
    [difference] = out["differences"]
    assert set(difference) == {
        "invoice_id", "document", "customer_id", "customer_name", "month", "currency", "kind",
        "metronome", "ledger", "fincome", "fincome_checked", "explanation", "next_step",
    }  # fmt: skip
    assert difference["next_step"] == "billing-sync sync"  # the ledger lost it: push again
    assert (difference["invoice_id"], difference["kind"]) == (tampered, "amount_differs")
    assert set(difference["metronome"]) == {"amount", "currency", "status", "month", "counted"}
    assert MONEY.match(difference["ledger"]["amount"])
    assert set(out["not_mappable"][0]) == {
        "invoice_id", "customer_id", "customer_name", "status", "month", "total",
        "credit_type", "reason",
    }  # fmt: skip
    assert out["totals"]["differences"] == 1
    assert out["fincome_requests"]["attempts"] >= 4  # two views, two metrics
    assert out["fincome_requests"]["by_status"] == {"200": out["fincome_requests"]["attempts"]}


def test_the_report_and_the_tables_for_people(synced: Synced, tmp_path: Path) -> None:
    [tampered, *_] = synced.invoices_with_lines(2)
    synced.sql("DELETE FROM fincome_sync.ledger WHERE parent_id = ?", tampered)
    report = tmp_path / "reports" / "reconcile.html"

    code, out = synced.reconcile("--report", str(report), "--json")
    assert (code, out["report"]) == (3, str(report))
    page = report.read_text(encoding="utf-8")
    assert tampered in page
    assert "Differences found" in page

    wide = {"COLUMNS": "250"}  # one table row per line
    shown = runner.invoke(app, ["reconcile", "--data-dir", str(synced.data_dir.root)], env=wide)
    assert shown.exit_code == 3
    assert "Amount differs" in shown.stdout
    assert tampered in shown.stdout
    assert "Something differs: 1 invoice or credit note does not match" in shown.stdout


def test_a_missing_fincome_key_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["reconcile", "--data-dir", str(tmp_path), "--json"])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    out = json.loads(result.stdout)
    assert out["key"] == "DESTINATION__FINCOME__API_KEY"
    assert "DESTINATION__FINCOME__API_KEY" in out["error"]


def test_a_key_fincome_refuses_exits_2_naming_it(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = resolve_data_dir(tmp_path / "data")  # made, and checked writable
    with duckdb.connect(str(data_dir.duckdb_path)) as db:  # staged, if nothing much
        db.execute("CREATE SCHEMA metronome_raw; CREATE TABLE metronome_raw.invoices (id VARCHAR)")
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", "not-the-key")
    result = runner.invoke(app, ["reconcile", "--data-dir", str(data_dir.root), "--json"])

    assert result.exit_code == 2
    out = json.loads(result.stdout)
    assert out["key"] == "DESTINATION__FINCOME__API_KEY"
    assert "refused" in out["error"]
    assert "not-the-key" not in result.output


def test_nothing_extracted_exits_2_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", "some-key")
    result = runner.invoke(app, ["reconcile", "--data-dir", str(tmp_path / "data"), "--json"])

    assert result.exit_code == 2
    assert "billing-sync extract" in json.loads(result.stdout)["error"]
    assert not (tmp_path / "data" / "billing_sync.duckdb").exists()


def test_another_run_holding_the_data_dir_exits_75(synced: Synced) -> None:
    with run_lock(synced.data_dir):
        code, out = synced.reconcile("--json")
    assert (code, out["status"]) == (75, "locked")


def _a_customer(synced: Synced) -> str:
    [(customer_id,)] = synced.sql(
        "SELECT id FROM fincome_sync.ledger WHERE collection = 'customers' ORDER BY id LIMIT 1"
    )
    return str(customer_id)
