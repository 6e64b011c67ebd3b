"""N shards together give Fincome exactly the state one run gives, record by record.

The pinned account is synced once unsharded into Fincome emulator A, and as three shards
(each in its own data dir) into a second emulator B: `extract --shard I/3` in every shard,
`push-shared` from their facts, then `push --shard I/3`. Both emulators must then hold the
same records with the same bodies. The pinned account has a customer billed to a parent in
another shard, so the payer roots really are resolved across shards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.shards import shard_of
from sandbox.common.server import serve_in_thread
from sandbox.fincome.app import build_app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import canonical

SHARDS = 3
runner = CliRunner()


@pytest.fixture
def second_fincome() -> Iterator[FincomeEmulator]:
    with serve_in_thread(build_app()) as server:
        emulator = FincomeEmulator(url=server.url)
        yield emulator
        emulator.close()


@pytest.fixture
def metronome(metronome_api: MetronomeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", metronome_api.url)
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", metronome_api.token)
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("DESTINATION__FINCOME__REQUESTS_PER_SECOND", "0")


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def use_fincome(monkeypatch: pytest.MonkeyPatch, fincome: FincomeEmulator) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome.api_key)


def sharded_cycle(root: Path) -> list[dict[str, Any]]:
    """One sharded run: every shard's extract, the shared push, every shard's push."""
    shard_dirs = [root / f"shard-{index}" for index in range(SHARDS)]
    reports = []
    for index, folder in enumerate(shard_dirs):
        code, report = cli("extract", "--shard", f"{index}/{SHARDS}", "--data-dir", str(folder))
        assert code == 0, report
        reports.append(report)
    facts = [arg for folder in shard_dirs for arg in ("--facts", str(folder))]
    code, report = cli("push-shared", *facts, "--data-dir", str(root / "shared"))
    assert code == 0, report
    reports.append(report)
    for index, folder in enumerate(shard_dirs):
        code, report = cli("push", "--shard", f"{index}/{SHARDS}", "--data-dir", str(folder))
        assert code in (0, 3), report  # the pinned custom-pricing-unit invoices: exit 3
        reports.append(report)
    return reports


@pytest.mark.usefixtures("metronome")
def test_three_shards_leave_fincome_exactly_as_one_run_does(
    fincome_api: FincomeEmulator,
    second_fincome: FincomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_fincome(monkeypatch, fincome_api)
    code, _ = cli("sync", "--data-dir", str(tmp_path / "whole"))
    assert code == 3
    whole = canonical(fincome_api.state())

    use_fincome(monkeypatch, second_fincome)
    reports = sharded_cycle(tmp_path)
    sharded = canonical(second_fincome.state())

    assert {name: len(records) for name, records in sharded.items()} == {
        name: len(records) for name, records in whole.items()
    }
    for name, records in whole.items():
        for record_id, body in records.items():
            assert sharded[name].get(record_id) == body, (name, record_id)
    # every shard staged some customers, and one parent is in another shard than its child
    assert all(report["tables"]["customers"] for report in reports[:SHARDS])
    assert any(
        shard_of(child["id"], SHARDS) != shard_of(child["root_parent_id"], SHARDS)
        for child in whole["customers"].values()
        if child["root_parent_id"]
    )
    # a shard sends no customer, product or price: those are push-shared's alone
    shared = ("customers", "products", "prices")
    for report in reports[SHARDS + 1 :]:
        assert all(report["transformed"][name] == 0 for name in shared)
        assert all(sum(report["done"][name].values()) == 0 for name in shared)
    assert all(reports[SHARDS]["done"][name]["created"] for name in shared)


@pytest.mark.usefixtures("metronome")
def test_a_second_sharded_cycle_sends_nothing(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fincome(monkeypatch, fincome_api)
    sharded_cycle(tmp_path)
    before = fincome_api.requests()["total"]
    reports = sharded_cycle(tmp_path)
    assert fincome_api.requests()["total"] == before
    assert all(report["done"] == {} for report in reports[SHARDS:])


@pytest.mark.usefixtures("metronome")
def test_each_shard_reconciles_its_own_customers_only(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fincome(monkeypatch, fincome_api)
    sharded_cycle(tmp_path)
    counted = []
    for index in range(SHARDS):
        code, report = cli("reconcile", "--data-dir", str(tmp_path / f"shard-{index}"))
        assert code == 0, report["summary"]  # no other shard's invoice reads as unknown
        assert report["metrics_checked"] is False  # account-wide metrics: an unsharded check
        counted.append(report["totals"]["documents"]["fincome"])
    # together the shards account for every invoice and credit note Fincome counts
    state = fincome_api.state()
    live = [i for i in state["invoices"].values() if i["status"] != "void"]
    assert all(counted)
    assert sum(counted) == len(live) + len(state["credit_notes"])
