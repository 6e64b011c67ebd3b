"""The transform's own rejects: packed for holding, stored in the ledger under stage transform."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
import orjson
import pytest

from destinations.fincome.ledger import LedgerStore, Reject
from pipelines.rejects import store_transform_rejects
from pipelines.transform.rejects import TransformReject

INVOICE: dict[str, Any] = {
    "id": "inv_1",
    "total": Decimal("12.50"),
    "issued_at": datetime(2026, 1, 31, tzinfo=UTC),
    "line_items": [{"name": "Société Générale — 東京", "total": Decimal("12.5"), "tiers": None}],
}


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _stored(rejects: list[TransformReject]) -> list[dict[str, Any]]:
    ledger = LedgerStore(duckdb.connect(":memory:"))
    store_transform_rejects(ledger, rejects)
    return [
        {key: row[key] for key in ("stage", "collection", "record_id", "reason", "payload")}
        for row in ledger.open_rejects()
    ]


@pytest.mark.parametrize(
    "payload",
    [None, INVOICE, [1, "two", None], _nested(300), {"big": 2**70}],
    ids=["none", "invoice", "list", "nested deeper than orjson goes", "int beyond 64 bits"],
)
def test_a_packed_reject_is_stored_exactly_as_the_ledger_stores_the_record(payload: Any) -> None:
    reject = TransformReject("invoices", "inv_1", "refused", payload=payload)
    as_ledger = LedgerStore(duckdb.connect(":memory:"))
    as_ledger.add_rejects([Reject("transform", "invoices", "inv_1", "refused", payload=payload)])
    expected = [
        {key: row[key] for key in ("stage", "collection", "record_id", "reason", "payload")}
        for row in as_ledger.open_rejects()
    ]
    packed = reject.packed()
    assert _stored([packed]) == _stored([reject]) == expected
    assert packed.packed() is packed  # packing twice changes nothing


def test_storing_resolves_the_transform_rejects_a_run_no_longer_produces() -> None:
    ledger = LedgerStore(duckdb.connect(":memory:"))
    ledger.add_rejects([Reject("extract", "invoices", "inv_x", "unreadable")])
    store_transform_rejects(ledger, [TransformReject("invoices", "inv_1", "refused")])
    store_transform_rejects(ledger, [TransformReject("customers", "cus_1", "no id")])
    open_keys = {(r["stage"], r["collection"], r["record_id"]) for r in ledger.open_rejects()}
    assert open_keys == {("extract", "invoices", "inv_x"), ("transform", "customers", "cus_1")}


def test_an_ordinary_payload_is_held_as_its_json_text() -> None:
    packed = TransformReject("invoices", "inv_1", "refused", payload=INVOICE).packed()
    assert isinstance(packed.payload, orjson.Fragment)


def test_a_reject_produced_again_unchanged_is_only_seen_again_not_reopened() -> None:
    ledger = LedgerStore(duckdb.connect(":memory:"))
    store_transform_rejects(ledger, [TransformReject("invoices", "inv_1", "refused")])
    (first,) = ledger.open_rejects()
    store_transform_rejects(ledger, [TransformReject("invoices", "inv_1", "refused")])
    (again,) = ledger.open_rejects()
    store_transform_rejects(ledger, [TransformReject("invoices", "inv_1", "refused otherwise")])
    (changed,) = ledger.open_rejects()

    assert (first["attempts"], again["attempts"], changed["attempts"]) == (1, 1, 2)
    assert again["first_seen"] == first["first_seen"]
    assert again["last_seen"] > first["last_seen"]  # this run saw it: a run reports it
    assert changed["reason"] == "refused otherwise"
