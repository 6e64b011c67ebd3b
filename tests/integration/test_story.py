"""`billing-sync show invoice|customer ID` against our emulator and the second Fincome.

One record's story after a sync and a few hand edits in Fincome: what Metronome sent, what it
mapped to, what the ledger pushed, and what Fincome holds now, from one read.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from pipelines.cli import app
from tests.integration.hand_edits import Fincome, a_line_more, an_invoice_with_lines, cli

pytest_plugins = ["tests.fixtures.other_fincome", "tests.integration.hand_edits"]
runner = CliRunner()


def synced(fincome: Fincome, data_dir: Path) -> tuple[str, list[str]]:
    """Sync, then change an invoice by hand: its status, a line removed, a line added."""
    assert cli("sync", "--data-dir", str(data_dir))[0] in (0, 3)
    invoice_id, (kept, removed, *_) = an_invoice_with_lines(data_dir, 2)
    fincome.edit("invoices", invoice_id, status="unpaid")
    fincome.remove("invoice_line_items", removed)
    like = fincome.held()["invoice_line_items"][kept]
    fincome.add("invoice_line_items", a_line_more(invoice_id, like))
    return invoice_id, [kept, removed]


def test_an_invoice_story(fincome: Fincome, tmp_path: Path) -> None:
    invoice_id, (kept, removed) = synced(fincome, tmp_path)
    reads = fincome.reads()

    code, story = cli("show", "invoice", invoice_id, "--data-dir", str(tmp_path))

    assert code == 0
    assert set(story) == {
        "command",
        "status",
        "exit_code",
        "data_dir",
        "kind",
        "id",
        "metronome",
        "records",
        "owned",
        "skipped",
        "rejects",
        "fincome_read",
        "requests",
        "mapped",
    }  # as pipelines/commands/story.py documents it
    assert fincome.reads() - reads == 1  # one read: the invoice comes with its lines
    assert story["requests"] == 1
    assert story["metronome"]["id"] == invoice_id
    records = {(r["collection"], r["id"]): r for r in story["records"]}
    invoice = records["invoices", invoice_id]
    assert story["records"][0] is not None
    assert invoice["differs"] == ["status"]
    assert invoice["pushed_at"] is not None
    assert invoice["pushed_as_desired"] is True
    assert records["invoice_line_items", removed]["fincome"] is None  # missing
    assert records["invoice_line_items", kept]["differs"] == []
    extra = records["invoice_line_items", f"{invoice_id}:gone"]
    assert extra["desired"] is None
    assert extra["fincome"]["id"] == extra["id"]

    # a line's id shows its invoice
    code, by_line = cli("show", "invoice", kept, "--data-dir", str(tmp_path))
    assert (code, by_line["id"]) == (0, invoice_id)

    # a negative correction's id shows the credit note it became
    with duckdb.connect(str(tmp_path / "billing_sync.duckdb"), read_only=True) as db:
        [(credit_note_id,)] = db.execute("SELECT min(id) FROM fincome.credit_notes").fetchall()
    code, credit = cli("show", "invoice", credit_note_id, "--data-dir", str(tmp_path))
    assert code == 0
    assert {r["collection"] for r in credit["records"]} == {
        "credit_notes",
        "credit_note_line_items",
    }
    assert credit["records"][0]["differs"] == []


def test_a_customer_story(fincome: Fincome, tmp_path: Path) -> None:
    assert cli("sync", "--data-dir", str(tmp_path))[0] in (0, 3)
    with duckdb.connect(str(tmp_path / "billing_sync.duckdb"), read_only=True) as db:
        [(customer_id, invoices)] = db.execute(
            "SELECT mapped_from, count(*) FROM fincome.mapped_rows WHERE collection = 'invoices' "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchall()
    fincome.edit("customers", customer_id, name="Renamed by hand")

    code, story = cli("show", "customer", customer_id, "--data-dir", str(tmp_path))

    assert code == 0
    assert story["metronome"]["id"] == customer_id
    [customer] = story["records"]
    assert customer["differs"] == ["name"]
    assert story["owned"]["invoices"] == {
        "desired": invoices,
        "pushed": invoices,
        "as_desired": invoices,
    }
    assert story["requests"] == 1


def test_readable_at_80_columns_with_ids_whole(fincome: Fincome, tmp_path: Path) -> None:
    invoice_id, (kept, removed) = synced(fincome, tmp_path)

    shown = runner.invoke(
        app, ["show", "invoice", invoice_id, "--data-dir", str(tmp_path)], env={"COLUMNS": "80"}
    ).stdout

    lines = shown.splitlines()
    for record_id in (invoice_id, kept, removed, f"{invoice_id}:gone"):
        assert any(record_id in line for line in lines), record_id  # never cut
    too_long = [line for line in lines if len(line) > 80 and len(line.split()) > 1]
    assert too_long == []
    assert "differs: status unpaid there, paid here" in " ".join(shown.split())
    assert "billing-sync repair" in shown


def test_an_id_nobody_knows_exits_2(fincome: Fincome, tmp_path: Path) -> None:
    assert cli("sync", "--data-dir", str(tmp_path))[0] in (0, 3)
    code, answer = cli("show", "invoice", "no-such-invoice", "--data-dir", str(tmp_path))
    assert code == 2
    assert "no-such-invoice" in answer["error"]


def test_a_data_dir_only_extracted_still_shows_what_fincome_holds(
    fincome: Fincome, tmp_path: Path
) -> None:
    first, lost = tmp_path / "first", tmp_path / "lost"
    invoice_id, _ = synced(fincome, first)
    assert cli("extract", "--data-dir", str(lost))[0] in (0, 3)

    code, story = cli("show", "invoice", invoice_id, "--data-dir", str(lost))
    shown = runner.invoke(app, ["show", "invoice", invoice_id, "--data-dir", str(lost)]).stdout

    assert code == 0
    assert story["mapped"] is False
    assert story["metronome"]["id"] == invoice_id
    assert story["records"][0]["fincome"]["status"] == "unpaid"
    assert "nothing is mapped yet" in shown
    assert "not desired" not in shown
