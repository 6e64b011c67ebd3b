"""`billing-sync repair` against our emulator and against a second Fincome that is not it.

The two bugs of issue 20, each first shown on the code as it was (a sync, even with
`--full-refresh`, leaves Fincome wrong), then repaired:
- a record changed or deleted by hand in Fincome is never sent again;
- a lost data dir against a populated Fincome leaves lines the new bodies no longer have
  (the create meets 409, becomes an update, and the update never removes a line).
Fincome is right when its records, as canonical bodies, are exactly the desired state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from destinations.fincome.schema import PUSH_ORDER
from pipelines.cli import app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.fixtures.other_fincome import OtherFincome
from tests.integration.bodies import canonical, desired
from tests.integration.hand_edits import Fincome, a_line_more, an_invoice_with_lines, cli
from tests.reliability.sync_runs import pair_env

pytest_plugins = ["tests.fixtures.other_fincome", "tests.integration.hand_edits"]
runner = CliRunner()


SHAPE = {
    "command",
    "status",
    "exit_code",
    "data_dir",
    "dry_run",
    "resumed",
    "collections",
    "findings",
    "pending",
    "push",
    "requests",
    "duration_seconds",
}
TALLY = {"read", "missing", "differing", "extra", "repaired", "requests", "seconds"}


def wrong(fincome: Fincome, data_dir: Path) -> dict[str, set[str]]:
    """Per collection, the ids whose Fincome copy is not the desired body (or not desired)."""
    wanted, held = desired(data_dir), canonical(fincome.held())
    found = {}
    for spec in PUSH_ORDER:
        have, want = held[spec.name], wanted[spec.name]
        ids = {i for i in want if have.get(i) != want[i]} | (set(have) - set(want))
        if ids:
            found[spec.name] = ids
    return found


def ledger_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(data_dir / "billing_sync.duckdb"), read_only=True) as db:
        query = "SELECT collection, id, row_hash FROM fincome_sync.ledger ORDER BY 1, 2"
        return db.execute(query).fetchall()


def test_records_changed_or_deleted_by_hand_are_repaired(fincome: Fincome, tmp_path: Path) -> None:
    data_dir = str(tmp_path)
    code, _ = cli("sync", "--data-dir", data_dir)
    assert code in (0, 3)
    assert wrong(fincome, tmp_path) == {}
    invoice_id, (kept, removed, *_) = an_invoice_with_lines(tmp_path, 2)
    customer_id = next(iter(desired(tmp_path)["customers"]))
    fincome.edit("invoices", invoice_id, status="unpaid")
    fincome.edit("customers", customer_id, name="Renamed by hand")
    fincome.remove("invoice_line_items", removed)
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )
    hand_made = {
        "invoices": {invoice_id},
        "customers": {customer_id},
        "invoice_line_items": {removed, f"{invoice_id}:gone"},
    }

    cli("sync", "--full-refresh", "--data-dir", data_dir)
    assert wrong(fincome, tmp_path) == hand_made  # the bug: never repaired, even so

    ledger = ledger_rows(tmp_path)
    code, report = cli("repair", "--dry-run", "--data-dir", data_dir)
    assert code == 0
    assert report["dry_run"] is True
    assert report["push"] is None
    assert wrong(fincome, tmp_path) == hand_made  # a dry run writes nothing
    assert ledger_rows(tmp_path) == ledger
    found = {(f["collection"], f["id"], f["finding"]) for f in report["findings"]}
    assert found == {
        ("invoices", invoice_id, "differs"),
        ("customers", customer_id, "differs"),
        ("invoice_line_items", removed, "missing"),
        ("invoice_line_items", f"{invoice_id}:gone", "extra"),
    }

    code, report = cli("repair", "--data-dir", data_dir)
    assert code in (0, 3)
    assert wrong(fincome, tmp_path) == {}
    assert set(report) == SHAPE  # as pipelines/commands/repair.py documents it
    assert set(report["collections"]["invoices"]) == TALLY
    lines = report["collections"]["invoice_line_items"]
    assert (lines["missing"], lines["extra"], lines["repaired"]) == (1, 1, 2)
    assert report["collections"]["invoices"]["differing"] == 1
    assert report["collections"]["customers"]["repaired"] == 1

    code, report = cli("repair", "--data-dir", data_dir)
    assert report["findings"] == []
    assert report["push"]["steps"] == {}


def test_a_lost_data_dir_against_a_populated_fincome(fincome: Fincome, tmp_path: Path) -> None:
    first, lost, again = tmp_path / "first", tmp_path / "lost", tmp_path / "again"
    code, _ = cli("sync", "--data-dir", str(first))
    assert code in (0, 3)
    invoice_id, (kept, *_) = an_invoice_with_lines(first, 1)
    # the line an older body had, and that the new one no longer has
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )

    cli("sync", "--data-dir", str(lost))
    assert wrong(fincome, lost) == {"invoice_line_items": {f"{invoice_id}:gone"}}  # the bug
    code, report = cli("repair", "--data-dir", str(lost))
    assert code in (0, 3)
    assert wrong(fincome, lost) == {}
    assert report["collections"]["invoice_line_items"]["extra"] == 1

    # the way the README gives after a lost data dir: extract, then repair (no sync)
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )
    reads = fincome.reads()
    assert cli("extract", "--data-dir", str(again))[0] in (0, 3)
    code, report = cli("repair", "--data-dir", str(again))
    assert code in (0, 3)
    assert wrong(fincome, again) == {}
    records = sum(len(ids) for ids in desired(again).values())
    totals = {k: sum(c[k] for c in report["collections"].values()) for k in ("read", "repaired")}
    assert totals == {"read": records + 1, "repaired": 1}  # one delete; nothing sent again
    lines = len(desired(again)["invoice_line_items"]) + len(
        desired(again)["credit_note_line_items"]
    )
    assert fincome.reads() - reads == records - lines  # lines come inside their documents


def test_a_new_data_dir_with_nothing_staged_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["repair", "--data-dir", str(tmp_path)],
        env={
            "DESTINATION__FINCOME__API_KEY": "k",
            "DESTINATION__FINCOME__BASE_URL": "http://127.0.0.1:9",
        },
    )
    assert result.exit_code == 0
    assert "billing-sync extract, then billing-sync repair" in result.stdout


def test_a_path_not_served_is_refused_before_the_ledger_is_touched(
    fincome: Fincome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read of an unserved path is a 404: taken as "missing", it would wipe the ledger."""
    assert cli("sync", "--data-dir", str(tmp_path))[0] in (0, 3)
    ledger = ledger_rows(tmp_path)
    monkeypatch.setenv("DESTINATION__FINCOME__PATHS__INVOICES", "/no-such-invoices")

    code, report = cli("repair", "--data-dir", str(tmp_path))

    assert code == 2
    assert report["key"] == "DESTINATION__FINCOME__PATHS__INVOICES"
    assert ledger_rows(tmp_path) == ledger


def test_another_empty_fincome_is_refused_before_anything_is_read_or_sent(
    fincome_api: FincomeEmulator,
    metronome_api: MetronomeEmulator,
    other_fincome: Callable[..., OtherFincome],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against the wrong Fincome every record reads as missing: repair would forget the
    ledger and push the whole account there."""
    env = pair_env(
        metronome_url=metronome_api.url,
        token=metronome_api.token,
        fincome_url=fincome_api.url,
        key=fincome_api.api_key,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli("sync", "--data-dir", str(tmp_path))[0] in (0, 3)
    ledger = ledger_rows(tmp_path)
    elsewhere = other_fincome()
    for name, value in elsewhere.env().items():
        monkeypatch.setenv(name, value)

    code, report = cli("repair", "--data-dir", str(tmp_path))

    assert code == 2
    assert report["key"] == str(tmp_path / "accounts.json")
    assert ledger_rows(tmp_path) == ledger
    assert [r for r in elsewhere.requests if r[0] != "GET"] == []
