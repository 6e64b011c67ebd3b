"""The frozen rule: what Fincome holds under an open transform reject is never touched.

One pushed account in an in-memory DuckDB: customer c1 with subscription s1, invoice i1 (two
lines, one naming s1) and credit note n1 correcting i1 (one line); customer c2 with
subscription s2 and invoice i2 (one line). Each case drops records from the desired state as
the transform would when it rejects them, opens rejects, and reads the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pytest

from destinations.fincome.ledger import LedgerEntry, LedgerStore, Reject
from pipelines.frozen import frozen_rejects
from pipelines.plan import plan_push

TABLES = """
    CREATE SCHEMA fincome;
    CREATE TABLE fincome.customers (id VARCHAR, row_hash VARCHAR, root_parent_id VARCHAR);
    CREATE TABLE fincome.subscriptions (id VARCHAR, row_hash VARCHAR, customer_id VARCHAR,
        price_id VARCHAR);
    CREATE TABLE fincome.invoices (id VARCHAR, row_hash VARCHAR, customer_id VARCHAR);
    CREATE TABLE fincome.invoice_line_items (id VARCHAR, row_hash VARCHAR, invoice_id VARCHAR,
        subscription_id VARCHAR, price_id VARCHAR, proration_target_line_item_id VARCHAR,
        currency_code VARCHAR, amount_excluding_tax_after_discount DECIMAL(38, 9));
    CREATE TABLE fincome.credit_notes (id VARCHAR, row_hash VARCHAR, invoice_id VARCHAR);
    CREATE TABLE fincome.credit_note_line_items (id VARCHAR, row_hash VARCHAR,
        credit_note_id VARCHAR, invoice_line_item_id VARCHAR, currency_code VARCHAR,
        amount DECIMAL(38, 9));
