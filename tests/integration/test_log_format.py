"""`--log-format json` as a real process: what a log shipper reading stderr gets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.integration.test_cli_process import BILLING_SYNC, emulator_env, run

__all__ = ["emulator_env"]  # the fixture, used by name below


def json_lines(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines()]


def test_json_logs_are_one_object_per_line_with_one_structured_summary(
    tmp_path: Path, emulator_env: dict[str, str]
) -> None:
    result = run("--log-format", "json", "extract", "--data-dir", str(tmp_path), env=emulator_env)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stderr)  # fails on any line that is not JSON
    summaries = [line for line in lines if "command" in line]
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary["command"] == "extract"
    assert summary["status"] == "ok"
    assert summary["exit_code"] == 0
    assert summary["data_dir"] == str(tmp_path)
    assert summary["counts"]["staged"] > 0
    assert summary["counts"]["rejects"] == 0
    assert emulator_env["SOURCES__METRONOME__API_TOKEN"] not in result.stderr


def test_the_format_can_come_from_the_environment_and_failures_log_their_error(
    tmp_path: Path, emulator_env: dict[str, str]
) -> None:
    env = {**emulator_env, "BILLING_SYNC_LOG_FORMAT": "json"}
    env.pop("SOURCES__METRONOME__API_TOKEN")
    result = run("extract", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    (line,) = json_lines(result.stderr)
    assert line["level"] == "ERROR"
    assert line["status"] == "misconfigured"
    assert "SOURCES__METRONOME__API_TOKEN" in line["error"]


def test_the_crontab_line_makes_a_log_file_of_json_lines_only(tmp_path: Path) -> None:
    log_file = tmp_path / "billing-sync.log"
    command = f"{BILLING_SYNC} --log-format json status --data-dir {tmp_path / 'data'} --json"
    for _ in range(2):  # appended run after run, as cron does
        subprocess.run(f"{command} >> {log_file} 2>&1", shell=True, check=True, timeout=120)
    lines = json_lines(log_file.read_text())
    results = [line for line in lines if "ts" not in line]  # stdout: the run's JSON object
    summaries = [line for line in lines if "ts" in line and "command" in line]
    assert len(results) == len(summaries) == 2
    assert all(line["command"] == "status" and line["exit_code"] == 0 for line in lines)
