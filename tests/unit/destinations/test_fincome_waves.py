"""The diff's writes as waves of ready steps: order, embedded lines, deletes once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import orjson

from destinations.fincome.desired import column_types, desired_row
from destinations.fincome.diff import diff
from destinations.fincome.ledger import LedgerEntry, LedgerStore
from destinations.fincome.schema import PUSH_ORDER
from destinations.fincome.waves import Step, planned_waves

Row = dict[str, object]

CUSTOMERS: list[Row] = [
    {"id": "child", "root_parent_id": "root", "name": "Child"},
    {"id": "root", "root_parent_id": None, "name": "Root"},
]
INVOICE: Row = {"customer_id": "root", "date": "2026-01-01T00:00:00Z", "status": "paid"}


def _line(line_id: str, invoice_id: str, amount: str, **extra: Any) -> Row:
    return {
        "id": line_id,
        "invoice_id": invoice_id,
        "type": "subscription",
        "amount_excluding_tax_after_discount": amount,
        "tax_amount": "0",
        "currency_code": "USD",
        **extra,
    }


def _desired(db: duckdb.DuckDBPyConnection, rows: Mapping[str, list[Row]]) -> None:
    """The desired-state tables holding `rows` (none of them has custom properties)."""
    db.execute("CREATE SCHEMA IF NOT EXISTS fincome")
    for spec in PUSH_ORDER:
        columns = column_types(spec)
        definition = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        db.execute(f"CREATE TABLE fincome.{spec.name} ({definition})")
        for row in rows.get(spec.name, []):
            full = desired_row(spec, {name: row.get(name) for name in spec.field_names})
            marks = ", ".join("?" for _ in columns)
            db.execute(
                f"INSERT INTO fincome.{spec.name} VALUES ({marks})",
                [full.get(name) for name in columns],
            )


def _waves(db: duckdb.DuckDBPyConnection) -> list[list[Step]]:
    return [list(wave) for wave in planned_waves(db, diff(db))]


def _shape(waves: list[list[Step]]) -> list[list[tuple[str, str, str]]]:
    return [[(s.action, s.collection, s.item_id) for s in wave] for wave in waves]


def test_parents_come_first_and_a_root_customer_before_its_child() -> None:
    db = duckdb.connect()
    _desired(
        db,
        {
            "invoice_line_items": [_line("i1:L0", "i1", "10")],
            "invoices": [{"id": "i1", **INVOICE}],
            "customers": CUSTOMERS,
        },
    )
    assert _shape(_waves(db)) == [
        [("create", "customers", "root")],
        [("create", "customers", "child")],
        [("create", "invoices", "i1")],  # its line rides inside
    ]


def test_a_created_invoice_carries_its_lines_and_records_each() -> None:
    db = duckdb.connect()
    _desired(
        db,
        {
            "customers": CUSTOMERS[1:],
            "invoices": [{"id": "i1", **INVOICE}],
            "invoice_line_items": [_line("i1:L1", "i1", "2.50"), _line("i1:L0", "i1", "10")],
        },
    )
    [_, [create]] = _waves(db)
    body = orjson.loads(create.body or b"")
    assert [line["id"] for line in body["invoice_line_items"]] == ["i1:L0", "i1:L1"]
    assert body["invoice_line_items"][1]["amount_excluding_tax_after_discount"] == 2.5
    assert [(e.collection, e.id, e.parent_id) for e in create.record] == [
        ("invoices", "i1", None),
        ("invoice_line_items", "i1:L0", "i1"),
        ("invoice_line_items", "i1:L1", "i1"),
    ]


def test_an_invoice_whose_lines_prorate_another_new_invoice_waits_for_it() -> None:
    db = duckdb.connect()
    _desired(
        db,
        {
            "customers": CUSTOMERS[1:],
            "invoices": [{"id": "a", **INVOICE}, {"id": "b", **INVOICE}],
            "invoice_line_items": [
                _line("a:L0", "a", "5", proration_target_line_item_id="b:L0"),
                _line("b:L0", "b", "10"),
            ],
        },
    )
    assert _shape(_waves(db))[1:] == [
        [("create", "invoices", "b")],
        [("create", "invoices", "a")],
    ]


def test_a_gone_credit_note_is_deleted_after_its_lines_each_once() -> None:
    db = duckdb.connect()
    _desired(db, {})
    LedgerStore(db).record(
        [
            LedgerEntry("credit_notes", "cn", "h", {"id": "cn"}),
            LedgerEntry("credit_note_line_items", "cn:L0", "h", {"id": "cn:L0"}, "cn"),
            LedgerEntry("credit_note_line_items", "cn:L1", "h", {"id": "cn:L1"}, "cn"),
        ]
    )
    assert _shape(_waves(db)) == [
        [
            ("delete", "credit_note_line_items", "cn:L0"),
            ("delete", "credit_note_line_items", "cn:L1"),
        ],
        [("delete", "credit_notes", "cn")],
    ]


def test_an_update_sends_the_desired_body_and_lines_of_a_known_invoice_go_on_their_own() -> None:
    db = duckdb.connect()
    _desired(
        db,
        {
            "customers": CUSTOMERS[1:],
            "invoices": [{"id": "i1", **INVOICE, "status": "void"}],
            "invoice_line_items": [_line("i1:L0", "i1", "10")],
        },
    )
    store = LedgerStore(db)
    store.record(
        [
            LedgerEntry("customers", "root", _hash(db, "customers", "root"), {"id": "root"}),
            LedgerEntry("invoices", "i1", "old", {"id": "i1"}),
        ]
    )
    [[update], [line]] = _waves(db)
    assert (update.action, orjson.loads(update.body or b"")["status"]) == ("update", "void")
    assert "invoice_line_items" not in orjson.loads(update.body or b"")
    assert (line.action, line.collection, line.item_id) == ("create", "invoice_line_items", "i1:L0")
    assert line.record[0].parent_id == "i1"


def _hash(db: duckdb.DuckDBPyConnection, name: str, row_id: str) -> str:
    [(row_hash,)] = db.execute(
        f"SELECT row_hash FROM fincome.{name} WHERE id = ?", [row_id]
    ).fetchall()
    return str(row_hash)


def test_a_wave_read_over_several_pages_sends_each_invoice_once_with_its_lines() -> None:
    db = duckdb.connect()
    ids = [f"i{n:04d}" for n in range(1, 1_120)]  # a short first page, a full one, a rest
    _desired(
        db,
        {
            "customers": CUSTOMERS,
            "invoices": [{"id": i, **INVOICE} for i in ids],
            "invoice_line_items": [_line(f"{i}:L{k}", i, "1") for i in ids for k in range(2)],
        },
    )
    invoices = [step for wave in _waves(db) for step in wave if step.collection == "invoices"]
    assert [step.item_id for step in invoices] == ids
    assert all(
        [entry.id for entry in step.record]
        == [step.item_id, f"{step.item_id}:L0", f"{step.item_id}:L1"]
        for step in invoices
    )
