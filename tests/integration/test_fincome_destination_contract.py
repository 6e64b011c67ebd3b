"""The destination relies on the DESIGN.md surface only, not on our emulator's extras.

`ContractServer` is a deliberately minimal, independent Fincome written here from DESIGN.md
§3 alone: POST 201 / 409, GET 200 / 404, PATCH 202 / 404, DELETE 204 / 404, embedded lines
stored as their own records, the key required in its header, and no validation at all. A dlt
pipeline pointed at it must leave it holding exactly the rows it was given.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dlt
import pytest

from destinations.fincome import fincome
from destinations.fincome.body import canonical_body, embedded_rows
from destinations.fincome.destination import close_ledgers
from destinations.fincome.schema import EMBEDDED_CHILD
from tests.unit.destinations.samples import Row, graph, load_in_push_order

KEY = "contract-server-key"
HEADER = "X-Contract-Key"
EMBEDDED = {"invoices": "invoice_line_items", "credit_notes": "credit_note_line_items"}


class ContractServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ContractHandler)
        self.records: dict[str, dict[str, Row]] = {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class ContractHandler(BaseHTTPRequestHandler):
    server: ContractServer

    def do_POST(self) -> None:
        self._handle(self._create)

    def do_GET(self) -> None:
        self._handle(self._read)

    def do_PATCH(self) -> None:
        self._handle(self._update)

    def do_DELETE(self) -> None:
        self._handle(self._delete)

    def _handle(self, action: Any) -> None:
        if self.headers.get(HEADER) != KEY:
            self._answer(401, {"detail": "Not authenticated"})
            return
        parts = self.path.strip("/").split("/")
        with self.server.lock:
            self.server.calls.append((self.command, self.path))
            status, payload = action(*parts)
        self._answer(status, payload)

    def _create(self, collection: str) -> tuple[int, Any]:
        body = self._body()
        store = self.server.records.setdefault(collection, {})
        if body["id"] in store:
            return 409, {"detail": "exists"}
        store[body["id"]] = body
        if collection in EMBEDDED:
            for line in body.pop(EMBEDDED[collection], None) or []:
                self.server.records.setdefault(EMBEDDED[collection], {})[line["id"]] = line
        return 201, body

    def _read(self, collection: str, item_id: str) -> tuple[int, Any]:
        record = self.server.records.get(collection, {}).get(item_id)
        return (404, {"detail": "not found"}) if record is None else (200, record)

    def _update(self, collection: str, item_id: str) -> tuple[int, Any]:
        record = self.server.records.get(collection, {}).get(item_id)
        if record is None:
            return 404, {"detail": "not found"}
        record.update(self._body())
        return 202, record

    def _delete(self, collection: str, item_id: str) -> tuple[int, Any]:
        gone = self.server.records.get(collection, {}).pop(item_id, None)
        return (404, {"detail": "not found"}) if gone is None else (204, None)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length))
        return body

    def _answer(self, status: int, payload: Any) -> None:
        content = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `server.calls` instead."""


@pytest.fixture
def server() -> Iterator[ContractServer]:
    server = ContractServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def pipeline(server: ContractServer, tmp_path: Path) -> Any:
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
    server: ContractServer, pipeline: Any
) -> None:
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
    server: ContractServer, pipeline: Any, tmp_path: Path
) -> None:
    rows = graph()
    load_in_push_order(pipeline, rows)
    close_ledgers()
    (tmp_path / "ledger.duckdb").unlink()
    load_in_push_order(pipeline, rows)
    assert canonical(server.records) == given(rows)
    assert ("POST", "/invoices") in server.calls
    assert ("PATCH", "/invoices/inv_1") in server.calls  # its create met 409
