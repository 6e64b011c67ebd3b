"""`billing-sync` as a real process: what a shell, cron or Airflow sees."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.metronome import MetronomeEmulator

BILLING_SYNC = str(Path(sys.executable).parent / "billing-sync")
HOLD_LOCK = (
    "import sys, time\n"
    "from pipelines.datadir import resolve_data_dir, run_lock\n"
    "with run_lock(resolve_data_dir(sys.argv[1])):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(600)\n"
)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BILLING_SYNC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture
def emulator_env(metronome_api: MetronomeEmulator) -> dict[str, str]:
    return {
        **os.environ,
        "SOURCES__METRONOME__BASE_URL": metronome_api.url,
        "SOURCES__METRONOME__API_TOKEN": metronome_api.token,
        "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
    }


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    yield holder
    holder.kill()
    holder.wait()


def test_a_missing_token_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    result = run("extract", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SOURCES__METRONOME__API_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_live_lock_holder_makes_the_run_exit_75(
    lock_holder: subprocess.Popen[str], tmp_path: Path, emulator_env: dict[str, str]
) -> None:
    result = run("extract", "--data-dir", str(tmp_path), "--json", env=emulator_env)
    assert result.returncode == 75
    assert json.loads(result.stdout)["status"] == "locked"
    assert not (tmp_path / "billing_sync.duckdb").exists()


def test_a_dead_lock_holder_blocks_nothing(
    lock_holder: subprocess.Popen[str], tmp_path: Path, emulator_env: dict[str, str]
) -> None:
    lock_holder.send_signal(signal.SIGKILL)
    lock_holder.wait()
    result = run("extract", "--data-dir", str(tmp_path), "--json", env=emulator_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tables"]["customers"] == 21
    assert "extract ok (exit 0)" in result.stderr  # the run's one summary line


def test_the_emulator_command_serves_metronome(metronome_api: MetronomeEmulator) -> None:
    args = ["emulator", "metronome", "--port", "0", "--customers", "3", "--months", "2"]
    server = subprocess.Popen([BILLING_SYNC, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().removeprefix("EMULATOR READY ")
        page = httpx.get(f"{url}/v1/customers", headers=metronome_api.headers, timeout=10)
        assert (
            len(page.json()["data"])
            + len(
                httpx.get(
                    f"{url}/v1/customers",
                    params={"only_archived": "true"},
                    headers=metronome_api.headers,
                    timeout=10,
                ).json()["data"]
            )
            == 3
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert run("emulator", "fincome", "--customers", "3").returncode == 2


def test_the_demo_syncs_a_seeded_account_then_sends_nothing(tmp_path: Path) -> None:
    result = run(
        "demo",
        *("--customers", "20", "--contract-customers", "9", "--months", "3"),
        *("--data-dir", str(tmp_path), "--json"),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["account"] == {"customers": 20, "contract_customers": 9, "months": 3, "seed": 1}
    assert all(url.startswith("http://127.0.0.1:") for url in report["emulators"].values())
    first, second = report["first"], report["second"]
    assert first["extract"]["tables"]["customers"] == 29
    assert first["extract"]["tables"]["contracts"] >= 9
    assert first["push"]["done"]["customers"]["created"] == 29
    assert first["push"]["done"]["invoices"]["created"] > 20
    # one write per entity group: every create carries its lines
    created = sum(ops["created"] for ops in first["push"]["done"].values())
    assert first["push"]["requests"]["attempts"] < created
    assert second["push"]["requests"] == {}
    assert second["push"]["done"] == {}
    assert all(reject["stage"] == "transform" for reject in first["rejects"])
