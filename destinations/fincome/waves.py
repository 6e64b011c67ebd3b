"""The diff's writes as ready steps, in waves: parents first, lines inside their parent.

A `Step` is one HTTP write, its JSON body already built (read from the desired state's
`body` column), and what the ledger learns once Fincome acknowledged it. `planned_waves`
turns a `diff.PushPlan` into waves, read page by page so memory stays flat; the steps of a
wave may go out concurrently, and a wave starts once the one before it is answered:

1. creates and updates of each collection in `schema.PUSH_ORDER`; an invoice or credit note
   create carries its lines;
2. within a collection, by level: a row that names another planned row of its collection
   (a customer's `root_parent_id`, a line prorating a line) comes a level after it, and so
   does an invoice whose lines name the lines of another created invoice;
3. deletes, children first (credit note lines, credit notes, invoice lines, subscriptions),
   each record once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb

from destinations.fincome.desired import DESIRED_SCHEMA
from destinations.fincome.diff import CollectionPlan, PushPlan, schema_tables
from destinations.fincome.ledger import LedgerEntry
from destinations.fincome.schema import EMBEDDED_CHILD, PUSH_ORDER, Collection

Action = Literal["create", "update", "delete"]
PAGE_SIZE = 1000
FIRST_PAGE_SIZE = 50  # a wave's first page: read in a few ms, whatever the lines it carries
# the column naming a line's invoice / credit note: the ledger records it as `parent_id`
PARENT_COLUMN = {"invoice_line_items": "invoice_id", "credit_note_line_items": "credit_note_id"}


@dataclass(frozen=True, slots=True)
class Step:
    """One HTTP write and what the ledger learns once Fincome acknowledged it."""

    action: Action
    collection: str
    item_id: str
    body: bytes | None = None  # the JSON sent; None for a delete
    record: tuple[LedgerEntry, ...] = ()  # written when acknowledged (a delete forgets)


Wave = Iterator[Step]


def planned_waves(
    db: duckdb.DuckDBPyConnection, plan: PushPlan, *, desired: str = DESIRED_SCHEMA
) -> Iterator[Wave]:
    """The plan's steps in waves (see the module table)."""
    # every collection's levels before the first wave: the queries behind them then run
    # before the first write, not while Fincome waits between two waves
    sources = _sources(db, plan, desired)
    leveled = [(source, _levels(source, planned)) for source, planned in sources]
    for source, levels in leveled:
        created = set(plan.collections[source.spec.name].ids["create"])
        for level in levels:
            yield source.steps(level, created)
    for spec in reversed(PUSH_ORDER):
        if deletes := plan.collections[spec.name].ids["delete"]:
            yield (Step("delete", spec.name, item_id) for item_id in deletes)


def _sources(
    db: duckdb.DuckDBPyConnection, plan: PushPlan, desired: str
) -> Iterator[tuple[_Source, CollectionPlan]]:
    """Each collection with creates or updates planned, in push order."""
    present = schema_tables(db, desired)
    for spec in PUSH_ORDER:
        planned = plan.collections[spec.name]
        if spec.name in present and (planned.ids["create"] or planned.ids["update"]):
            yield _Source(db, desired, spec), planned


