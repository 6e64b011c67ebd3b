"""The rows each collection's push carries, read from `fincome.*` in pages.

| planned | row handed to the destination |
|---|---|
| create of an invoice / credit note | the row, its lines embedded (`invoice_line_items`...) |
| create or update of anything else, update of an invoice | the row as it is |
| delete | `{"id": ..., "_deleted": true}` |

Rows come in id order, except customers: roots before children, so a parent always reaches
Fincome before the customers that name it as `root_parent_id` (the transform points every
child at its topmost parent, so one level is enough).
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
    for page in _rows(db, f"{desired}.{spec.name}", ids):
        lines = _lines_by_parent(
            db, f"{desired}.{child.name}", PARENT_COLUMN[child.name], [row["id"] for row in page]
        )
        for row in page:
            row[embedded] = lines.get(row["id"], [])
        yield page


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
