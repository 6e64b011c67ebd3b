"""Exit 3 means something new: a run exits 3 only for records it set aside that were not
set aside when it began; the same old rejects on the next run are listed, exit 0."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.reliability.sync_runs import point_cli_at, sync_in_process


def test_a_second_run_lists_the_same_old_rejects_and_exits_0(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    point_cli_at(monkeypatch, metronome_api, fincome_api)

    first = sync_in_process(tmp_path)
    second = sync_in_process(tmp_path)

    assert first.exit_code == 3  # the pinned account's custom pricing unit
    assert first.report["rejects"]
    assert all(r["new"] for r in first.report["rejects"])
    assert second.exit_code == 0
    old = {(r["stage"], r["collection"], r["record_id"]) for r in second.report["rejects"]}
    assert old == {(r["stage"], r["collection"], r["record_id"]) for r in first.report["rejects"]}
    assert not any(r["new"] for r in second.report["rejects"])
    shown = CliRunner().invoke(app, ["sync", "--data-dir", str(tmp_path)])
    assert shown.exit_code == 0
    assert "already set aside before this run" in shown.stdout


def test_a_reopened_reject_is_new_again(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    point_cli_at(monkeypatch, metronome_api, fincome_api)
    assert sync_in_process(tmp_path).exit_code == 3
    with duckdb.connect(str(tmp_path / "billing_sync.duckdb")) as db:  # as if it went through
        db.execute("UPDATE fincome_sync.rejects SET resolved_at = now()")

    again = sync_in_process(tmp_path)

    assert again.exit_code == 3
    assert again.report["rejects"]
    assert all(r["new"] for r in again.report["rejects"])


def test_rejects_of_a_run_that_failed_are_still_new_to_the_next_run_that_finishes(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # the key is revoked in the middle of the push: the transform has set records aside,
    # but the run exits 2 and nobody was told about them
    _, fincome = point_cli_at(monkeypatch, metronome_api, fincome_api)
    fincome.set_faults(rules=[{"kind": "error", "status": 401, "skip": 8, "times": 1_000_000}])
    assert sync_in_process(tmp_path).exit_code == 2
    fincome.set_faults()

    finished = sync_in_process(tmp_path)

    assert finished.exit_code == 3
    assert all(r["new"] for r in finished.report["rejects"])
    assert sync_in_process(tmp_path).exit_code == 0  # reported once: old from now on
