"""Issue 19, as a new user meets it: `dlt.pipeline(..., destination=fincome()).run(...)` with
a small graph handed in child-first, in one run, against the Fincome emulator.

Before the adapter fed the one push path, each table was pushed as its job ran: lines,
subscriptions and prices met 422 `reference_not_found` (their parents came later in the same
run) and the run exited 0 with three records refused; only a second run completed the graph.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dlt
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from destinations.fincome import LedgerStore, column_hints, fincome
from tests.fixtures.fincome import FincomeEmulator
from tests.unit.destinations.samples import Row, graph

CHILD_FIRST = ("invoice_line_items", "invoices", "subscriptions", "prices", "products", "customers")


def six_collections() -> dict[str, list[Row]]:
    """The sample graph without credit notes, its invoice lines as a table of their own."""
    rows = graph()
    del rows["credit_notes"]
    rows["invoice_line_items"] = [
        line for invoice in rows["invoices"] for line in invoice.pop("invoice_line_items")
    ]
    return rows


def resources(rows: dict[str, list[Row]]) -> list[Any]:
    return [dlt.resource(rows[name], name=name, columns=column_hints(name)) for name in CHILD_FIRST]


def make_pipeline(fincome_api: FincomeEmulator, tmp_path: Path) -> Any:
    destination = fincome(
        base_url=fincome_api.url,
        api_key=fincome_api.api_key,
        requests_per_second=0,
        ledger_path=str(tmp_path / "ledger.duckdb"),
    )
    return dlt.pipeline("graph", destination=destination, pipelines_dir=str(tmp_path / "dlt"))


def open_rejects(tmp_path: Path) -> list[dict[str, Any]]:
    ledger = LedgerStore.open(tmp_path / "ledger.duckdb")
    try:
        return ledger.open_rejects()
    finally:
        ledger.close()


def test_a_graph_handed_in_child_first_lands_whole_in_one_run(
    fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    rows = six_collections()
    make_pipeline(fincome_api, tmp_path).run(resources(rows))
    held = fincome_api.state()
    assert {name: set(held.get(name, {})) for name in CHILD_FIRST} == {
        name: {row["id"] for row in rows[name]} for name in CHILD_FIRST
    }
    assert open_rejects(tmp_path) == []
    assert fincome_api.requests()["by_status"].get("422", 0) == 0


def test_a_run_with_a_refused_record_fails_naming_it_then_the_next_run_does_not(
    fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    rows = six_collections()
    rows["customers"].append({"id": "cus_orphan", "name": "Orphan", "root_parent_id": "nope"})
    pipeline = make_pipeline(fincome_api, tmp_path)
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.run(resources(rows))
    message = str(failed.value.__cause__ or failed.value)
    assert re.search(r"1 record\(s\) of load \S+ refused", message)
    assert "fincome_sync.rejects" in message
    assert [r["record_id"] for r in open_rejects(tmp_path)] == ["cus_orphan"]
    lines = {row["id"] for row in rows["invoice_line_items"]}
    assert set(fincome_api.state()["invoice_line_items"]) == lines
    sent = fincome_api.requests()["total"]
    pipeline.run()  # finishes the package: the refusal is recorded, nothing is sent again
    assert not pipeline.has_pending_data
    assert fincome_api.requests()["total"] == sent
    pipeline.run(resources(six_collections()))  # later runs go on as usual
    assert not pipeline.has_pending_data


def test_the_ledger_defaults_to_the_pipelines_working_folder_not_the_current_one(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    destination = fincome(base_url=fincome_api.url, api_key=fincome_api.api_key)
    pipeline = dlt.pipeline("mine", destination=destination, pipelines_dir=str(tmp_path / "dlt"))
    pipeline.run(graph()["products"], table_name="products", columns=column_hints("products"))
    assert (Path(pipeline.working_dir) / "fincome_ledger.duckdb").is_file()
    assert list(checkout.iterdir()) == []
