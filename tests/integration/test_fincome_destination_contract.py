"""The destination relies on the DESIGN.md surface only, not on our emulator's extras.

`ContractServer` is a deliberately minimal, independent Fincome written here from DESIGN.md
§3 alone: POST 201 / 409, GET 200 / 404, PATCH 202 / 404, DELETE 204 / 404, embedded lines
stored as their own records, the key required in its header, and no validation at all. A dlt
pipeline pointed at it must leave it holding exactly the rows it was given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest

from destinations.fincome import fincome
from destinations.fincome.body import canonical_body, embedded_rows
from destinations.fincome.schema import EMBEDDED_CHILD
from tests.fixtures.foreign import HEADER, KEY, ContractServer
from tests.unit.destinations.samples import Row, graph, load_in_push_order


@pytest.fixture
def server() -> Iterator[ContractServer]:
    server = ContractServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def pipeline(contract_fincome: ContractServer, tmp_path: Path) -> Any:
    server = contract_fincome
    destination = fincome(
        base_url=server.url,
        api_key=KEY,
        api_key_header=HEADER,
        requests_per_second=0,
        ledger_path=str(tmp_path / "ledger.duckdb"),
    )
    return dlt.pipeline("contract", destination=destination, pipelines_dir=str(tmp_path))


def canonical(records: dict[str, dict[str, Row]]) -> dict[str, dict[str, Row]]:
    return {
        name: {item_id: canonical_body(name, record) for item_id, record in items.items()}
        for name, items in records.items()
        if items
    }


def given(rows_by_collection: dict[str, list[Row]]) -> dict[str, dict[str, Row]]:
    state: dict[str, dict[str, Row]] = {}
    for name, rows in rows_by_collection.items():
        for row in rows:
            state.setdefault(name, {})[row["id"]] = canonical_body(name, row)
            child = EMBEDDED_CHILD.get(name)
            for line in (embedded_rows(name, row) or []) if child else []:
                state.setdefault(child.name, {})[line["id"]] = canonical_body(child.name, line)
    return state


def test_any_server_speaking_the_design_surface_ends_up_holding_exactly_the_rows(
    contract_fincome: ContractServer, pipeline: Any
) -> None:
    server = contract_fincome
    rows = graph()
    load_in_push_order(pipeline, rows)
    assert canonical(server.records) == given(rows)

    server.calls.clear()
    load_in_push_order(pipeline, rows)
    assert server.calls == []  # nothing changed, nothing sent

    rows["customers"][0]["email"] = "finance@acme.test"
    removed = rows["invoices"][1]["invoice_line_items"].pop()
    load_in_push_order(pipeline, rows)
    assert sorted(server.calls) == [
        ("DELETE", f"/invoice_line_items/{removed['id']}"),
        ("PATCH", "/customers/cus_parent"),
    ]
    assert canonical(server.records) == given(rows)


def test_a_lost_ledger_converges_on_any_server(
    contract_fincome: ContractServer, pipeline: Any, tmp_path: Path
) -> None:
    server = contract_fincome
    rows = graph()
    load_in_push_order(pipeline, rows)
    (tmp_path / "ledger.duckdb").unlink()
    load_in_push_order(pipeline, rows)
    assert canonical(server.records) == given(rows)
    assert ("POST", "/invoices") in server.calls
    assert ("PATCH", "/invoices/inv_1") in server.calls  # its create met 409
