"""Running `billing-sync` for the reliability tests, in-process or as the real process.

- `sync_in_process(data_dir)`: the CLI through typer's runner (fast: no imports to pay);
  `sync_until_done(data_dir)` re-runs it while it exits 1, as a scheduler would;
- `run_cli(args, env)` / `start_cli(args, env)`: the real `billing-sync` console script;
- `pair_env(...)`: the environment pointing both sides at loopback servers, without pacing;
- `EmulatorControl(url)`: the `/_emulator/` control plane of a server (thread or process):
  the whole request log, injected fault counts, faults, reset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import Bodies, canonical

BILLING_SYNC = str(Path(sys.executable).parent / "billing-sync")
PROCESS_TIMEOUT = 300  # a safety net: a run that hangs fails the test instead of the CI job
MAX_RUNS = 12  # re-runs allowed before a run that keeps failing counts as never converging
LOG_LIMIT = 1_000_000  # the request log's `limit`: every entry

_runner = CliRunner()


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    report: dict[str, Any]
    output: str


def sync_in_process(data_dir: Path, *options: str) -> CliResult:
    """`billing-sync sync --json` in this process; the JSON report parsed."""
    result = _runner.invoke(app, ["sync", "--data-dir", str(data_dir), "--json", *options])
    return CliResult(result.exit_code, json.loads(result.stdout), result.output)


def sync_until_done(data_dir: Path) -> list[CliResult]:
    """Sync again while the run fails (exit 1), as cron would; every run's result."""
    results = [sync_in_process(data_dir)]
    while results[-1].exit_code == 1 and len(results) < MAX_RUNS:
        results.append(sync_in_process(data_dir))
    return results


def run_cli(
    args: list[str], env: dict[str, str], *, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BILLING_SYNC, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [BILLING_SYNC, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def pair_env(
    *,
    metronome_url: str,
    token: str,
    fincome_url: str,
    key: str,
    key_header: str = "X-API-KEY",
) -> dict[str, str]:
    """The variables that point billing-sync at two loopback servers, pacing off."""
    return {
        "SOURCES__METRONOME__BASE_URL": metronome_url,
        "SOURCES__METRONOME__API_TOKEN": token,
        "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
        "DESTINATION__FINCOME__BASE_URL": fincome_url,
        "DESTINATION__FINCOME__API_KEY": key,
        "DESTINATION__FINCOME__API_KEY_HEADER": key_header,
        "DESTINATION__FINCOME__REQUESTS_PER_SECOND": "0",
    }


def point_cli_at(
    monkeypatch: pytest.MonkeyPatch, metronome: MetronomeEmulator, fincome: FincomeEmulator
) -> tuple[EmulatorControl, EmulatorControl]:
    """Point in-process runs at the session emulators; their control planes."""
    variables = pair_env(
        metronome_url=metronome.url,
        token=metronome.token,
        fincome_url=fincome.url,
        key=fincome.api_key,
    )
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return EmulatorControl(metronome.url), EmulatorControl(fincome.url)


def fault_free_reference(data_dir: Path, fincome: EmulatorControl) -> tuple[int, Bodies]:
    """A fault-free in-process sync's exit code and Fincome state; then Fincome is emptied."""
    run = sync_in_process(data_dir)
    state = canonical(fincome.state())
    fincome.reset()
    return run.exit_code, state


def process_env(variables: dict[str, str]) -> dict[str, str]:
    """This process's (isolated, see tests/conftest.py) environment plus `variables`."""
    return {**os.environ, **variables}


@dataclass(frozen=True)
class EmulatorControl:
    """The control plane of one emulator, whichever way it is served."""

    url: str

    def request_log(self) -> list[dict[str, Any]]:
        answer = self._call("GET", "/_emulator/requests", params={"limit": LOG_LIMIT})
        entries: list[dict[str, Any]] = answer["requests"]
        return entries

    def request_count(self) -> int:
        total: int = self._call("GET", "/_emulator/requests", params={"limit": 0})["total"]
        return total

    def write_count(self) -> int:
        """Requests other than reads (a sync reads both APIs before its extract)."""
        log = self._call("GET", "/_emulator/requests", params={"limit": 0})
        return sum(n for route, n in log["by_route"].items() if not route.startswith("GET "))

    def clear_request_log(self) -> None:
        self._call("DELETE", "/_emulator/requests", params={"limit": 0})

    def capture_bodies(self) -> None:
        self._call("PUT", "/_emulator/requests", json={"capture_bodies": True})

    def set_faults(self, **settings: Any) -> None:
        self._call("PUT", "/_emulator/faults", json=settings)

    def injected(self) -> dict[str, int]:
        counts: dict[str, int] = self._call("GET", "/_emulator/faults")["injected"]
        return counts

    def reset(self, **options: Any) -> None:
        self._call("POST", "/_emulator/reset", json=options)

    def state(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_emulator/state", timeout=30)
        response.raise_for_status()
        parsed: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
        return parsed

    def _call(self, method: str, path: str, **options: Any) -> Any:
        response = httpx.request(method, f"{self.url}{path}", timeout=30, **options)
        response.raise_for_status()
        return response.json()
