"""`sync --customer X` scopes the whole run: the push sends only X's records.

The data dir first stages the whole account (extract), so every customer has changes
pending; a sync of one customer must then push that customer, what belongs to it and the
parents Fincome lacks (its products and prices), and nothing of the others.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.reliability.sync_runs import point_cli_at

runner = CliRunner()


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_sync_of_one_customer_pushes_only_that_customers_records(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    point_cli_at(monkeypatch, metronome_api, fincome_api)
    data_dir = ("--data-dir", str(tmp_path))
    assert cli("extract", *data_dir)[0] == 0
    chosen = next(c["id"] for c in metronome_api.customers() if metronome_api.invoices(c["id"]))

    code, report = cli("sync", "--customer", chosen, *data_dir)

    assert code in (0, 3)
    held = fincome_api.state()
    assert set(held["customers"]) == {chosen}
    assert held["invoices"]
    assert {body["customer_id"] for body in held["invoices"].values()} == {chosen}
    assert {body["customer_id"] for body in held["subscriptions"].values()} <= {chosen}
    documents = [*held["subscriptions"].values(), *held["invoice_line_items"].values()]
    used_prices = {body["price_id"] for body in documents if body.get("price_id")}
    assert set(held["prices"]) == used_prices  # only the prices its records use
    assert set(held["products"]) == {held["prices"][p]["product_id"] for p in used_prices}
    # the others stay pending for a run without --customer
    assert report["push"]["plan"]["customers"]["create"] == 1
