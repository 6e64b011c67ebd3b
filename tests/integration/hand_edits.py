"""Fincome servers changed by hand, as a person would in Fincome's UI: our emulator (through
its own API) and the second Fincome (in its store), behind one interface, for the tests of
`repair` and `show`. The `fincome` fixture serves each in turn and points the CLI at it and at
the Metronome emulator (register with `pytest_plugins`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import duckdb
import httpx
import pytest
from typer.testing import CliRunner

from destinations.fincome.body import canonical_body
from destinations.fincome.schema import PUSH_ORDER
from pipelines.cli import app
from pipelines.preflight.routes import PROBE_ID
from tests.fixtures.fincome import FincomeEmulator, to_json
from tests.fixtures.metronome import MetronomeEmulator
from tests.fixtures.other_fincome import OtherFincome

JSON = {"content-type": "application/json"}
runner = CliRunner()


class Fincome(Protocol):
    """A Fincome a person can change by hand, whichever server it is."""

    env: dict[str, str]

    def held(self) -> dict[str, dict[str, dict[str, Any]]]: ...
    def edit(self, collection: str, record_id: str, **fields: Any) -> None: ...
    def remove(self, collection: str, record_id: str) -> None: ...
    def add(self, collection: str, body: dict[str, Any]) -> None: ...
    def reads(self) -> int: ...


class Emulator:
    """Our emulator, changed by hand through its own API."""

    def __init__(self, api: FincomeEmulator) -> None:
        self.api = api
        self.env = {
            "DESTINATION__FINCOME__BASE_URL": api.url,
            "DESTINATION__FINCOME__API_KEY": api.api_key,
            "DESTINATION__FINCOME__REQUESTS_PER_SECOND": "0",
        }
        self.http = api.client()

    def held(self) -> dict[str, dict[str, dict[str, Any]]]:
        return self.api.state()

    def edit(self, collection: str, record_id: str, **fields: Any) -> None:
        answer = self.http.patch(
            f"/{collection}/{record_id}", content=to_json(fields), headers=JSON
        )
        answer.raise_for_status()

    def remove(self, collection: str, record_id: str) -> None:
        self.http.delete(f"/{collection}/{record_id}").raise_for_status()

    def add(self, collection: str, body: dict[str, Any]) -> None:
        self.http.post(f"/{collection}", content=to_json(body), headers=JSON).raise_for_status()

    def reads(self) -> int:
        answer = httpx.get(f"{self.api.url}/_emulator/requests", params={"limit": 10**7})
        logged: list[dict[str, Any]] = answer.raise_for_status().json()["requests"]
        return sum(1 for entry in logged if is_record_read(entry["method"], entry["path"]))


class Other:
    """The second Fincome (`/clients`, `/invoice_lines`), changed by hand in its store."""

    def __init__(self, server: OtherFincome) -> None:
        self.server = server
        self.env = server.env()

    def held(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {spec.name: self.server.held(spec.name) for spec in PUSH_ORDER}

    def edit(self, collection: str, record_id: str, **fields: Any) -> None:
        self.server.edit(collection, record_id, **fields)

    def remove(self, collection: str, record_id: str) -> None:
        self.server.remove(collection, record_id)

    def add(self, collection: str, body: dict[str, Any]) -> None:
        path = self.server.profile.path(collection)
        headers = {self.server.header: self.server.key, "content-type": "application/json"}
        httpx.post(
            self.server.url + path, content=to_json(body), headers=headers
        ).raise_for_status()

    def reads(self) -> int:
        return sum(1 for method, path, _ in self.server.requests if is_record_read(method, path))


def is_record_read(method: str, path: str) -> bool:
    """A GET of one record by id: not a route probe of `check`'s (which repair runs too)."""
    return method == "GET" and path.count("/") == 2 and PROBE_ID not in path


@pytest.fixture(params=["emulator", "other"])
def fincome(
    request: pytest.FixtureRequest,
    metronome_api: MetronomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Fincome:
    chosen: Fincome
    if request.param == "emulator":
        chosen = Emulator(request.getfixturevalue("fincome_api"))
    else:
        start: Callable[..., OtherFincome] = request.getfixturevalue("other_fincome")
        chosen = Other(start())
    variables = {
        **chosen.env,
        "SOURCES__METRONOME__BASE_URL": metronome_api.url,
        "SOURCES__METRONOME__API_TOKEN": metronome_api.token,
        "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return chosen


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def an_invoice_with_lines(data_dir: Path, lines: int) -> tuple[str, list[str]]:
    with duckdb.connect(str(data_dir / "billing_sync.duckdb"), read_only=True) as db:
        # lines nothing else names: removing one by hand changes nothing else
        [(invoice_id, line_ids)] = db.execute(
            "SELECT invoice_id, list(id ORDER BY id) FROM fincome.invoice_line_items l "
            "WHERE NOT EXISTS (SELECT 1 FROM fincome.invoice_line_items t "
            "  WHERE t.proration_target_line_item_id = l.id) "
            "AND NOT EXISTS (SELECT 1 FROM fincome.credit_note_line_items c "
            "  WHERE c.invoice_line_item_id = l.id) "
            f"GROUP BY 1 HAVING count(*) >= {lines} ORDER BY 1 LIMIT 1"
        ).fetchall()
    return invoice_id, line_ids


def a_line_more(invoice_id: str, like: dict[str, Any]) -> dict[str, Any]:
    """A line of `invoice_id` the desired state does not have (an old body's, say)."""
    body = canonical_body("invoice_line_items", like)
    return {**body, "id": f"{invoice_id}:gone", "type": "one_off",
            "proration_target_line_item_id": None}  # fmt: skip
