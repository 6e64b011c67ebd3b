"""Two runs on one data dir: the second exits 75 at once and touches nothing; a `status`
answers from the first one's progress snapshot, touching nothing either.

A real `billing-sync sync` is stopped (SIGSTOP) in the middle of its push, holding the
data-dir lock: nothing it does can then change the folder or reach a server, so whatever
changes while it is stopped would be the second run's doing. Then it is resumed and must
finish as if nothing had happened.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import canonical, desired
from tests.reliability.sync_runs import (
    PROCESS_TIMEOUT,
    EmulatorControl,
    pair_env,
    process_env,
    run_cli,
    start_cli,
)

SLOW_PUSH = {"latency_ms": 60}  # the push lasts a few seconds: time to catch it in the act
QUIET_SECONDS = 0.5  # no request for this long: the stopped run's last answers are logged
FileStates = dict[str, tuple[int, int]]


@pytest.fixture
def env(metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator) -> dict[str, str]:
    variables = pair_env(
        metronome_url=metronome_api.url,
        token=metronome_api.token,
        fincome_url=fincome_api.url,
        key=fincome_api.api_key,
    )
    return process_env(variables)


@pytest.fixture
def controls(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator
) -> list[EmulatorControl]:
    return [EmulatorControl(metronome_api.url), EmulatorControl(fincome_api.url)]


def test_a_second_run_exits_75_and_status_answers_touching_nothing_while_a_run_holds_the_lock(
    env: dict[str, str], controls: list[EmulatorControl], tmp_path: Path
) -> None:
    metronome, fincome = controls
    fincome.set_faults(**SLOW_PUSH)
    data_dir = ["--data-dir", str(tmp_path)]
    first = start_cli(["sync", *data_dir], env)
    _wait_until(lambda: fincome.request_count() >= 3, "the first run never reached its push")
    first.send_signal(signal.SIGSTOP)
    try:
        _wait_until_quiet(controls)
        files, requests = _file_states(tmp_path), [c.request_count() for c in controls]

        second = run_cli(["sync", "--json", *data_dir], env)
        status = run_cli(["status", "--json", *data_dir], env)

        assert (second.returncode, status.returncode) == (75, 0)
        assert json.loads(second.stdout)["status"] == "locked"
        assert json.loads(status.stdout)["running"]["pid"] == first.pid
        assert _file_states(tmp_path) == files
        assert [c.request_count() for c in controls] == requests
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=PROCESS_TIMEOUT) == 3  # the pinned account's custom unit
    fincome.set_faults()
    assert metronome.request_count() > 0
    assert canonical(fincome.state()) == desired(tmp_path)


def _file_states(root: Path) -> FileStates:
    """Size and modification time of every file under `root`, by relative path."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in _files(root)
    }


def _files(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*")) if path.is_file())


def _wait_until(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(failure)
        time.sleep(0.02)


def _wait_until_quiet(controls: list[EmulatorControl]) -> None:
    """Until no server logged a request for QUIET_SECONDS."""
    counts = [c.request_count() for c in controls]
    while True:
        time.sleep(QUIET_SECONDS)
        now = [c.request_count() for c in controls]
        if now == counts:
            return
        counts = now
