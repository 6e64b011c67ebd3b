"""`billing-sync sync` between two servers that speak the wire formats but are not ours.

The foreign Metronome (`tests/fixtures/foreign.py`) serves a handful of hand-written records,
one of them billed in a custom pricing unit; the foreign Fincome speaks only the DESIGN.md
surface and validates nothing. Fincome must end up holding exactly the mapped state, and the
run must exit 3 because one record was set aside.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from sandbox.common.server import serve_in_thread
from tests.fixtures.foreign import (
    HEADER,
    INVOICES,
    KEY,
    TOKEN,
    ContractServer,
    build_foreign_metronome,
    invoice,
)
from tests.integration.bodies import canonical, desired

runner = CliRunner()
CLOUD_CREDITS = {"id": "ct-cloud", "name": "Cloud credits"}


@pytest.fixture
def foreign_pair(
    contract_fincome: ContractServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ContractServer]:
    in_credits = {**invoice(9, "cus-a", 1, "FINALIZED", "70"), "credit_type": CLOUD_CREDITS}
    for line in in_credits["line_items"]:
        line["credit_type"] = CLOUD_CREDITS
    invoices = {**INVOICES, "cus-a": [*INVOICES["cus-a"], in_credits]}
    with serve_in_thread(build_foreign_metronome([], invoices)) as metronome:
        for key, value in {
            "SOURCES__METRONOME__BASE_URL": metronome.url,
            "SOURCES__METRONOME__API_TOKEN": TOKEN,
            "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
            "DESTINATION__FINCOME__BASE_URL": contract_fincome.url,
            "DESTINATION__FINCOME__API_KEY": KEY,
            "DESTINATION__FINCOME__API_KEY_HEADER": HEADER,
            "DESTINATION__FINCOME__REQUESTS_PER_SECOND": "0",
        }.items():
            monkeypatch.setenv(key, value)
        yield contract_fincome


def sync(data_dir: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["sync", "--data-dir", str(data_dir), "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def test_foreign_fincome_holds_exactly_the_mapped_state_and_the_reject_exits_3(
    foreign_pair: ContractServer, tmp_path: Path
) -> None:
    code, report = sync(tmp_path)

    assert code == 3
    assert [(r["stage"], r["record_id"]) for r in report["rejects"]] == [("transform", "inv-9")]
    state = desired(tmp_path)
    assert canonical(foreign_pair.records) == state
    # the FINALIZED invoices and the VOID one are there; the draft and the credits are not
    assert set(state["invoices"]) == {"inv-1", "inv-3", "inv-4"}
    assert state["invoices"]["inv-3"]["status"] == "void"
    line = state["invoice_line_items"]["inv-1:L0"]
    assert line["amount_excluding_tax_after_discount"] == Decimal("100.1")
    assert line["currency_code"] == "EUR"

    foreign_pair.calls.clear()
    code, _ = sync(tmp_path)
    assert code == 0  # the same reject, set aside before: nothing new to alert on
    # nothing changed upstream: not a single write (the pre-flight reads one unknown id)
    assert [call for call in foreign_pair.calls if call[0] != "GET"] == []
