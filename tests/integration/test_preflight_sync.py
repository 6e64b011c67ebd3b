"""`sync` checks both credentials and the data dir's accounts before its extract.

A wrong Fincome key used to be found after the whole extract (and never by `sync --dry-run`);
a data dir pointed at another, empty Fincome sent nothing and exited 0.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from sandbox.common.server import ThreadServer, serve_in_thread
from sandbox.fincome.app import build_app
from sandbox.metronome.app import build_app as build_metronome
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import PINNED_NOW, MetronomeEmulator

runner = CliRunner()


@pytest.fixture
def configured(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", metronome_api.url)
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", metronome_api.token)
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome_api.api_key)
    monkeypatch.setenv("DESTINATION__FINCOME__REQUESTS_PER_SECOND", "0")


@pytest.fixture
def second_fincome() -> Iterator[ThreadServer]:
    """Another Fincome emulator, empty, with the same key: another account."""
    with serve_in_thread(build_app()) as server:
        yield server


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def customer_reads(metronome: MetronomeEmulator) -> int:
    """Reads of any one customer's lists: zero when the extract never began."""
    by_route: dict[str, int] = metronome.requests()["by_route"]
    return sum(n for route, n in by_route.items() if route.startswith("GET /v1/customers/"))


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_wrong_fincome_key_exits_2_before_the_extract(
    dry_run: bool,
    metronome_api: MetronomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", "not-the-key")
    began = time.monotonic()

    code, report = cli("sync", *(["--dry-run"] if dry_run else []), "--data-dir", str(tmp_path))

    assert code == 2, report
    assert report["key"].startswith("DESTINATION__FINCOME__API_KEY")
    assert "refused" in report["error"]
    assert "not-the-key" not in json.dumps(report)
    assert customer_reads(metronome_api) == 0
    assert time.monotonic() - began < 5


@pytest.mark.usefixtures("configured")
def test_a_wrong_metronome_token_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "not-the-token")
    code, report = cli("sync", "--data-dir", str(tmp_path))
    assert code == 2
    assert report["key"] == "SOURCES__METRONOME__API_TOKEN"


@pytest.mark.usefixtures("configured")
def test_a_data_dir_pointed_at_another_empty_fincome_exits_2_and_sends_nothing(
    second_fincome: ThreadServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("sync", "--data-dir", str(tmp_path))[0] == 3  # custom pricing units set aside
    bound = json.loads((tmp_path / "accounts.json").read_text())
    assert set(bound) == {"metronome", "fincome"}
    assert "emulator-fincome-key" not in (tmp_path / "accounts.json").read_text()

    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", second_fincome.url)
    code, report = cli("sync", "--data-dir", str(tmp_path))

    assert code == 2, report
    assert report["key"] == str(tmp_path / "accounts.json")
    assert "another account" in report["error"]
    assert "billing-sync check --rebind" in report["error"]
    log = FincomeEmulator(second_fincome.url).requests()["requests"]
    assert not [r for r in log if r["method"] != "GET"]


@pytest.mark.usefixtures("configured")
def test_a_push_alone_into_another_empty_fincome_exits_2_and_sends_nothing(
    second_fincome: ThreadServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as a sharded Airflow DAG runs it: extract, then push, as two commands
    assert cli("sync", "--data-dir", str(tmp_path))[0] == 3  # custom pricing units set aside
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", second_fincome.url)

    code, report = cli("push", "--data-dir", str(tmp_path))

    assert code == 2, report
    assert report["key"] == str(tmp_path / "accounts.json")
    log = FincomeEmulator(second_fincome.url).requests()["requests"]
    assert not [r for r in log if r["method"] != "GET"]


@pytest.mark.usefixtures("configured")
def test_an_extract_alone_from_another_metronome_account_exits_2_and_stages_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("extract", "--data-dir", str(tmp_path))[0] == 0
    other = build_metronome(token="another-token", seed=3, customers=4, months=2, now=PINNED_NOW)
    with serve_in_thread(other) as server:
        monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", server.url)
        monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "another-token")

        code, report = cli("extract", "--data-dir", str(tmp_path))

        assert code == 2, report
        assert report["key"] == str(tmp_path / "accounts.json")
        reads = MetronomeEmulator(server.url).requests()["by_route"]
        assert not [route for route in reads if "/invoices" in route]  # no extract began


@pytest.mark.usefixtures("configured")
def test_the_same_fincome_at_another_address_is_recognised_by_what_it_holds(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("sync", "--data-dir", str(tmp_path))[0] == 3
    before = json.loads((tmp_path / "accounts.json").read_text())["fincome"]

    moved = fincome_api.url.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", moved)
    code, _ = cli("sync", "--data-dir", str(tmp_path))

    assert code in (0, 3)
    after = json.loads((tmp_path / "accounts.json").read_text())["fincome"]
    assert (before["base_url"], after["base_url"]) == (fincome_api.url, moved)


@pytest.mark.usefixtures("configured")
def test_a_rotated_key_for_the_same_account_is_recognised_not_refused(tmp_path: Path) -> None:
    assert cli("sync", "--data-dir", str(tmp_path))[0] == 3
    accounts = tmp_path / "accounts.json"
    bound = json.loads(accounts.read_text())
    rotated = {**bound, "fincome": {**bound["fincome"], "fingerprint": "0" * 16}}
    accounts.write_text(json.dumps(rotated))  # as if the data dir were bound with another key

    code, _ = cli("sync", "--data-dir", str(tmp_path))

    assert code in (0, 3)
    assert (
        json.loads(accounts.read_text())["fincome"]["fingerprint"]
        == bound["fincome"]["fingerprint"]
    )
