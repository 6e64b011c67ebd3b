"""Fincome views: per-record totals, structured filters, order, pages and time windows."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import pytest

from sandbox.fincome.errors import Invalid
from sandbox.fincome.periods import Grain
from sandbox.fincome.store import FincomeStore
from sandbox.fincome.view_query import ViewQuery, ViewReader, time_window
from sandbox.fincome.views import VIEWS
from tests.fixtures.fincome import (
    credit_line_body,
    credit_note_body,
    customer_body,
    invoice_body,
    line_body,
)


@pytest.fixture
def store() -> FincomeStore:
    store = FincomeStore()
    store.create("customers", customer_body("cus_1", custom_properties={"tier": "gold"}))
    store.create("customers", customer_body("cus_2", email="b@example.com"))
    invoices = [
        ("inv_1", "2024-01-15", ["10.10", "20.20"], "USD"),
        ("inv_2", "2024-03-31", ["5"], "EUR"),
        ("inv_3", "2024-04-01", ["7.5", "2.5"], "USD"),
        ("inv_4", "2025-02-01", [], "USD"),
    ]
    for invoice_id, day, amounts, currency in invoices:
        lines = [
            line_body(f"{invoice_id}:L{i}", invoice_id, amount, currency_code=currency)
            for i, amount in enumerate(amounts)
        ]
        body = invoice_body(invoice_id, "cus_1", lines, date=f"{day}T12:00:00Z")
        store.create("invoices", body)
    store.update("invoices", "inv_2", {"customer_id": "cus_2", "invoice_number": "N-2"})
    credit_lines = [
        credit_line_body("cn_1:L0", amount="-3.00"),
        credit_line_body("cn_1:L1", amount="-0.30"),
    ]
    store.create("credit_notes", credit_note_body("cn_1", "inv_1", credit_lines))
    for subscription_id, start, end in [
        ("sub_1", "2023-06-01", "2024-02-01"),
        ("sub_2", "2024-05-01", None),
        ("sub_3", None, None),
    ]:
        dates = {
            "subscription_start_date": f"{start}T00:00:00Z" if start else None,
            "effective_cancellation_date": f"{end}T00:00:00Z" if end else None,
        }
        store.create("subscriptions", {"id": subscription_id, "customer_id": "cus_1", **dates})
    return store


def query(
    store: FincomeStore,
    slug: str,
    *,
    filters: list[dict[str, Any]] | str | None = None,
    order_by: str | None = None,
    order_dir: Literal["asc", "desc"] = "asc",
    limit: int = 100,
    offset: int = 0,
    window: tuple[str | None, str | None, Grain] = (None, None, "month"),
) -> dict[str, Any]:
    raw = filters if isinstance(filters, str) or filters is None else json.dumps(filters)
    start, end, grain = window
    bounds = time_window(date.fromisoformat(start) if start else None,
                         date.fromisoformat(end) if end else None, grain)  # fmt: skip
    view_query = ViewQuery(raw, order_by, order_dir, limit, offset, bounds)
    return ViewReader(store).query(VIEWS[slug], view_query)


def ids(result: dict[str, Any]) -> list[str]:
    return [row["id"] for row in result["rows"]]


def test_invoices_view_totals_each_invoice(store: FincomeStore) -> None:
    rows = {row["id"]: row for row in query(store, "invoices")["rows"]}
    assert (rows["inv_1"]["total_amount"], rows["inv_1"]["currency_code"]) == (
        Decimal("30.30"),
        "USD",
    )
    assert (rows["inv_2"]["customer_id"], rows["inv_2"]["line_count"]) == ("cus_2", 1)
    assert (rows["inv_4"]["total_amount"], rows["inv_4"]["currency_code"]) == (0, None)
    assert set(rows["inv_1"]) == {column.name for column in VIEWS["invoices"].columns}


def test_credit_notes_view_totals_and_credited_amount(store: FincomeStore) -> None:
    (row,) = query(store, "credit_notes")["rows"]
    assert (row["total_amount"], row["credited_amount"]) == (Decimal("-3.30"), Decimal("3.30"))
    assert (row["customer_id"], row["currency_code"], row["line_count"]) == ("cus_1", "USD", 2)


def test_line_views_carry_their_parent(store: FincomeStore) -> None:
    line = next(r for r in query(store, "invoice_line_items")["rows"] if r["id"] == "inv_2:L0")
    assert (line["customer_id"], line["invoice_status"]) == ("cus_2", "paid")
    credit = query(store, "credit_note_line_items")["rows"][0]
    assert (credit["invoice_id"], str(credit["credit_note_date"].date())) == ("inv_1", "2024-05-20")


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ({"field": "customer_id", "op": "eq", "value": "cus_2"}, ["inv_2"]),
        ({"field": "customer_id", "op": "neq", "value": "cus_2"}, ["inv_1", "inv_3", "inv_4"]),
        ({"field": "total_amount", "op": "gt", "value": 10}, ["inv_1"]),
        ({"field": "total_amount", "op": "gte", "value": 10}, ["inv_1", "inv_3"]),
        ({"field": "total_amount", "op": "lt", "value": 5.0}, ["inv_4"]),
        ({"field": "total_amount", "op": "lte", "value": 5}, ["inv_2", "inv_4"]),
        ({"field": "date", "op": "gte", "value": "2024-03-31T12:00:00Z"},
         ["inv_2", "inv_3", "inv_4"]),
        ({"field": "date", "op": "lt", "value": "2024-04-01"}, ["inv_1", "inv_2"]),
        ({"field": "currency_code", "op": "in", "value": ["EUR", "GBP"]}, ["inv_2"]),
        ({"field": "currency_code", "op": "not_in", "value": ["EUR"]}, ["inv_1", "inv_3", "inv_4"]),
        ({"field": "invoice_number", "op": "contains", "value": "N-"}, ["inv_2"]),
        ({"field": "currency_code", "op": "is_null", "value": True}, ["inv_4"]),
        ({"field": "invoice_number", "op": "is_null", "value": False}, ["inv_2"]),
        ({"field": "line_count", "op": "eq", "value": 2}, ["inv_1", "inv_3"]),
    ],
)  # fmt: skip
def test_filters(store: FincomeStore, clause: dict[str, Any], expected: list[str]) -> None:
    assert ids(query(store, "invoices", filters=[clause], order_by="id")) == expected


def test_filters_combine_and_reach_custom_properties(store: FincomeStore) -> None:
    gold = [{"field": "custom_properties", "op": "contains", "value": "tier"}]
    assert ids(query(store, "customers", filters=gold)) == ["cus_1"]
    both = [{"field": "currency_code", "op": "eq", "value": "USD"},
            {"field": "total_amount", "op": "gt", "value": "0"}]  # fmt: skip
    with pytest.raises(Invalid):  # a number column refuses a numeric string
        query(store, "invoices", filters=both)


FILTERS = ["query", "filters"]
FIRST = [*FILTERS, 0]


@pytest.mark.parametrize(
    ("filters", "loc", "error_type"),
    [
        ("[{", FILTERS, "invalid_filter"),
        ('{"field": "id"}', FILTERS, "list_type"),
        ([{"field": "id", "op": "like", "value": "x"}], [*FIRST, "op"], "literal_error"),
        ([{"field": "nope", "op": "eq", "value": "x"}], [*FIRST, "field"], "invalid_filter"),
        ([{"field": "line_count", "op": "gt", "value": "1"}], [*FIRST, "value"], "invalid_filter"),
        ([{"field": "id", "op": "in", "value": "x"}], [*FIRST, "value"], "invalid_filter"),
        ([{"field": "date", "op": "lt", "value": "soon"}], [*FIRST, "value"], "invalid_filter"),
    ],
)  # fmt: skip
def test_bad_filters_answer_422(
    store: FincomeStore, filters: Any, loc: list[Any], error_type: str
) -> None:
    with pytest.raises(Invalid) as caught:
        query(store, "invoices", filters=filters)
    assert [(e["loc"], e["type"]) for e in caught.value.detail] == [(loc, error_type)]


def test_order_puts_nulls_last_both_ways(store: FincomeStore) -> None:
    assert ids(query(store, "invoices")) == ["inv_1", "inv_2", "inv_3", "inv_4"]  # by date
    assert ids(query(store, "invoices", order_by="currency_code")) == [
        "inv_2",
        "inv_1",
        "inv_3",
        "inv_4",
    ]
    descending = query(store, "invoices", order_by="currency_code", order_dir="desc")
    assert ids(descending) == ["inv_1", "inv_3", "inv_2", "inv_4"]


def test_order_by_an_unknown_or_object_column_is_422(store: FincomeStore) -> None:
    for column in ("nope", "custom_properties"):
        with pytest.raises(Invalid) as caught:
            query(store, "invoices", order_by=column)
        assert caught.value.detail[0]["loc"] == ["query", "order_by"]


def test_pages(store: FincomeStore) -> None:
    first = query(store, "invoice_line_items", limit=2)
    assert first["page"] == {"limit": 2, "offset": 0, "returned": 2, "has_more": True}
    last = query(store, "invoice_line_items", limit=2, offset=4)
    assert last["page"] == {"limit": 2, "offset": 4, "returned": 1, "has_more": False}
    assert ids(first) + ids(query(store, "invoice_line_items", limit=2, offset=2)) + ids(last) == [
        "inv_1:L0", "inv_1:L1", "inv_2:L0", "inv_3:L0", "inv_3:L1",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (("2024-01-31", "2024-03-01", "month"), ["inv_1", "inv_2"]),
        (("2024-03-15", "2024-03-15", "month"), ["inv_2"]),
        (("2024-02-10", "2024-02-10", "quarter"), ["inv_1", "inv_2"]),
        (("2024-03-31", "2024-04-01", "quarter"), ["inv_1", "inv_2", "inv_3"]),
        (("2024-07-01", "2024-07-01", "year"), ["inv_1", "inv_2", "inv_3"]),
        (("2024-04-01", None, "month"), ["inv_3", "inv_4"]),
        ((None, "2024-02-29", "month"), ["inv_1"]),
    ],
)
def test_time_window_selects_whole_periods(
    store: FincomeStore, window: tuple[str | None, str | None, Grain], expected: list[str]
) -> None:
    assert ids(query(store, "invoices", window=window)) == expected


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (("2024-01-01", "2024-01-31", "month"), ["sub_1"]),
        (("2024-02-01", "2024-04-30", "month"), []),
        (("2024-01-01", "2024-12-31", "month"), ["sub_1", "sub_2"]),
        (("2030-01-01", "2030-01-01", "year"), ["sub_2"]),
    ],
)
def test_period_views_keep_overlapping_spans(
    store: FincomeStore, window: tuple[str, str, Grain], expected: list[str]
) -> None:
    assert ids(query(store, "subscriptions", window=window)) == expected


def test_results_follow_writes(store: FincomeStore) -> None:
    reader = ViewReader(store)
    plain = ViewQuery(None, None, "asc", 100, 0, (None, None))
    assert len(reader.query(VIEWS["customers"], plain)["rows"]) == 2
    store.create("customers", customer_body("cus_3"))
    assert len(reader.query(VIEWS["customers"], plain)["rows"]) == 3
