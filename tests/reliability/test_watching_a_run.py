"""A running sync can be watched: `status` and `rejects` answer from its progress snapshot.

A real `billing-sync sync` pushes to a slowed Fincome and is held there (SIGSTOP, as in
test_concurrency.py); while it holds the data dir, `status --json` and `rejects --json`
(real processes too) answer 0 at once with its progress, and once it resumes and ends, its
snapshot is gone. A snapshot a killed run left behind is never taken for
a live run.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.datadir import resolve_data_dir, run_lock
from pipelines.running import PROGRESS_FILE
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.reliability.sync_runs import (
    PROCESS_TIMEOUT,
    EmulatorControl,
    pair_env,
    process_env,
    run_cli,
    start_cli,
)

SLOW_PUSH = {"latency_ms": 60}  # the push lasts a few seconds: time to catch it in the act


@pytest.fixture
def env(metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator) -> dict[str, str]:
    variables = pair_env(
        metronome_url=metronome_api.url,
        token=metronome_api.token,
        fincome_url=fincome_api.url,
        key=fincome_api.api_key,
    )
    return process_env(variables)


def test_status_and_rejects_answer_with_progress_while_a_sync_pushes(
    env: dict[str, str], fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    fincome = EmulatorControl(fincome_api.url)
    fincome.set_faults(**SLOW_PUSH)
    data_dir = ["--data-dir", str(tmp_path)]
    sync = start_cli(["sync", *data_dir], env)
    try:
        _wait_until(lambda: _pushed(tmp_path) >= 20, "the sync never reached its push")
        sync.send_signal(signal.SIGSTOP)

        status = run_cli(["status", "--json", *data_dir], env)
        rejects = run_cli(["rejects", "--json", *data_dir], env)
        shown = run_cli(["status", *data_dir], {**env, "COLUMNS": "80"})

        assert (status.returncode, rejects.returncode, shown.returncode) == (0, 0, 0)
        report = json.loads(status.stdout)
        running = report["running"]
        assert running["pid"] == sync.pid
        assert running["command"] == "sync"
        assert running["phase"] == "push"
        assert running["requests"]["attempts"] >= 20
        assert running["rejects"] >= 1  # the pinned account's custom pricing unit
        pushing = [c for c in running["counters"] if c["name"].startswith("push ")]
        assert pushing
        assert all(c["done"] <= c["total"] for c in pushing)
        assert report["runs"] is None
        assert report["entities"] is None
        listed = json.loads(rejects.stdout)
        assert listed["rejects"] is None
        assert listed["running"]["pid"] == sync.pid
        assert f"pid {sync.pid}" in shown.stdout
    finally:
        sync.send_signal(signal.SIGCONT)
        assert sync.wait(timeout=PROCESS_TIMEOUT) == 3
        fincome.set_faults()
    assert not (tmp_path / PROGRESS_FILE).exists()
    after = run_cli(["status", "--json", *data_dir], env)
    assert after.returncode == 0
    assert json.loads(after.stdout)["running"] is None


def test_a_snapshot_left_by_a_killed_run_is_never_shown_as_running(tmp_path: Path) -> None:
    dead = _a_dead_pid()
    snapshot = {"pid": dead, "command": "sync", "started_at": "2026-01-01T00:00:00+00:00",
                "updated_at": "2026-01-01T00:01:00+00:00", "phase": "push", "counters": [],
                "requests": {"attempts": 9, "by_status": {}}, "rejects": 4}  # fmt: skip
    (tmp_path / PROGRESS_FILE).write_text(json.dumps(snapshot))
    runner = CliRunner()

    idle = runner.invoke(app, ["status", "--json", "--data-dir", str(tmp_path)])
    with run_lock(resolve_data_dir(tmp_path)):  # a new run holds the lock, no snapshot yet
        held = runner.invoke(app, ["status", "--json", "--data-dir", str(tmp_path)])

    assert idle.exit_code == 0
    assert json.loads(idle.stdout)["running"] is None
    assert held.exit_code == 0
    assert json.loads(held.stdout)["running"]["pid"] is None


def _pushed(data_dir: Path) -> int:
    """Steps the run's snapshot says Fincome has answered so far (0 before its push)."""
    try:
        snapshot = json.loads((data_dir / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return 0
    return sum(c["done"] for c in snapshot["counters"] if c["name"].startswith("push "))


def _a_dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _wait_until(condition: Callable[[], bool], failure: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(failure)
        time.sleep(0.05)
