"""SIGTERM and SIGINT stop every phase within seconds, consistent, with an honest exit code.

Airflow and systemd send SIGTERM, then SIGKILL after a grace period. The real `billing-sync`
process syncs against emulators slowed down by latency; once the phase under test is under
way, it gets a signal. It must exit 143 (SIGTERM) or 130 (SIGINT) within seconds, leave its
one summary line, release the lock, keep in its ledger only what Fincome holds, and the next
run must converge on exactly what an uninterrupted sync gives. A second signal stops at once.
Before, dlt's own handlers swallowed a signal during the push (the run went on for minutes
and exited 0) and a SIGTERM during the extract killed the process without a summary line.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import canonical
from tests.reliability.sync_runs import (
    BILLING_SYNC,
    EmulatorControl,
    pair_env,
    process_env,
    run_cli,
)

STOP_WITHIN_SECONDS = 10.0  # "within a few seconds"; generous for a loaded CI machine
LATENCY_MS = 150  # every request of the slowed side: the run lasts long enough to be hit


def _env(metronome: MetronomeEmulator, fincome: FincomeEmulator) -> dict[str, str]:
    return process_env(
        pair_env(
            metronome_url=metronome.url,
            token=metronome.token,
            fincome_url=fincome.url,
            key=fincome.api_key,
        )
    )


def _sync(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [BILLING_SYNC, "sync", "--data-dir", str(data_dir), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _when(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Wait until `condition` holds while the process still runs."""
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, "the run ended before the phase under test"
        assert time.monotonic() < deadline, "the phase under test never started"
        time.sleep(0.05)


def _stop(process: subprocess.Popen[str], signum: int) -> tuple[int, float, str, str]:
    """Send `signum`; the exit code, the seconds it took, stdout and stderr."""
    sent = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, time.monotonic() - sent, stdout, stderr


def _summary_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " (exit " in line]


def _ledger_ids(data_dir: Path) -> set[tuple[str, str]]:
    with duckdb.connect(str(data_dir / "billing_sync.duckdb"), read_only=True) as db:
        rows = db.execute("SELECT collection, id FROM fincome_sync.ledger").fetchall()
    return {(collection, record_id) for collection, record_id in rows}


def _held(fincome: FincomeEmulator) -> set[tuple[str, str]]:
    state = fincome.state()
    return {(collection, record_id) for collection, items in state.items() for record_id in items}


@pytest.fixture
def reference(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> dict[str, object]:
    """What an uninterrupted sync leaves in Fincome; Fincome is emptied again after."""
    done = run_cli(
        ["sync", "--data-dir", str(tmp_path / "reference")], _env(metronome_api, fincome_api)
    )
    assert done.returncode in (0, 3), done.stderr
    state = canonical(EmulatorControl(fincome_api.url).state())
    fincome_api.reset()
    return state


@pytest.mark.parametrize("stop", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=str)
def test_a_signal_during_the_push_stops_it_within_seconds_and_the_next_run_converges(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    reference: dict[str, object],
    tmp_path: Path,
    stop: tuple[int, int],
) -> None:
    signum, exit_code = stop
    env, data_dir = _env(metronome_api, fincome_api), tmp_path / "data"
    fincome_api.set_faults(latency_ms=LATENCY_MS)
    process = _sync(data_dir, env)
    _when(lambda: fincome_api.writes() >= 20, process)

    code, seconds, stdout, stderr = _stop(process, signum)

    assert (code, seconds < STOP_WITHIN_SECONDS) == (exit_code, True), (seconds, stderr[-2000:])
    [summary] = _summary_lines(stderr)
    assert f"sync stopped (exit {exit_code})" in summary
    assert f"stopped by {signal.Signals(signum).name}" in summary
    assert json.loads(stdout)["exit_code"] == exit_code
    assert _ledger_ids(data_dir) <= _held(fincome_api)  # the ledger holds only acknowledged
    status = run_cli(["status", "--data-dir", str(data_dir)], env)
    assert status.returncode == 0, status.stderr  # the lock was released
    fincome_api.clear_faults()
    rerun = run_cli(["sync", "--data-dir", str(data_dir)], env)
    assert rerun.returncode in (0, 3), rerun.stderr
    assert canonical(EmulatorControl(fincome_api.url).state()) == reference


def test_sigterm_during_the_extract_leaves_a_summary_line_and_exit_143(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    env, data_dir = _env(metronome_api, fincome_api), tmp_path / "data"
    metronome_api.set_faults(latency_ms=LATENCY_MS)
    process = _sync(data_dir, env)
    _when(lambda: metronome_api.requests()["total"] >= 5, process)

    code, seconds, _, stderr = _stop(process, signal.SIGTERM)

    assert (code, seconds < STOP_WITHIN_SECONDS) == (143, True), (seconds, stderr[-2000:])
    [summary] = _summary_lines(stderr)
    assert "sync stopped (exit 143)" in summary
    assert fincome_api.writes() == 0  # stopped before the push began
    metronome_api.clear_faults()
    assert run_cli(["sync", "--data-dir", str(data_dir)], env).returncode in (0, 3)


def test_a_second_signal_stops_at_once(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    env, data_dir = _env(metronome_api, fincome_api), tmp_path / "data"
    fincome_api.set_faults(latency_ms=2_000)  # a first signal waits for requests in flight
    process = _sync(data_dir, env)
    _when(lambda: fincome_api.writes() >= 1, process)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)

    code, seconds, _, stderr = _stop(process, signal.SIGTERM)

    assert (code, seconds < 2.0) == (143, True), (seconds, stderr[-2000:])
    assert "SIGTERM again, stopping at once" in stderr
    fincome_api.clear_faults()
    assert run_cli(["sync", "--data-dir", str(data_dir)], env).returncode in (0, 3)