"""
# (collection, id, body fields, parent id): what Fincome acknowledged
PUSHED: list[tuple[str, str, dict[str, str | None], str | None]] = [
    ("customers", "c1", {"root_parent_id": None}, None),
    ("customers", "c2", {"root_parent_id": None}, None),
    ("subscriptions", "s1", {"customer_id": "c1", "price_id": None}, None),
    ("subscriptions", "s2", {"customer_id": "c2", "price_id": None}, None),
    ("invoices", "i1", {"customer_id": "c1"}, None),
    ("invoices", "i2", {"customer_id": "c2"}, None),
    ("invoice_line_items", "i1:L0", {"invoice_id": "i1", "subscription_id": "s1"}, "i1"),
    ("invoice_line_items", "i1:L1", {"invoice_id": "i1", "subscription_id": None}, "i1"),
    ("invoice_line_items", "i2:L0", {"invoice_id": "i2", "subscription_id": "s2"}, "i2"),
    ("credit_notes", "n1", {"invoice_id": "i1"}, None),
    ("credit_note_line_items", "n1:L0", {"credit_note_id": "n1"}, "n1"),
]
LINE_DEFAULTS: dict[str, str | None] = {"price_id": None, "proration_target_line_item_id": None,
                 "currency_code": "USD", "amount_excluding_tax_after_discount": "1"}  # fmt: skip
C1 = {"c1", "s1", "i1", "i1:L0", "i1:L1", "n1", "n1:L0"}


@dataclass(frozen=True)
class Case:
    name: str
    rejects: list[tuple[str, str, str]]  # stage, Metronome collection, record id
    missing: set[str]  # ids the transform no longer produces
    changed: set[str] = field(default_factory=set)  # ids it produces with another hash
    resolved: bool = False  # the rejects are resolved: the record maps again
    frozen: dict[str, int] = field(default_factory=dict)
    updates: set[str] = field(default_factory=set)
    deletes: set[str] = field(default_factory=set)


CASES = [
    Case(
        "an invoice rejected after it was pushed freezes its lines, credit note and subscription",
        rejects=[("transform", "invoices", "i1"), ("transform", "invoices", "n1")],
        missing={"i1", "i1:L0", "i1:L1", "n1", "n1:L0"},
        changed={"s1"},  # without i1 the subscription's monthly value would change
        frozen={
            "subscriptions": 1,
            "invoices": 1,
            "invoice_line_items": 2,
            "credit_notes": 1,
            "credit_note_line_items": 1,
        },
    ),
    Case(
        "a rejected customer freezes everything of it",
        rejects=[("transform", "customers", "c1")],
        missing=C1,
        frozen={
            "customers": 1,
            "subscriptions": 1,
            "invoices": 1,
            "invoice_line_items": 2,
            "credit_notes": 1,
            "credit_note_line_items": 1,
        },
    ),
    Case(
        "a rejected customer plan keeps its subscription and its invoices",
        rejects=[("transform", "customer_plans", "s2")],
        missing={"s2"},
        changed={"i2", "i2:L0"},  # no longer a renewal, the line names another subscription
        frozen={"subscriptions": 1, "invoices": 1, "invoice_line_items": 1},
    ),
    Case(
        "once the reject resolves the plan treats the records as usual",
        rejects=[("transform", "invoices", "i1")],
        missing={"i1:L1"},  # a line really gone upstream
        changed={"i1"},  # e.g. it turned VOID
        resolved=True,
        updates={"i1"},
        deletes={"i1:L1"},
    ),
    Case(
        "a push reject freezes nothing (Fincome refused the new version, kept the old)",
        rejects=[("push", "invoices", "i2")],
        missing=set(),
        changed={"i2"},
        updates={"i2"},
    ),
    Case(
        "a reject of a record Fincome never held freezes nothing",
        rejects=[("transform", "invoices", "i9")],
        missing=set(),
        changed={"s2"},
        updates={"s2"},
    ),
]


def pushed_account(case: Case) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute(TABLES)
    ledger = LedgerStore(db)
    ledger.record(
        LedgerEntry(c, i, f"h-{i}", {"id": i, **body}, parent) for c, i, body, parent in PUSHED
    )
    for collection, row_id, body, _ in PUSHED:
        if row_id in case.missing:
            continue
        new_hash = f"h-{row_id}{'-new' if row_id in case.changed else ''}"
        row: dict[str, str | None] = {"id": row_id, "row_hash": new_hash}
        row |= body | (LINE_DEFAULTS if collection == "invoice_line_items" else {})
        if collection == "credit_note_line_items":
            row |= {"invoice_line_item_id": None, "currency_code": "USD", "amount": "-1"}
        columns, marks = ", ".join(row), ", ".join("?" * len(row))
        db.execute(
            f"INSERT INTO fincome.{collection} ({columns}) VALUES ({marks})", list(row.values())
        )
    ledger.add_rejects(Reject(*reject, reason="refused") for reject in case.rejects)
    if case.resolved:
        db.execute("UPDATE fincome_sync.rejects SET resolved_at = now()")
    return db


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_frozen_records_are_counted_and_never_updated_nor_deleted(case: Case) -> None:
    plan = plan_push(pushed_account(case))
    frozen = {name: p.frozen for name, p in plan.collections.items() if p.frozen}
    updates = {i for p in plan.collections.values() for i in p.ids["update"]}
    deletes = {i for p in plan.collections.values() for i in p.ids["delete"]}
    assert frozen == case.frozen
    assert updates == case.updates
    assert deletes == case.deletes
    assert all(p.stale == 0 for p in plan.collections.values())
    assert plan.counts()["invoices"]["frozen"] == case.frozen.get("invoices", 0)


def test_each_freezing_reject_says_since_when_and_how_many_records() -> None:
    case = CASES[1]  # customer c1 rejected
    db = pushed_account(case)
    db.execute("UPDATE fincome_sync.ledger SET pushed_at = ? WHERE id = 'c1'", [_at(1)])
    db.execute("UPDATE fincome_sync.ledger SET pushed_at = ? WHERE id <> 'c1'", [_at(5)])
    [(key, frozen)] = frozen_rejects(db).items()
    assert key == ("customers", "c1")
    assert frozen.records == len(C1)
    assert frozen.since == _at(1)  # the customer's own version, not its invoices'


def test_only_the_retried_records_are_planned_with_what_belongs_to_them() -> None:
    # c1 was rejected, then the mapping was fixed: every record of it maps again
    db = pushed_account(Case("", rejects=[], missing=set(), changed=C1 | {"i2"}))
    plan = plan_push(db, only={("customers", "c1")})
    updates = {i for p in plan.collections.values() for i in p.ids["update"]}
    assert updates == C1  # i2 changed too, but it is c2's


def test_nothing_is_frozen_without_a_ledger_or_rejects_table() -> None:
    db = duckdb.connect()
    assert frozen_rejects(db) == {}
    assert plan_push(db).writes == 0


def _at(day: int) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC)
