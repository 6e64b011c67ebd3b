"""Rejects in the ledger database: stored as given whether packed or not, in batches, keyed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pytest

from destinations.fincome import ledger as ledger_module
from destinations.fincome.ledger import LedgerStore, Reject

INVOICE: dict[str, Any] = {
    "id": "inv_1",
    "total": Decimal("12.50"),
    "line_items": [{"name": "Seats", "total": Decimal("12.5"), "tiers": None}],
    "custom_fields": {},
}


def _store() -> LedgerStore:
    return LedgerStore(duckdb.connect(":memory:"))


def _stored(store: LedgerStore) -> list[tuple[Any, ...]]:
    return [
        (row["stage"], row["collection"], row["record_id"], row["detail"], row["payload"])
        for row in store.open_rejects()
    ]


@pytest.mark.parametrize(
    ("detail", "payload"),
    [
        (None, None),
        ([{"loc": ["body", "id"]}], INVOICE),
        ("plain text", [1, "two", None]),
        ({"msg": "refusé"}, {"name": "Société Générale — 東京"}),
    ],
)
def test_a_packed_reject_is_stored_exactly_like_the_reject_it_packs(
    detail: Any, payload: Any
) -> None:
    reject = Reject("transform", "invoices", "inv_1", "refused", detail=detail, payload=payload)
    as_given, packed = _store(), _store()
    as_given.add_rejects([reject])
    packed.add_rejects([reject.packed()])
    assert _stored(packed) == _stored(as_given)
    once = reject.packed()
    twice = once.packed()  # packing twice changes nothing
    assert (twice.detail, twice.payload) == (once.detail, once.payload)


def test_many_rejects_go_in_batches_and_the_last_one_per_record_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ledger_module, "REJECTS_PER_STATEMENT", 2)
    store = _store()
    rejects = [Reject("transform", "invoices", f"inv_{i}", f"first {i}") for i in range(5)]
    store.add_rejects([*rejects, Reject("transform", "invoices", "inv_3", "second 3")])
    reasons = {row["record_id"]: row["reason"] for row in store.open_rejects()}
    assert reasons == {f"inv_{i}": f"first {i}" for i in (0, 1, 2, 4)} | {"inv_3": "second 3"}


def test_open_reject_keys_name_the_open_rejects_of_a_stage() -> None:
    store = _store()
    store.add_rejects(
        [
            Reject("transform", "invoices", "inv_2", "refused", payload=INVOICE),
            Reject("transform", "invoices", "inv_1", "refused"),
            Reject("transform", "customers", "cus_1", "refused"),
            Reject("extract", "invoices", "inv_9", "junk"),
        ]
    )
    store.resolve_rejects("transform", "customers", ["cus_1"])
    assert store.open_reject_keys(stage="transform") == [
        ("invoices", "inv_1"),
        ("invoices", "inv_2"),
    ]
    assert store.open_reject_keys() == [
        ("invoices", "inv_1"),
        ("invoices", "inv_2"),
        ("invoices", "inv_9"),
    ]
    keys = [(row["collection"], row["record_id"]) for row in store.open_rejects()]
    assert sorted(store.open_reject_keys()) == sorted(keys)


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"down": value}
    return value


@pytest.mark.parametrize(
    "payload",
    [_nested(300), {"big": 2**70}],
    ids=["nested deeper than orjson goes", "an int beyond 64 bits"],
)
def test_a_payload_orjson_cannot_dump_is_stored_all_the_same(payload: Any) -> None:
    store = _store()
    reject = Reject("transform", "invoices", "inv_1", "junk", payload=payload)
    store.add_rejects([reject.packed()])
    [stored] = store.open_rejects()
    assert stored["payload"] == payload


def test_a_payload_too_deep_for_any_json_encoder_is_named_instead() -> None:
    store = _store()
    store.add_rejects([Reject("transform", "invoices", "inv_1", "junk", payload=_nested(5000))])
    [stored] = store.open_rejects()
    assert stored["payload"] == "not kept: a dict nested too deep for JSON"
    assert stored["reason"] == "junk"
