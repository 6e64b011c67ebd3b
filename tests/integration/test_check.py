"""`billing-sync check` against our emulators, a second Fincome that is not ours, a wrong
key, a port nobody listens on, and a data dir bound to other accounts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.datadir import resolve_data_dir, run_lock
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.fixtures.other_fincome import KEY as OTHER_KEY
from tests.fixtures.other_fincome import OtherFincome, OtherProfile

runner = CliRunner()
OtherFactory = Callable[..., OtherFincome]


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


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["check", *args, "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def by_name(report: dict[str, Any], area: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in report["findings"] if f["area"] == area}


def use_other(other: OtherFincome, monkeypatch: pytest.MonkeyPatch, *, paths: bool) -> None:
    for name, value in other.env(paths_configured=False).items():
        monkeypatch.setenv(name, value)
    if paths:
        monkeypatch.setenv("DESTINATION__FINCOME__PATHS", json.dumps(dict(other.profile.paths)))


@pytest.mark.usefixtures("configured")
def test_against_the_emulators_everything_is_ready_and_fits_80_columns(
    fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    began = time.monotonic()
    code, report = check("--data-dir", str(tmp_path))
    assert time.monotonic() - began < 5
    assert code == 0, [f for f in report["findings"] if f["status"] == "problem"]
    assert {f["status"] for f in by_name(report, "paths").values()} == {"ok"}
    assert len(by_name(report, "paths")) == 8
    assert report["views"]
    assert report["metrics"]
    assert by_name(report, "reconcile")["invoices"]["status"] == "ok"
    assert "view `invoices`" in by_name(report, "reconcile")["invoices"]["detail"]
    assert by_name(report, "data dir")["fincome"]["status"] == "note"  # not bound yet
    assert not (tmp_path / "accounts.json").exists()  # read-only
    assert fincome_api.api_key not in json.dumps(report)
    assert "DESTINATION__FINCOME__API_KEY" in report["variables"]
    assert not [r for r in fincome_api.requests()["requests"] if r["method"] != "GET"]

    shown = runner.invoke(app, ["check", "--data-dir", str(tmp_path)]).stdout
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert fincome_api.api_key not in shown


@pytest.mark.usefixtures("configured")
def test_a_wrong_key_and_an_unreachable_port_exit_2_naming_what_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", "not-the-key")
    code, report = check("--data-dir", str(tmp_path))
    assert code == 2
    assert by_name(report, "fincome")["authenticated"]["fix"].startswith(
        "DESTINATION__FINCOME__API_KEY"
    )
    assert "not-the-key" not in json.dumps(report)

    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", "http://127.0.0.1:9")
    began = time.monotonic()
    code, report = check("--data-dir", str(tmp_path))
    assert code == 2
    assert by_name(report, "metronome")["reachable"]["fix"] == "SOURCES__METRONOME__BASE_URL"
    assert time.monotonic() - began < 10


@pytest.mark.usefixtures("configured")
def test_a_second_fincome_with_its_paths_configured_is_served_and_lists_its_views(
    other_fincome: OtherFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = other_fincome(OtherProfile())
    use_other(other, monkeypatch, paths=True)
    code, report = check("--data-dir", str(tmp_path))
    assert code == 0, [f for f in report["findings"] if f["status"] == "problem"]
    assert by_name(report, "paths")["customers"]["detail"] == "/clients is served"
    assert report["views"]  # named otherwise than ours, listed as they are
    assert "invoices" not in report["views"]
    chosen = by_name(report, "reconcile")["invoices"]  # reconcile's own choice, by columns
    assert chosen["status"] == "ok"
    assert any(f"view `{slug}`" in chosen["detail"] for slug in report["views"])
    assert not [r for r in other.requests if r[0] != "GET"]


@pytest.mark.usefixtures("configured")
def test_paths_not_configured_are_no_such_route_naming_the_key(
    other_fincome: OtherFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = other_fincome(OtherProfile(views="none", metrics=False))
    use_other(other, monkeypatch, paths=False)
    code, report = check("--data-dir", str(tmp_path))
    assert code == 2
    paths = by_name(report, "paths")
    assert paths["customers"]["status"] == "problem"
    assert "no such route" in paths["customers"]["detail"]
    assert "[destination.fincome.paths] customers" in paths["customers"]["fix"]
    assert paths["invoice_line_items"]["status"] == "problem"
    assert paths["invoices"]["status"] == "ok"
    assert report["views"] == []
    assert by_name(report, "views")["available"]["status"] == "ok"  # listed, none
    assert by_name(report, "reconcile")["invoices"]["status"] == "note"
    assert "read one by one by id" in by_name(report, "reconcile")["invoices"]["detail"]


@pytest.mark.usefixtures("configured")
def test_the_variables_a_missing_path_names_make_it_served(
    other_fincome: OtherFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_other(other_fincome(OtherProfile()), monkeypatch, paths=False)
    code, report = check("--data-dir", str(tmp_path))
    fixes = [f["fix"] for f in by_name(report, "paths").values() if f["status"] == "problem"]
    assert code == 2
    for fix in fixes:  # `(or DESTINATION__FINCOME__PATHS__CUSTOMERS)`
        variable = fix.rsplit("(or ", 1)[1].rstrip(")")
        collection = variable.removeprefix("DESTINATION__FINCOME__PATHS__").lower()
        monkeypatch.setenv(variable, OtherProfile().paths[collection])
    code, report = check("--data-dir", str(tmp_path))
    assert code == 0, [f for f in report["findings"] if f["status"] == "problem"]
    assert len(fixes) == 2


@pytest.mark.usefixtures("configured")
def test_a_data_dir_bound_to_other_accounts_is_a_problem_until_rebound(
    other_fincome: OtherFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = runner.invoke(app, ["sync", "--data-dir", str(tmp_path), "--json"])
    assert sync.exit_code == 3, sync.output
    assert check("--data-dir", str(tmp_path))[0] == 0

    use_other(other_fincome(OtherProfile()), monkeypatch, paths=True)
    code, report = check("--data-dir", str(tmp_path))
    assert code == 2
    bound = by_name(report, "data dir")["fincome"]
    assert "another account" in bound["detail"]
    assert "billing-sync check --rebind" in bound["fix"]

    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", "not-the-key")
    assert check("--rebind", "--data-dir", str(tmp_path))[0] == 2  # not to a refused key
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", OTHER_KEY)
    assert check("--rebind", "--data-dir", str(tmp_path))[0] == 0
    assert check("--data-dir", str(tmp_path))[0] == 0


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("billing-sync ")


@pytest.mark.usefixtures("configured")
def test_a_rebind_while_a_run_holds_the_data_dir_exits_75_and_binds_nothing(
    tmp_path: Path,
) -> None:
    with run_lock(resolve_data_dir(tmp_path)):
        code, report = check("--rebind", "--data-dir", str(tmp_path))
    assert code == 75, report
    assert not (tmp_path / "accounts.json").exists()


@pytest.mark.usefixtures("configured")
def test_https_to_a_plain_http_port_is_a_tls_problem_naming_the_base_url(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url.replace("http:", "https:"))
    code, report = check("--data-dir", str(tmp_path))
    assert code == 2
    reachable = by_name(report, "fincome")["reachable"]
    assert reachable["fix"] == "DESTINATION__FINCOME__BASE_URL"
    assert "does not speak https" in reachable["detail"]
