"""The rows handed to the destination: lines embedded per page, parents first, deletes flagged."""

from __future__ import annotations

import duckdb
import pytest

from destinations.fincome.schema import PUSH_ORDER
from pipelines import push_rows
from pipelines.plan import CollectionPlan, Op, PushPlan
from pipelines.push_rows import DELETED_FLAG, Row, collection_pages


@pytest.fixture
def db() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute(
        """
        CREATE SCHEMA fincome;
        CREATE TABLE fincome.customers (id VARCHAR, root_parent_id VARCHAR, row_hash VARCHAR);
        CREATE TABLE fincome.invoices (id VARCHAR, row_hash VARCHAR);
        CREATE TABLE fincome.invoice_line_items (id VARCHAR, invoice_id VARCHAR,
            proration_target_line_item_id VARCHAR, row_hash VARCHAR);
        INSERT INTO fincome.customers VALUES
            ('a-child', 'z-root', 'h'), ('b', NULL, 'h'), ('z-root', NULL, 'h');
        INSERT INTO fincome.invoices SELECT 'inv-' || i, 'h' FROM range(7) t(i);
        -- inv-3 has no line; the others have i + 1 lines, inserted out of order
        INSERT INTO fincome.invoice_line_items
            SELECT 'inv-' || i || ':L' || j, 'inv-' || i, NULL, 'h'
            FROM range(7) a(i), range(7) b(j) WHERE j <= i AND i <> 3 ORDER BY j DESC, i;
        """
    )
    return db


def _plan(**ids_by_collection: dict[Op, list[str]]) -> PushPlan:
    plans = {spec.name: CollectionPlan(spec.name) for spec in PUSH_ORDER}
    for name, ids in ids_by_collection.items():
        plans[name].ids.update(ids)
    return PushPlan(plans)


def _pushed(db: duckdb.DuckDBPyConnection, plan: PushPlan) -> dict[str, list[Row]]:
    return {
        name: [row for page in pages for row in page] for name, pages in collection_pages(db, plan)
    }


def test_each_created_invoice_carries_exactly_its_lines_across_pages(
    db: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push_rows, "PAGE_SIZE", 2)  # parents and lines both span pages
    creates = [f"inv-{i}" for i in (6, 0, 3, 5, 1, 4, 2)]
    rows = _pushed(db, _plan(invoices={"create": creates, "update": ["inv-2"]}))["invoices"]

    created, updated = rows[:7], rows[7:]
    assert [row["id"] for row in created] == sorted(creates)
    for row in created:
        lines = row["invoice_line_items"]
        expected = (
            []
            if row["id"] == "inv-3"
            else [f"{row['id']}:L{j}" for j in range(int(row["id"][4:]) + 1)]
        )
        assert [line["id"] for line in lines] == expected
        assert {line["invoice_id"] for line in lines} <= {row["id"]}
    assert updated == [{"id": "inv-2"}]  # an update carries no lines


def test_an_invoice_whose_lines_prorate_lines_of_others_comes_after_them(
    db: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages go out one after another: the invoice holding a proration target goes first,
    across pages too, whatever the ids (a chain: inv-0 -> inv-5 -> inv-6)."""
    monkeypatch.setattr(push_rows, "PAGE_SIZE", 2)
    db.execute(
        """
        UPDATE fincome.invoice_line_items SET proration_target_line_item_id = 'inv-5:L2'
            WHERE id = 'inv-0:L0';
        UPDATE fincome.invoice_line_items SET proration_target_line_item_id = 'inv-6:L1'
            WHERE id = 'inv-5:L0';
        UPDATE fincome.invoice_line_items SET proration_target_line_item_id = 'inv-4:L1'
            WHERE id = 'inv-4:L3';
        UPDATE fincome.invoice_line_items SET proration_target_line_item_id = 'elsewhere:L0'
            WHERE id = 'inv-1:L1';
        """
    )
    creates = [f"inv-{i}" for i in range(7)]
    rows = _pushed(db, _plan(invoices={"create": creates}))["invoices"]
    order = [row["id"] for row in rows]
    assert sorted(order) == creates
    assert order.index("inv-6") < order.index("inv-5") < order.index("inv-0")
    assert [row["id"] for row in rows if row["id"] in {"inv-1", "inv-2", "inv-3", "inv-4"}] == [
        "inv-1", "inv-2", "inv-3", "inv-4",
    ]  # fmt: skip


def test_customers_roots_first_and_deletes_flagged(db: duckdb.DuckDBPyConnection) -> None:
    plan = _plan(customers={"create": ["a-child", "b"], "update": ["z-root"], "delete": ["gone"]})
    rows = _pushed(db, plan)["customers"]
    assert [row["id"] for row in rows] == ["b", "z-root", "a-child", "gone"]
    assert rows[-1] == {"id": "gone", DELETED_FLAG: True}
    assert "row_hash" not in rows[0]


def test_collections_without_writes_are_skipped(db: duckdb.DuckDBPyConnection) -> None:
    assert _pushed(db, _plan(invoices={"delete": ["inv-0"]})) == {
        "invoices": [{"id": "inv-0", DELETED_FLAG: True}]
    }
