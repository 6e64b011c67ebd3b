"""A deployment's settings live in a folder of its own, found from any working directory,
and the committed `.dlt/config.toml` is found from the package (`pipelines/settings_files.py`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.settings_files import PROJECT_ROOT
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.test_preflight_sync import configured  # noqa: F401

runner = CliRunner()
BILLING_SYNC = PROJECT_ROOT / ".venv" / "bin" / "billing-sync"


def custom_units(metronome: MetronomeEmulator) -> list[str]:
    listed: list[dict[str, Any]] = metronome.all_pages("/v1/credit-types/list")
    return [unit["id"] for unit in listed if not unit.get("is_currency")]


@pytest.mark.usefixtures("configured")
def test_a_mapping_in_the_deployment_settings_is_used_from_another_directory(
    metronome_api: MetronomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment, elsewhere = tmp_path / "settings", tmp_path / "elsewhere"
    deployment.mkdir()
    elsewhere.mkdir()
    units = custom_units(metronome_api)
    assert units  # the pinned account bills in a custom pricing unit
    table = "\n".join(f'"{unit}" = {{ currency = "USD", factor = "0.01" }}' for unit in units)
    (deployment / "config.toml").write_text(f"[mapping.pricing_units]\n{table}\n")
    monkeypatch.setenv("BILLING_SYNC_CONFIG_DIR", str(deployment))
    monkeypatch.chdir(elsewhere)

    result = runner.invoke(app, ["sync", "--data-dir", str(tmp_path / "data"), "--json"])

    report = json.loads(result.stdout)
    assert [r for r in report["rejects"] if "pricing unit" in r["reason"]] == []
    assert result.exit_code == 0, report["rejects"]
    checked = json.loads(runner.invoke(app, ["check", "--json"]).stdout)
    read = {Path(f["path"]) for f in checked["files"] if f["read"]}
    assert deployment / "config.toml" in read


def test_the_committed_defaults_are_found_from_the_package_not_the_directory(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DLT_PROJECT_DIR"}
    result = subprocess.run(
        [str(BILLING_SYNC), "check", "--json", "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    read = {Path(f["path"]) for f in report["files"] if f["read"]}
    assert PROJECT_ROOT / ".dlt" / "config.toml" in read
    assert result.returncode == 2  # no secrets set: named as the problems to fix
    assert {f["fix"] for f in report["findings"] if f["status"] == "problem"} >= {
        "SOURCES__METRONOME__API_TOKEN",
        "DESTINATION__FINCOME__API_KEY",
    }


def test_a_deployment_file_that_is_not_toml_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text("[mapping\n")
    monkeypatch.setenv("BILLING_SYNC_CONFIG_DIR", str(tmp_path))
    result = runner.invoke(app, ["sync", "--data-dir", str(tmp_path / "data"), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["key"] == str(tmp_path / "config.toml")


@pytest.mark.usefixtures("configured")
def test_check_says_where_a_secret_comes_from_never_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = os.environ["DESTINATION__FINCOME__API_KEY"]
    monkeypatch.delenv("DESTINATION__FINCOME__API_KEY")
    (tmp_path / "secrets.toml").write_text(f'[destination.fincome]\napi_key = "{key}"\n')
    monkeypatch.setenv("BILLING_SYNC_CONFIG_DIR", str(tmp_path))

    result = runner.invoke(app, ["check", "--json", "--data-dir", str(tmp_path / "data")])

    report = json.loads(result.stdout)
    [secret] = [f for f in report["findings"] if f["name"] == "fincome secret"]
    assert secret["detail"] == f"set in {tmp_path / 'secrets.toml'} (not shown)"
    assert result.exit_code == 0, report
    assert key not in result.stdout
