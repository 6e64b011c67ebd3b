"""Pushing batches: ledger only after acknowledgement, rejects instead of failures, fatal stops."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest

from destinations.fincome import AuthenticationFailed, FincomeClient, LedgerStore
from destinations.fincome.destination import FincomePushFailed, close_ledgers, push_batch
from destinations.fincome.push import BatchPusher
from destinations.fincome.schema import collection
from httpkit import RetryPolicy
from tests.unit.destinations.samples import graph

KEY = "unit-test-key"
DETAIL = [{"loc": ["body", "customer_id"], "msg": "unknown customer cus_x", "type": "reference"}]


class FakeFincome:
    """Accepts every write unless told otherwise: `refuse[(method, id)] = status`."""

    def __init__(self) -> None:
        self.refuse: dict[tuple[str, str], int] = {}
        self.calls: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        item_id = _item_id(request)
        self.calls.append((request.method, item_id))
        status = self.refuse.get((request.method, item_id))
        if status is not None:
            return httpx.Response(status, json={"detail": DETAIL if status == 422 else "no"})
        return httpx.Response({"POST": 201, "PATCH": 202, "DELETE": 204}.get(request.method, 200))


def _item_id(request: httpx.Request) -> str:
    if request.method == "POST":
        return str(orjson.loads(request.content)["id"])
    return request.url.path.rsplit("/", 1)[-1]


@pytest.fixture
def fake() -> FakeFincome:
    return FakeFincome()


@pytest.fixture
def client(fake: FakeFincome) -> Iterator[FincomeClient]:
    with FincomeClient(
        api_key=KEY,
        base_url="https://fincome.test",
        requests_per_second=None,
        max_concurrency=1,  # one row at a time, so the order of calls is deterministic
        retry_policy=RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.001),
        transport=httpx.MockTransport(fake),
    ) as client:
        yield client


@pytest.fixture
def ledger() -> LedgerStore:
    return LedgerStore(duckdb.connect())


def _ledger_rows(ledger: LedgerStore) -> dict[tuple[str, str], Any]:
    rows = ledger.db.execute("SELECT collection, id, parent_id FROM fincome_sync.ledger").fetchall()
    return {(c, i): parent for c, i, parent in rows}


def test_a_second_push_of_the_same_rows_sends_nothing(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    pusher = BatchPusher(client, ledger)
    report = pusher.push(collection("invoices"), graph()["invoices"])
    assert report.writes == {"create": 2}
    assert _ledger_rows(ledger) == {
        ("invoices", "inv_1"): None,
        ("invoices", "inv_2"): None,
        ("invoice_line_items", "inv_1:L0"): "inv_1",
        ("invoice_line_items", "inv_1:L1"): "inv_1",
        ("invoice_line_items", "inv_2:L0"): "inv_2",
    }
    fake.calls.clear()
    again = pusher.push(collection("invoices"), graph()["invoices"])
    assert fake.calls == []
    assert again.unchanged == 2


def test_a_refused_row_becomes_a_reject_and_the_others_land(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    fake.refuse[("POST", "cus_1")] = 422
    report = BatchPusher(client, ledger).push(collection("customers"), graph()["customers"])
    assert report.rejected == 1
    assert set(_ledger_rows(ledger)) == {("customers", "cus_parent")}
    [reject] = ledger.open_rejects()
    assert reject["stage"] == "push"
    assert (reject["collection"], reject["record_id"]) == ("customers", "cus_1")
    assert reject["reason"] == "Fincome refused the body: body.customer_id: unknown customer cus_x"
    assert reject["detail"] == DETAIL
    assert reject["payload"]["name"] == "Acme SAS"
    # once Fincome takes it, the reject is resolved
    del fake.refuse[("POST", "cus_1")]
    BatchPusher(client, ledger).push(collection("customers"), graph()["customers"])
    assert ledger.open_rejects() == []


def test_an_auth_failure_stops_the_batch_but_keeps_what_was_acknowledged(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    rows = [{"id": f"p{i}", "name": f"Product {i}"} for i in range(5)]
    fake.refuse[("POST", "p2")] = 401
    with pytest.raises(AuthenticationFailed):
        BatchPusher(client, ledger).push(collection("products"), rows)
    assert set(_ledger_rows(ledger)) == {("products", "p0"), ("products", "p1")}
    assert ("POST", "p4") not in fake.calls
    assert ledger.open_rejects() == []


def test_a_line_removed_from_an_invoice_is_deleted_and_forgotten(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    pusher = BatchPusher(client, ledger)
    [invoice, _] = graph()["invoices"]
    pusher.push(collection("invoices"), [invoice])
    fake.calls.clear()
    invoice["invoice_line_items"].pop()
    report = pusher.push(collection("invoices"), [invoice])
    assert fake.calls == [("DELETE", "inv_1:L1")]
    assert report.writes == {"delete": 1}
    assert ("invoice_line_items", "inv_1:L1") not in _ledger_rows(ledger)


def test_push_batch_refuses_tables_that_are_not_collections(
    client: FincomeClient, tmp_path: Path
) -> None:
    table: Any = {"name": "clients", "columns": {}}
    with pytest.raises(FincomePushFailed, match="table 'clients' is not a Fincome collection"):
        push_batch([{"id": "x"}], table, client=client, ledger_path=tmp_path / "l.duckdb")
    with pytest.raises(FincomePushFailed, match="batch_size > 0"):
        push_batch("/some/file.jsonl", table, client=client, ledger_path=tmp_path / "l.duckdb")


def test_push_batch_wraps_fatal_errors_with_the_configuration_hint(
    client: FincomeClient, fake: FakeFincome, tmp_path: Path
) -> None:
    fake.refuse[("POST", "p0")] = 403
    table: Any = {"name": "products", "columns": {"id": {}, "name": {}}}
    with pytest.raises(FincomePushFailed, match=r"check destination\.fincome\.api_key") as raised:
        push_batch([{"id": "p0"}], table, client=client, ledger_path=tmp_path / "l.duckdb")
    assert KEY not in str(raised.value)


def test_values_dlt_put_in_variant_columns_are_refused_with_a_reason(
    client: FincomeClient, fake: FakeFincome, tmp_path: Path
) -> None:
    columns = {
        "id": {"name": "id", "data_type": "text"},
        "product_id": {"name": "product_id", "data_type": "text"},
        "period_length": {"name": "period_length", "data_type": "bigint"},
        "period_length▶v_text": {"data_type": "text", "variant": True},
    }
    table: Any = {"name": "prices", "columns": columns}
    rows = [{"id": "ok", "period_length": 1}, {"id": "bad", "period_length▶v_text": "twelve"}]
    path = tmp_path / "l.duckdb"
    report = push_batch(rows, table, client=client, ledger_path=path)
    assert fake.calls == [("POST", "ok")]
    assert report.rejected == 1
    close_ledgers()
    [reject] = LedgerStore.open(path).open_rejects()
    assert reject["record_id"] == "bad"
    assert reject["reason"] == "period_length: 'twelve' is not a number"
