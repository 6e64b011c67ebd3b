"""The rows each collection's push carries, read from `fincome.*` in pages.

| planned | row handed to the destination |
|---|---|
| create of an invoice / credit note | the row, its lines embedded (`invoice_line_items`...) |
| create or update of anything else, update of an invoice | the row as it is |
| delete | `{"id": ..., "_deleted": true}` |

Rows come in id order, except where one names another of its collection, since pages go
out one after another: customers come roots before children, so a parent always reaches
Fincome before the customers that name it as `root_parent_id` (the transform points every
child at its topmost parent, so one level is enough); a created invoice comes after the
invoices holding the lines its own lines prorate (`proration_target_line_item_id`), chains
included. Within a page the destination orders the same way (`steps.dependency_waves`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import orjson

from destinations.fincome.schema import EMBEDDED_CHILD, PUSH_ORDER, Collection
from pipelines.plan import CollectionPlan, PushPlan

PAGE_SIZE = 1000
DELETED_FLAG = "_deleted"
PARENT_COLUMN = {"invoice_line_items": "invoice_id", "credit_note_line_items": "credit_note_id"}
ORDER = {"customers": "root_parent_id IS NOT NULL, id"}

Row = dict[str, Any]


def collection_pages(
    db: duckdb.DuckDBPyConnection, plan: PushPlan, *, desired: str = "fincome"
) -> Iterator[tuple[str, Iterator[list[Row]]]]:
    """(collection, pages of rows) for every collection with planned writes, parents first."""
    for spec in PUSH_ORDER:
        planned = plan.collections[spec.name]
        if planned.writes:
            yield spec.name, _pages(db, spec, planned, desired)


def _pages(
    db: duckdb.DuckDBPyConnection, spec: Collection, planned: CollectionPlan, desired: str
) -> Iterator[list[Row]]:
    creates, updates = planned.ids["create"], planned.ids["update"]
    if spec.embedded:
        yield from _with_lines(db, spec, creates, desired)
        yield from _rows(db, f"{desired}.{spec.name}", updates)
    else:
        yield from _rows(db, f"{desired}.{spec.name}", creates + updates, ORDER.get(spec.name))
    deletes = planned.ids["delete"]
    for start in range(0, len(deletes), PAGE_SIZE):
        yield [{"id": i, DELETED_FLAG: True} for i in deletes[start : start + PAGE_SIZE]]


def _rows(
    db: duckdb.DuckDBPyConnection,
    table: str,
    ids: Sequence[str],
    order: str | None = None,
    *,
    key: str = "id",
) -> Iterator[list[Row]]:
    """Pages of the rows whose `key` is one of `ids` (its own cursor: pages interleave)."""
    if not ids:
        return
    cursor = db.cursor().execute(
        f"SELECT * EXCLUDE (row_hash) FROM {table} "
        f"WHERE {key} IN (SELECT unnest(?::VARCHAR[])) ORDER BY {order or 'id'}",
        [list(ids)],
    )
    columns = [d[0] for d in cursor.description]
    while page := cursor.fetchmany(PAGE_SIZE):
        yield [_row(columns, values) for values in page]


def _with_lines(
    db: duckdb.DuckDBPyConnection, spec: Collection, ids: Sequence[str], desired: str
) -> Iterator[list[Row]]:
    """Parents in id order, each carrying its lines, read page by page: one sorted read of
    every line would hold them all in DuckDB memory that cannot spill (its cap)."""
    embedded = spec.embedded
    assert embedded is not None
    child = EMBEDDED_CHILD[spec.name]
    ordered = _referenced_first(db, f"{desired}.{child.name}", child, ids)
    for start in range(0, len(ordered), PAGE_SIZE):
        chunk = ordered[start : start + PAGE_SIZE]
        position = {row_id: n for n, row_id in enumerate(chunk)}
        page = [row for rows in _rows(db, f"{desired}.{spec.name}", chunk) for row in rows]
        page.sort(key=lambda row: position[row["id"]])
        lines = _lines_by_parent(
            db, f"{desired}.{child.name}", PARENT_COLUMN[child.name], [row["id"] for row in page]
        )
        for row in page:
            row[embedded] = lines.get(row["id"], [])
        yield page


def _referenced_first(
    db: duckdb.DuckDBPyConnection, lines: str, child: Collection, ids: Sequence[str]
) -> list[str]:
    """`ids` sorted, each moved after the parents holding lines its lines name (depth first;
    a cycle, which Fincome would refuse anyway, is broken where it is met)."""
    parent = PARENT_COLUMN[child.name]
    needs: dict[str, set[str]] = defaultdict(set)
    for field in child.self_references:
        pairs = db.execute(
            f"SELECT DISTINCT l.{parent}, t.{parent} FROM {lines} l JOIN {lines} t "
            f"ON l.{field} = t.id WHERE l.{parent} <> t.{parent} "
            f"AND l.{parent} IN (SELECT unnest(?::VARCHAR[]))",
            [list(ids)],
        ).fetchall()
        for row_id, held_by in pairs:
            needs[row_id].add(held_by)
    wanted, placed, ordered = set(ids), set[str](), list[str]()
    for root in sorted(ids):
        if root in placed:
            continue
        stack = [(root, iter(sorted(needs.get(root, ()))))]  # iterative: chains can be long
        placed.add(root)
        while stack:
            row_id, befores = stack[-1]
            before = next((b for b in befores if b in wanted and b not in placed), None)
            if before is None:
                stack.pop()
                ordered.append(row_id)
            else:
                placed.add(before)
                stack.append((before, iter(sorted(needs.get(before, ())))))
    return ordered


def _lines_by_parent(
    db: duckdb.DuckDBPyConnection, table: str, parent_column: str, parent_ids: Sequence[str]
) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = defaultdict(list)
    for page in _rows(db, table, parent_ids, order=f"{parent_column}, id", key=parent_column):
        for line in page:
            found[str(line[parent_column])].append(line)
    return found


def _row(columns: Sequence[str], values: Sequence[Any]) -> Row:
    row = dict(zip(columns, values, strict=True))
    properties = row.get("custom_properties")
    if isinstance(properties, str):  # a JSON column comes back as text
        row["custom_properties"] = orjson.loads(properties)
    return row
