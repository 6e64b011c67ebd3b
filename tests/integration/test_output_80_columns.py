"""Output readable at 80 columns: record ids whole, rejects grouped by reason (counts, then ids).

The pinned account's rejects are invoices with 36-character UUID ids; `sync`, `rejects` and
`status` print at COLUMNS=80 and every id must appear whole, on lines no wider than 80.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.commands.show import render_rejects
from pipelines.commands.status import render_status
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.reliability.sync_runs import point_cli_at, sync_in_process

WIDTH = {"COLUMNS": "80"}
LONG_ID = "in_" + "9f1c2d3e-4b5a-6789-abcd-ef0123456789" + "-regenerated-2"


def test_sync_and_rejects_show_whole_ids_grouped_by_reason_at_80_columns(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    point_cli_at(monkeypatch, metronome_api, fincome_api)
    rejects = sync_in_process(tmp_path).report["rejects"]
    ids = [r["record_id"] for r in rejects]
    assert ids
    assert all(len(i) >= 36 for i in ids)
    runner = CliRunner()

    for command in ("sync", "rejects", "status"):
        shown = runner.invoke(app, [command, "--data-dir", str(tmp_path)], env=WIDTH)
        lines = shown.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, command
        assert "…" not in shown.stdout, command
        if command != "status":  # status counts rejects per reason; the ids are in rejects
            for record_id in ids:
                assert record_id in shown.stdout, (command, record_id)
            reason = rejects[0]["reason"]
            assert any(line.endswith(reason[-20:]) for line in lines), command


def test_a_long_id_stays_whole_in_every_table_at_80_columns() -> None:
    console = Console(width=80, record=True, markup=False, highlight=False)
    reason = "custom pricing unit with no [mapping.pricing_units] entry: " + "x" * 40
    rows = [{"stage": "transform", "collection": "invoices", "record_id": LONG_ID,
             "reason": reason, "new": True}]  # fmt: skip
    render_rejects(console, rows, "Set aside")
    render_status(console, _status_with_frozen(LONG_ID, reason))
    text = console.export_text()
    assert text.count(LONG_ID) == 2
    assert max(len(line) for line in text.splitlines()) <= 80


def _status_with_frozen(record_id: str, reason: str) -> dict[str, object]:
    return {
        "scope": {"kind": "account", "index": None, "count": None},
        "runs": [],
        "entities": {},
        "cursor": None,
        "rejects": {
            "open": 1,
            "by_reason": [{"stage": "transform", "collection": "invoices", "reason": reason,
                           "count": 1}],
            "frozen": [{"stage": "transform", "collection": "invoices", "record_id": record_id,
                        "reason": reason, "frozen_since": "2026-11-20T02:00:09+00:00",
                        "frozen_records": 4}],
        },
        "skipped": {"total": 0, "by_reason": []},
    }  # fmt: skip
