"""`billing-sync extract|backfill` in-process against the emulator: exit codes, --json, runs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.datadir import resolve_data_dir, run_lock
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator

runner = CliRunner()


@pytest.fixture
def configured(metronome_api: MetronomeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", metronome_api.url)
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", metronome_api.token)
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def summaries() -> Iterator[list[str]]:
    """The summary lines, caught on our logger itself (Airflow, once imported by dlt,
    replaces the root handlers, pytest's capture included)."""
    logger = logging.getLogger("billing_sync")
    handler = Collected()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler.messages
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.mark.usefixtures("configured")
def test_extract_stages_everything_and_says_so(
    metronome_api: MetronomeEmulator, tmp_path: Path, summaries: list[str]
) -> None:
    code, report = cli("extract", "--data-dir", str(tmp_path))

    assert code == 0
    assert report["status"] == "ok"
    assert report["data_dir"] == str(tmp_path)
    assert report["tables"]["invoices"] == len(metronome_api.served_invoices())
    assert report["tables"]["customers"] == 21
    assert report["rejects"] == []
    assert report["requests"]["attempts"] > 12
    assert len(summaries) == 1
    assert summaries[0].startswith("extract ok (exit 0): customers=21")
    with duckdb.connect(str(tmp_path / "billing_sync.duckdb")) as connection:
        runs = connection.execute("SELECT command, outcome FROM fincome_sync.runs").fetchall()
    assert runs == [("extract", "ok")]


@pytest.mark.usefixtures("configured")
def test_tables_for_people(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "invoices" in result.stdout
    assert "HTTP requests" in result.stdout


@pytest.mark.usefixtures("configured")
def test_a_malformed_invoice_exits_3_and_everything_else_lands(
    metronome_api: MetronomeEmulator, tmp_path: Path
) -> None:
    customer = metronome_api.customers()[0]["id"]
    metronome_api.inject({"id": "broken", "customer_id": customer, "status": "DRAFT"}, customer)

    code, report = cli("extract", "--data-dir", str(tmp_path))

    assert code == 3
    assert report["status"] == "rejects"
    assert report["rejects"] == [
        {"collection": "invoices", "record_id": "broken", "reason": "missing credit_type"}
    ]
    assert report["tables"]["invoices"] == len(metronome_api.served_invoices()) - 1


@pytest.mark.usefixtures("configured")
def test_full_refresh_customer_filter_and_backfill(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome_api.api_key)
    every = len(metronome_api.served_invoices())
    ids = [c["id"] for c in metronome_api.customers()[:2]]

    assert cli("extract", "--data-dir", str(tmp_path))[0] == 0
    _, again = cli("extract", "--data-dir", str(tmp_path))
    _, full = cli("extract", "--full-refresh", "--data-dir", str(tmp_path))
    _, some = cli(
        "extract", "--customer", ids[0], "--customer", ids[1], "--customer", "nobody",
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    code, window = cli(
        "backfill", "--start", "2026-02-01", "--end", "2026-04-01", "--data-dir", str(tmp_path)
    )

    assert again["tables"]["invoices"] < every == full["tables"]["invoices"]
    assert some["unchanged"]["customers"] == 2  # read again, as staged
    assert some["options"]["customers"] == [*ids, "nobody"]
    assert some["unknown_customers"] == ["nobody"]
    # the pinned account has invoices in a custom pricing unit, which the mapping sets aside
    assert code == 3
    assert {r["stage"] for r in window["rejects"]} == {"transform"}
    assert window["extract"]["options"]["backfill"] == {"start": "2026-02-01", "end": "2026-04-01"}
    assert 0 < window["extract"]["unchanged"]["invoices"] < every  # read again, as staged
    assert window["push"]["done"]["invoices"]["created"] > 0


def test_a_missing_token_exits_2_naming_the_key(tmp_path: Path) -> None:
    code, report = cli("extract", "--data-dir", str(tmp_path / "data"))
    assert code == 2
    assert report["status"] == "misconfigured"
    assert report["key"] == "SOURCES__METRONOME__API_TOKEN"
    assert "SOURCES__METRONOME__API_TOKEN" in report["error"]
    assert not (tmp_path / "data").exists()


def test_a_bad_knob_exits_2_naming_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "t0k3n-value")
    monkeypatch.setenv("SOURCES__METRONOME__PAGE_SIZE", "500")
    code, report = cli("extract", "--data-dir", str(tmp_path))
    assert (code, report["key"]) == (2, "SOURCES__METRONOME__PAGE_SIZE")
    monkeypatch.setenv("SOURCES__METRONOME__PAGE_SIZE", "10")
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", "http://metronome.example.com")
    code, report = cli("extract", "--data-dir", str(tmp_path))
    assert (code, report["key"]) == (2, "SOURCES__METRONOME__BASE_URL")
    assert "t0k3n-value" not in json.dumps(report)


@pytest.mark.usefixtures("configured")
def test_a_refused_token_exits_2_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "not-the-token")
    code, report = cli("extract", "--data-dir", str(tmp_path))
    assert (code, report["key"]) == (2, "SOURCES__METRONOME__API_TOKEN")
    assert "HTTP 401" in report["error"]
    assert "not-the-token" not in json.dumps(report)


@pytest.mark.usefixtures("configured")
def test_a_held_lock_exits_75_at_once_and_touches_nothing(tmp_path: Path) -> None:
    data_dir = resolve_data_dir(tmp_path)
    with run_lock(data_dir):
        code, report = cli("extract", "--data-dir", str(tmp_path))
    assert code == 75
    assert report["status"] == "locked"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["billing-sync.lock"]


def test_backfill_needs_start_before_end(tmp_path: Path) -> None:
    args = ["backfill", "--start", "2026-04-01", "--end", "2026-02-01", "--data-dir", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--start must be before --end" in result.output
    assert (
        runner.invoke(app, ["backfill", "--start", "yesterday", "--end", "2026-02-01"]).exit_code
        == 2
    )
