"""`billing-sync repair` against our emulator and against a second Fincome that is not it.

The two bugs of issue 20, each first shown on the code as it was (a sync, even with
`--full-refresh`, leaves Fincome wrong), then repaired:
- a record changed or deleted by hand in Fincome is never sent again;
- a lost data dir against a populated Fincome leaves lines the new bodies no longer have
  (the create meets 409, becomes an update, and the update never removes a line).
Fincome is right when its records, as canonical bodies, are exactly the desired state.
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
from tests.fixtures.fincome import FincomeEmulator, to_json
from tests.fixtures.metronome import MetronomeEmulator
from tests.fixtures.other_fincome import OtherFincome
from tests.integration.bodies import canonical, desired

pytest_plugins = ["tests.fixtures.other_fincome"]
runner = CliRunner()
JSON = {"content-type": "application/json"}


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
        by_route: dict[str, int] = self.api.requests()["by_route"]
        reads = (
            n
            for route, n in by_route.items()
            if route.startswith("GET /") and "_emulator" not in route
        )
        return sum(reads)


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
        return sum(1 for method, _, _ in self.server.requests if method == "GET")


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


def wrong(fincome: Fincome, data_dir: Path) -> dict[str, set[str]]:
    """Per collection, the ids whose Fincome copy is not the desired body (or not desired)."""
    wanted, held = desired(data_dir), canonical(fincome.held())
    found = {}
    for spec in PUSH_ORDER:
        have, want = held[spec.name], wanted[spec.name]
        ids = {i for i in want if have.get(i) != want[i]} | (set(have) - set(want))
        if ids:
            found[spec.name] = ids
    return found


def ledger_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(data_dir / "billing_sync.duckdb"), read_only=True) as db:
        query = "SELECT collection, id, row_hash FROM fincome_sync.ledger ORDER BY 1, 2"
        return db.execute(query).fetchall()


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


def test_records_changed_or_deleted_by_hand_are_repaired(fincome: Fincome, tmp_path: Path) -> None:
    data_dir = str(tmp_path)
    code, _ = cli("sync", "--data-dir", data_dir)
    assert code in (0, 3)
    assert wrong(fincome, tmp_path) == {}
    invoice_id, (kept, removed, *_) = an_invoice_with_lines(tmp_path, 2)
    customer_id = next(iter(desired(tmp_path)["customers"]))
    fincome.edit("invoices", invoice_id, status="unpaid")
    fincome.edit("customers", customer_id, name="Renamed by hand")
    fincome.remove("invoice_line_items", removed)
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )
    hand_made = {
        "invoices": {invoice_id},
        "customers": {customer_id},
        "invoice_line_items": {removed, f"{invoice_id}:gone"},
    }

    cli("sync", "--full-refresh", "--data-dir", data_dir)
    assert wrong(fincome, tmp_path) == hand_made  # the bug: never repaired, even so

    ledger = ledger_rows(tmp_path)
    code, report = cli("repair", "--dry-run", "--data-dir", data_dir)
    assert code == 0
    assert report["dry_run"] is True
    assert report["push"] is None
    assert wrong(fincome, tmp_path) == hand_made  # a dry run writes nothing
    assert ledger_rows(tmp_path) == ledger
    found = {(f["collection"], f["id"], f["finding"]) for f in report["findings"]}
    assert found == {
        ("invoices", invoice_id, "differs"),
        ("customers", customer_id, "differs"),
        ("invoice_line_items", removed, "missing"),
        ("invoice_line_items", f"{invoice_id}:gone", "extra"),
    }

    code, report = cli("repair", "--data-dir", data_dir)
    assert code in (0, 3)
    assert wrong(fincome, tmp_path) == {}
    lines = report["collections"]["invoice_line_items"]
    assert (lines["missing"], lines["extra"], lines["repaired"]) == (1, 1, 2)
    assert report["collections"]["invoices"]["differing"] == 1
    assert report["collections"]["customers"]["repaired"] == 1

    code, report = cli("repair", "--data-dir", data_dir)
    assert report["findings"] == []
    assert report["push"]["steps"] == {}


def test_a_lost_data_dir_against_a_populated_fincome(fincome: Fincome, tmp_path: Path) -> None:
    first, lost, again = tmp_path / "first", tmp_path / "lost", tmp_path / "again"
    code, _ = cli("sync", "--data-dir", str(first))
    assert code in (0, 3)
    invoice_id, (kept, *_) = an_invoice_with_lines(first, 1)
    # the line an older body had, and that the new one no longer has
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )

    cli("sync", "--data-dir", str(lost))
    assert wrong(fincome, lost) == {"invoice_line_items": {f"{invoice_id}:gone"}}  # the bug
    code, report = cli("repair", "--data-dir", str(lost))
    assert code in (0, 3)
    assert wrong(fincome, lost) == {}
    assert report["collections"]["invoice_line_items"]["extra"] == 1

    # the way the README gives after a lost data dir: extract, then repair (no sync)
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )
    reads = fincome.reads()
    assert cli("extract", "--data-dir", str(again))[0] in (0, 3)
    code, report = cli("repair", "--data-dir", str(again))
    assert code in (0, 3)
    assert wrong(fincome, again) == {}
    records = sum(len(ids) for ids in desired(again).values())
    totals = {k: sum(c[k] for c in report["collections"].values()) for k in ("read", "repaired")}
    assert totals == {"read": records + 1, "repaired": 1}  # one delete; nothing sent again
    lines = len(desired(again)["invoice_line_items"]) + len(
        desired(again)["credit_note_line_items"]
    )
    assert fincome.reads() - reads == records - lines  # lines come inside their documents
