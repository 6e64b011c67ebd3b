"""The progress snapshot: what a watcher reads, and never a reason for a run to fail."""

from __future__ import annotations

import json
import os
from pathlib import Path

from httpkit import RequestLine
from pipelines.datadir import DataDir
from pipelines.running import PROGRESS_FILE, RunSnapshot, live_run, run_snapshot


def test_the_snapshot_says_what_the_run_did_and_is_gone_when_it_ends(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    with run_snapshot(data_dir, "sync") as snapshot:
        snapshot.counted("push invoices", total=10)
        snapshot.counted("push invoices", done=4)
        snapshot.rejected(2)
        snapshot.requested(RequestLine("POST", "/invoices", "201", 12))
        snapshot.phase("push")  # written at once
        seen = live_run(data_dir)
    assert seen is not None
    assert (seen["pid"], seen["command"], seen["phase"]) == (os.getpid(), "sync", "push")
    assert seen["counters"] == [{"name": "push invoices", "done": 4, "total": 10}]
    assert seen["requests"] == {"attempts": 1, "by_status": {"201": 1}}
    assert seen["rejects"] == 2
    assert not (tmp_path / PROGRESS_FILE).exists()
    assert live_run(data_dir) is None


def test_a_snapshot_that_cannot_be_written_does_not_fail_the_run(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    snapshot = RunSnapshot(blocked / PROGRESS_FILE, "sync")  # its folder is a file
    snapshot.phase("push")
    snapshot.flush()


def test_a_snapshot_of_unreadable_json_is_no_run(tmp_path: Path) -> None:
    (tmp_path / PROGRESS_FILE).write_text("{half")
    assert live_run(DataDir(tmp_path)) is None
    (tmp_path / PROGRESS_FILE).write_text(json.dumps({"pid": "not a pid"}))
    assert live_run(DataDir(tmp_path)) is None
