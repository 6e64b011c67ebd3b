"""`billing-sync reconcile` against a Fincome that is not our emulator (`other_fincome`).

The pinned Metronome account is synced into the second Fincome (customers under `/clients`,
invoice lines under `/invoice_lines`), then reconciled with each profile: views under other
slugs and columns, no views at all, default slugs; and after records were edited and deleted
there by hand. Reconcile must never fail because a slug is absent, must say what it used and
what it could not check, and must point each difference at its next step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from destinations.fincome import FincomeSettings
from pipelines.cli import app
from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import ExtractOptions, run_extract
from pipelines.push import run_push
from pipelines.transform.options import MappingOptions
from sources.metronome import MetronomeSettings
from tests.fixtures.metronome import MetronomeEmulator
from tests.fixtures.other_fincome import OtherFincome, OtherProfile

runner = CliRunner()


@dataclass
class Account:
    data_dir: DataDir
    fincome: OtherFincome

    def reconcile(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = runner.invoke(
            app, ["reconcile", "--data-dir", str(self.data_dir.root), "--json", *args]
        )
        assert "Traceback" not in result.output, result.output
        return result.exit_code, json.loads(result.stdout)

    def ledger(self, collection: str) -> list[str]:
        with duckdb.connect(str(self.data_dir.duckdb_path)) as db:
            rows = db.execute(
                "SELECT id FROM fincome_sync.ledger WHERE collection = ? ORDER BY id", [collection]
            ).fetchall()
        return [row[0] for row in rows]


Sync = Callable[[OtherProfile], Account]


@pytest.fixture
def synced(
    other_fincome: Callable[..., OtherFincome],
    metronome_api: MetronomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Sync:
    def sync(profile: OtherProfile) -> Account:
        fincome = other_fincome(profile)
        for key, value in fincome.env().items():
            monkeypatch.setenv(key, value)
        data_dir = resolve_data_dir(tmp_path / "data")
        metronome = MetronomeSettings(
            api_token=metronome_api.token, base_url=metronome_api.url, requests_per_second=0
        )
        run_extract(data_dir, metronome, ExtractOptions())
        settings = FincomeSettings(
            api_key=fincome.key,
            base_url=fincome.url,
            api_key_header=fincome.header,
            requests_per_second=None,
            paths=dict(profile.paths),
        )
        run_push(data_dir, settings, MappingOptions())
        return Account(data_dir, fincome)

    return sync


def test_renamed_views_are_found_by_their_columns(synced: Sync) -> None:
    account = synced(OtherProfile(views="renamed"))

    code, out = account.reconcile()

    assert (code, out["status"]) == (0, "ok"), out.get("error")
    assert out["months"]
    assert all(month["agrees"] for month in out["months"])
    used = out["fincome_read"]
    assert used["invoices"]["how"] == used["credit_notes"]["how"] == "view"
    assert used["invoices"]["view"] == "billing_documents"
    assert used["invoices"]["columns"]["amount"] == "amount_incl_lines"
    assert out["metrics_checked"] is True
    assert used["metrics"]["invoiced"] == "billings"
    assert used["metrics"] == {"invoiced": "billings", "revenue": "net_billings"}
    assert "monthly_billing" in used["views_offered"]
    assert all(month["fincome_metrics"]["invoiced"] is not None for month in out["months"])


def test_default_slugs_with_metrics_under_other_slugs(synced: Sync) -> None:
    account = synced(OtherProfile(views="default"))

    code, out = account.reconcile()

    assert (code, out["agrees"]) == (0, True), out["summary"]
    used = out["fincome_read"]
    assert (used["invoices"]["view"], used["credit_notes"]["view"]) == ("invoices", "credit_notes")
    assert used["metrics"] == {"invoiced": "billings", "revenue": "net_billings"}


def test_no_views_at_all_reads_every_document_by_id(synced: Sync) -> None:
    account = synced(OtherProfile(views="none", metrics=False))
    invoices, credit_notes = account.ledger("invoices"), account.ledger("credit_notes")

    code, out = account.reconcile()

    assert (code, out["agrees"]) == (0, True), out["summary"]
    used = out["fincome_read"]
    assert (used["invoices"]["how"], used["invoices"]["read_by_id"]) == ("by_id", len(invoices))
    assert used["credit_notes"]["read_by_id"] == len(credit_notes)
    assert used["invoices"]["absent"] == used["invoices"]["not_checked"] == 0
    assert (used["views_offered"], used["metrics_offered"]) == ([], [])
    assert out["metrics_checked"] is False
    assert any("cannot be found this way" in line for line in out["not_checked"])
    assert any("not cross-checked" in line for line in out["not_checked"])
    reads = [path for method, path, _ in account.fincome.requests if method == "GET"]
    assert sum(path.startswith("/invoices/") for path in reads) == len(invoices)
    assert all(month["fincome"] is not None for month in out["months"])  # all were read


def test_a_sample_reads_n_of_each_kind_and_says_the_rest_was_not_checked(synced: Sync) -> None:
    account = synced(OtherProfile(views="none"))
    invoices = account.ledger("invoices")

    code, out = account.reconcile("--sample", "3")

    assert code == 0, out["summary"]
    assert out["verdict"] == "incomplete"
    used = out["fincome_read"]["invoices"]
    assert (used["how"], used["read_by_id"]) == ("sample", 3)
    assert used["not_checked"] >= len(invoices) - 3
    assert all(month["fincome"] is None for month in out["months"])  # partial: not shown
    # Fincome's own metrics still cover the whole account: compared with Metronome
    assert out["metrics_checked"] is True
    assert all(month["agrees"] for month in out["months"])
    assert "Run without `--sample` to read every document by id." in out["next_steps"]
    assert "not everything" in out["headline"]


@pytest.mark.parametrize("views", ["renamed", "none"])
def test_records_edited_and_deleted_by_hand_point_at_repair(synced: Sync, views: str) -> None:
    account = synced(OtherProfile(views=views))  # type: ignore[arg-type]
    fincome = account.fincome
    lines = fincome.held("invoice_line_items")
    edited_invoice = sorted({line["invoice_id"] for line in lines.values()})[0]
    line_id = min(i for i, line in lines.items() if line["invoice_id"] == edited_invoice)
    fincome.edit("invoice_line_items", line_id, amount_excluding_tax_after_discount=Decimal("1"))
    [deleted, *_] = sorted(fincome.held("credit_notes"))
    fincome.remove("credit_notes", deleted)

    code, out = account.reconcile()

    assert (code, out["status"], out["verdict"]) == (3, "differs", "differs")
    found = {d["invoice_id"]: (d["kind"], d["next_step"]) for d in out["differences"]}
    assert found == {
        edited_invoice: ("amount_differs", "billing-sync repair"),
        deleted: ("missing_in_fincome", "billing-sync repair"),
    }
    assert out["next_steps"][0].startswith("`billing-sync repair` for 1 amount differs, 1 missing")
    names = {d["customer_id"]: d["customer_name"] for d in out["differences"]}
    assert all(names.values())
    assert all(f"{name} ({customer})" in out["headline"] for customer, name in names.items())


def test_a_collection_under_a_path_not_configured_is_named_not_assumed_empty(
    synced: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = OtherProfile(
        paths={"customers": "/clients", "invoice_line_items": "/invoice_lines",
               "credit_notes": "/credit_memos"},
        views="none",
    )  # fmt: skip
    account = synced(profile)
    for key, value in account.fincome.env(paths_configured=False).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DESTINATION__FINCOME__PATHS", raising=False)

    code, out = account.reconcile()

    notes = out["fincome_read"]["credit_notes"]
    assert notes["absent"] == notes["read_by_id"] > 0
    assert "does not serve /credit_notes" in notes["description"]
    assert "`billing-sync check` shows which paths" in " ".join(out["next_steps"])
    assert code == 3  # reported as missing, and said why that may be the path
    assert out["fincome_read"]["invoices"]["absent"] == 0


def test_the_terminal_names_what_it_used_and_the_next_steps(
    synced: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = synced(OtherProfile(views="renamed"))
    [deleted, *_] = sorted(account.fincome.held("credit_notes"))
    account.fincome.remove("credit_notes", deleted)

    shown = runner.invoke(
        app, ["reconcile", "--data-dir", str(account.data_dir.root)], env={"COLUMNS": "80"}
    )

    assert shown.exit_code == 3, shown.output
    text = " ".join(shown.stdout.split())
    assert "Next steps:" in text
    assert "billing-sync repair" in text
    assert "read from view `billing_documents`" in text
    assert f"Missing in Fincome: credit note {deleted} (" in shown.stdout  # one line, whole
    assert "  next: billing-sync repair" in shown.stdout
