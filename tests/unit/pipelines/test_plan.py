"""The push plan: creates, updates, deletes, stale rows, embedded lines and money, in SQL."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from destinations.fincome.ledger import LedgerEntry, LedgerStore
from pipelines.plan import plan_push


@pytest.fixture
def db() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute(
        """
        CREATE SCHEMA fincome;
        CREATE TABLE fincome.customers (id VARCHAR, row_hash VARCHAR, root_parent_id VARCHAR);
        CREATE TABLE fincome.invoices (id VARCHAR, row_hash VARCHAR, customer_id VARCHAR);
        CREATE TABLE fincome.invoice_line_items (id VARCHAR, row_hash VARCHAR, invoice_id VARCHAR,
            subscription_id VARCHAR, currency_code VARCHAR,
            amount_excluding_tax_after_discount DECIMAL(38, 9), price_id VARCHAR,
            proration_target_line_item_id VARCHAR);
        INSERT INTO fincome.customers VALUES ('c1', 'h1', NULL), ('c2', 'h2-new', NULL),
            ('c3', 'h3', NULL);
        INSERT INTO fincome.invoices VALUES ('i-old', 'hi-old-v2', 'c1'), ('i-new', 'hi-new', 'c3');
        INSERT INTO fincome.invoice_line_items VALUES
            ('i-old:L0', 'hl0', 'i-old', NULL, 'USD', 10.00, NULL, NULL),
            ('i-old:L1', 'hl1-new', 'i-old', NULL, 'USD', 7.50, NULL, NULL),
            ('i-old:L3', 'hl3', 'i-old', NULL, 'USD', 1.25, NULL, NULL),
            ('i-new:L0', 'hn0', 'i-new', NULL, 'EUR', 100.10, NULL, NULL),
            ('i-new:L1', 'hn1', 'i-new', NULL, 'EUR', -0.10, NULL, NULL);
        """
    )
    ledger = LedgerStore(db)
    ledger.record(
        [
            LedgerEntry("customers", "c1", "h1", {"id": "c1"}),
            LedgerEntry("customers", "c2", "h2-old", {"id": "c2"}),
            LedgerEntry("customers", "gone-customer", "hx", {"id": "gone-customer"}),
            LedgerEntry("invoices", "i-old", "hi-old-v1", {"id": "i-old", "customer_id": "c1"}),
            *[
                LedgerEntry(
                    "invoice_line_items",
                    line_id,
                    line_hash,
                    {"currency_code": "USD", "amount_excluding_tax_after_discount": amount},
                    "i-old",
                )
                for line_id, line_hash, amount in [
                    ("i-old:L0", "hl0", "10.00"),
                    ("i-old:L1", "hl1-old", "5.00"),
                    ("i-old:L2", "hl2", "2.00"),
                ]
            ],
        ]
    )
    return db


def test_ops_per_collection(db: duckdb.DuckDBPyConnection) -> None:
    plan = plan_push(db)
    counts = plan.counts()
    assert counts["customers"] == {
        "create": 1, "update": 1, "delete": 0, "embedded": 0, "stale": 1, "frozen": 0
    }  # fmt: skip
    assert plan.collections["customers"].ids["create"] == ["c3"]
    assert plan.collections["invoices"].ids == {
        "create": ["i-new"],
        "update": ["i-old"],
        "delete": [],
    }
    lines = plan.collections["invoice_line_items"]
    assert lines.ids == {"create": ["i-old:L3"], "update": ["i-old:L1"], "delete": ["i-old:L2"]}
    assert lines.embedded == 2  # i-new:L0 and i-new:L1, inside the create of i-new
    # embedded lines are no writes of their own; the stale customer is never touched
    assert plan.writes == 1 + 1 + 1 + 1 + 3


def test_money_per_op(db: duckdb.DuckDBPyConnection) -> None:
    plan = plan_push(db)
    lines = plan.collections["invoice_line_items"].money
    assert lines["create"] == {"EUR": Decimal("100"), "USD": Decimal("1.25")}
    assert lines["update"] == {"USD": Decimal("2.5")}
    assert lines["delete"] == {"USD": Decimal("-2")}
    invoices = plan.collections["invoices"].money
    assert invoices["create"] == {"EUR": Decimal("100")}
    assert invoices["update"] == {"USD": Decimal("18.75")}


def test_an_empty_account_plans_nothing() -> None:
    plan = plan_push(duckdb.connect())
    assert plan.writes == 0
    assert all(sum(c.values()) == 0 for c in plan.counts().values())


def test_nothing_changed_means_zero_writes(db: duckdb.DuckDBPyConnection) -> None:
    LedgerStore(db)  # tables exist already
    for table in ("customers", "invoices", "invoice_line_items"):
        db.execute(
            "INSERT OR REPLACE INTO fincome_sync.ledger "
            "SELECT ?, id, NULL, row_hash, '{}', now() FROM fincome." + table,
            [table],
        )
    db.execute("DELETE FROM fincome_sync.ledger WHERE id IN ('gone-customer', 'i-old:L2')")
    assert plan_push(db).writes == 0


def test_only_some_records_plans_them_the_lines_under_them_and_the_parents_fincome_lacks(
    db: duckdb.DuckDBPyConnection,
) -> None:
    only = {("invoices", "i-new"), ("customers", "c2"), ("customers", "gone-customer")}
    plan = plan_push(db, only=only)
    # c3 is i-new's customer, which Fincome does not hold yet: the invoice needs it first
    assert plan.collections["customers"].ids == {"create": ["c3"], "update": ["c2"], "delete": []}
    assert plan.collections["customers"].stale == 1
    assert plan.collections["invoices"].ids == {"create": ["i-new"], "update": [], "delete": []}
    lines = plan.collections["invoice_line_items"]
    assert lines.ids == {"create": [], "update": [], "delete": []}
    assert lines.embedded == 2
    assert lines.money["create"] == {"EUR": Decimal("100")}
    assert plan.writes == 3


def test_lines_of_an_invoice_outside_only_are_left_out(db: duckdb.DuckDBPyConnection) -> None:
    plan = plan_push(db, only={("invoice_line_items", "i-old:L3")})  # one line, not its invoice
    lines = plan.collections["invoice_line_items"]
    assert lines.ids == {"create": ["i-old:L3"], "update": [], "delete": []}
    assert lines.embedded == 0
    assert plan.writes == 1


def test_a_line_whose_invoice_is_not_created_is_a_create_of_its_own(
    db: duckdb.DuckDBPyConnection,
) -> None:
    db.execute(
        "INSERT INTO fincome.invoice_line_items (id, row_hash, currency_code, "
        "amount_excluding_tax_after_discount) VALUES ('x:L0', 'h', 'USD', 1)"
    )
    lines = plan_push(db).collections["invoice_line_items"]
    assert lines.ids["create"] == ["i-old:L3", "x:L0"]
    assert lines.embedded == 2