class _Source:
    """Reads one collection's desired rows (and embedded lines) as steps."""

    def __init__(self, db: duckdb.DuckDBPyConnection, desired: str, spec: Collection) -> None:
        self.db = db
        self.spec = spec
        self.table = f"{desired}.{spec.name}"
        child = EMBEDDED_CHILD.get(spec.name)
        self.child = child
        self.lines = f"{desired}.{child.name}" if child else None
        self.parent_column = PARENT_COLUMN.get(spec.name)

    def steps(self, ids: Sequence[str], created: set[str]) -> Wave:
        """Steps of `ids` in id order, page by page; creates carry their lines."""
        for start, end in _pages(len(ids)):
            page = ids[start:end]
            lines = self._lines_of([i for i in page if i in created])
            parent = self.parent_column or "NULL"
            rows = self.db.cursor().execute(
                f"SELECT id, row_hash, body, {parent} FROM {self.table} "
                "WHERE id IN (SELECT unnest(?::VARCHAR[])) ORDER BY id",
                [list(page)],
            )
            for item_id, row_hash, body, parent_id in rows.fetchall():
                entry = LedgerEntry(self.spec.name, item_id, row_hash, body, parent_id)
                if item_id in created:
                    yield self._create(entry, lines.get(item_id, []))
                else:
                    yield Step("update", self.spec.name, item_id, body.encode(), (entry,))

    def _create(self, entry: LedgerEntry, lines: list[LedgerEntry]) -> Step:
        text = str(entry.body)
        if self.spec.embedded is not None:
            embedded = ",".join(str(line.body) for line in lines)
            # the canonical body is a JSON object: its lines go in before its closing brace
            text = f'{text[:-1]},"{self.spec.embedded}":[{embedded}]}}'
        return Step("create", self.spec.name, entry.id, text.encode(), (entry, *lines))

    def _lines_of(self, parent_ids: Sequence[str]) -> dict[str, list[LedgerEntry]]:
        if self.child is None or not parent_ids:
            return {}
        column = PARENT_COLUMN[self.child.name]
        found: dict[str, list[LedgerEntry]] = defaultdict(list)
        rows = self.db.cursor().execute(
            f"SELECT {column}, id, row_hash, body FROM {self.lines} "
            f"WHERE {column} IN (SELECT unnest(?::VARCHAR[])) ORDER BY {column}, id",
            [list(parent_ids)],
        )
        for parent_id, line_id, row_hash, body in rows.fetchall():
            found[parent_id].append(
                LedgerEntry(self.child.name, line_id, row_hash, body, parent_id)
            )
        return found

    def references(self, ids: Sequence[str], created: Sequence[str]) -> list[tuple[str, str]]:
        """(row, planned row of this collection it must come after)."""
        pairs: list[tuple[str, str]] = []
        for field in self.spec.self_references:
            pairs += (
                self.db.cursor()
                .execute(
                    f"SELECT id, {field} FROM {self.table} WHERE id <> {field} "
                    "AND id IN (SELECT unnest($ids::VARCHAR[])) "
                    f"AND {field} IN (SELECT unnest($ids::VARCHAR[]))",
                    {"ids": list(ids)},
                )
                .fetchall()
            )
        if self.child is not None and created:
            column = PARENT_COLUMN[self.child.name]
            for field in self.child.self_references:
                pairs += (
                    self.db.cursor()
                    .execute(
                        f"SELECT DISTINCT l.{column}, t.{column} FROM {self.lines} l "
                        f"JOIN {self.lines} t ON l.{field} = t.id WHERE l.{column} <> t.{column} "
                        f"AND l.{column} IN (SELECT unnest($ids::VARCHAR[])) "
                        f"AND t.{column} IN (SELECT unnest($ids::VARCHAR[]))",
                        {"ids": list(created)},
                    )
                    .fetchall()
                )
        return pairs


def _pages(count: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each page of `count` ids: a short first page, so a wave's first
    writes leave while its next page is read, then pages of `PAGE_SIZE`."""
    start, size = 0, FIRST_PAGE_SIZE
    while start < count:
        yield start, min(start + size, count)
        start, size = start + size, PAGE_SIZE


def _levels(source: _Source, planned: CollectionPlan) -> list[list[str]]:
    """The planned creates and updates by level: a row after every row it names (a cycle,
    which Fincome would refuse anyway, is broken where it is met)."""
    ids = sorted(planned.ids["create"] + planned.ids["update"])
    needs: dict[str, list[str]] = defaultdict(list)
    for row_id, named in source.references(ids, planned.ids["create"]):
        needs[row_id].append(named)
    if not needs:
        return [ids]
    level: dict[str, int] = {}
    for root in ids:
        if root in level:
            continue
        stack = [(root, iter(needs.get(root, ())))]  # iterative: line chains can be long
        on_path = {root}
        while stack:
            row_id, befores = stack[-1]
            before = next((b for b in befores if b not in level and b not in on_path), None)
            if before is not None:
                on_path.add(before)
                stack.append((before, iter(needs.get(before, ()))))
                continue
            stack.pop()
            on_path.discard(row_id)
            level[row_id] = 1 + max((level.get(b, -1) for b in needs.get(row_id, ())), default=-1)
    by_level: list[list[str]] = [[] for _ in range(max(level.values()) + 1)]
    for row_id in ids:
        by_level[level[row_id]].append(row_id)
    return by_level
