"""One dlt load staged as desired state, then pushed through the one push path.

The `fincome` destination hands every row of a load to a `StagedLoad`, in whatever order its
tables and files come. Rows become desired-state rows (`desired.py`) in a schema of the
ledger's DuckDB file that belongs to this load alone; `push` then runs the same diff, waves
and executor as billing-sync's own push, limited to the records the load named:

| the load gives | the push |
|---|---|
| a row of `<collection>` with its `id` | creates or updates it, parents first |
| `_deleted: true` and an `id` | deletes it (the lines the ledger holds under it first) |
| an invoice / credit note listing its lines | those lines, in its create or one by one; the |
| (`invoice_line_items` / `credit_note_line_items`) | lines it no longer lists are deleted |
| an invoice / credit note without that list (absent, null) | leaves its lines alone |

A row that cannot become a request (no id, a value its field cannot carry, a delete the
seed has no route for) is refused here, with its reason, before anything is sent. Keys dlt
dropped because they were None come back from the table's columns, and values dlt moved to a
variant column (`amount▶v_text`) are folded back, so such a value is refused with a reason
instead of reaching Fincome as null. An id given twice in one load: the row read last wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from destinations.fincome.body import embedded_rows
from destinations.fincome.client import FincomeClient
from destinations.fincome.desired import column_types, desired_row
from destinations.fincome.diff import PushPlan, diff
from destinations.fincome.executor import ExecutionReport, Executor
from destinations.fincome.ledger import LedgerStore, Reject
from destinations.fincome.schema import COLLECTIONS, EMBEDDED_CHILD, PUSH_ORDER, Collection
from destinations.fincome.waves import PARENT_COLUMN, planned_waves

DELETED_FLAG = "_deleted"
MISSING_ID = "(no id)"
FLUSH_ROWS = 2000  # desired rows held per collection before they are written


class RowRefused(ValueError):
    """A row that cannot become a request; its message is the reject reason."""


class StagedLoad:
    """The rows of one load, staged under `schema` in the ledger's database."""

    def __init__(self, ledger: LedgerStore, schema: str) -> None:
        self.ledger = ledger
        self.schema = schema
        self.refused: list[Reject] = []
        self._pending: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
        self._deleted: dict[str, set[str]] = defaultdict(set)
        self._listed: dict[str, set[str]] = defaultdict(set)  # parents that list their lines
        db = ledger.db
        db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        for spec in PUSH_ORDER:
            columns = ", ".join(f"{name} {kind}" for name, kind in column_types(spec).items())
            db.execute(f"CREATE TABLE {schema}.{spec.name} ({columns}, PRIMARY KEY (id))")

    def add(self, name: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Rows of collection `name`, as the load gave them."""
        spec = COLLECTIONS[name]
        for row in rows:
            given = row.get("id")
            row_id = MISSING_ID if given in (None, "") else str(given)
            try:
                self._add_row(spec, row_id, row)
            except ValueError as exc:  # RowRefused, BodyError, lines that are not a list
                self.refused.append(Reject("push", name, row_id, str(exc), payload=dict(row)))

    def push(self, client: FincomeClient) -> ExecutionReport:
        """Send what the load changed; the ledger and its rejects learn every answer."""
        self._flush()
        self.ledger.add_rejects(self.refused)
        db = self.ledger.db
        only = self._scope(db)
        plan = diff(db, desired=self.schema, ledger=self.ledger.schema, only=only)
        self._delete_unknown(db, plan)
        return Executor(client, self.ledger).run(planned_waves(db, plan, desired=self.schema))

    def drop(self) -> None:
        self.ledger.db.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def _add_row(self, spec: Collection, row_id: str, row: Mapping[str, Any]) -> None:
        if row_id == MISSING_ID:
            raise RowRefused("the row has no id")
        if row.get(DELETED_FLAG):
            if not spec.deletable:
                raise RowRefused(
                    f"{spec.name} cannot be deleted: the Fincome API has no delete for it"
                )
            self._pending[spec.name].pop(row_id, None)
            self._deleted[spec.name].add(row_id)
            if spec.name in EMBEDDED_CHILD:
                self._listed[spec.name].add(row_id)  # its lines go with it
            return
        lines = _lines_of(spec, row_id, row)
        child = EMBEDDED_CHILD.get(spec.name)
        # every body is built before any is staged: a refused line refuses its parent whole
        staged = [(spec, row_id, desired_row(spec, row))]
        if lines is not None and child is not None:
            staged += [(child, str(line["id"]), desired_row(child, line)) for line in lines]
            self._listed[spec.name].add(row_id)
        for collection, item_id, desired in staged:
            self._stage(collection.name, item_id, desired)

    def _stage(self, name: str, row_id: str, desired: Mapping[str, Any]) -> None:
        self._deleted[name].discard(row_id)
        pending = self._pending[name]
        pending.pop(row_id, None)  # the row read last wins
        pending[row_id] = (desired["row_hash"], desired["body"])
        if len(pending) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Write the pending rows; typed columns are read back from each ready body."""
        for name, pending in self._pending.items():
            if not pending:
                continue
            spec = COLLECTIONS[name]
            values = ", ".join(_from_body(column, kind) for column, kind in _fields(spec))
            hashes, bodies = zip(*pending.values(), strict=True)
            self.ledger.db.execute(
                f"INSERT OR REPLACE INTO {self.schema}.{name} "
                f"SELECT {values}, row_hash, body FROM (SELECT unnest(?::VARCHAR[]) AS row_hash, "
                "unnest(?::VARCHAR[]) AS body)",
                [list(hashes), list(bodies)],
            )
            pending.clear()

    def _scope(self, db: duckdb.DuckDBPyConnection) -> str:
        """The records the load named (see the module table), as a table `(collection, id)`."""
        only = f"{self.schema}._only"
        db.execute(f"CREATE TABLE {only} (collection VARCHAR, id VARCHAR)")
        for spec in PUSH_ORDER:
            table = f"{self.schema}.{spec.name}"
            db.execute(f"INSERT INTO {only} SELECT '{spec.name}', id FROM {table}")
        named = [(c, i) for c, ids in self._deleted.items() for i in ids]
        if named:
            db.executemany(f"INSERT INTO {only} VALUES (?, ?)", named)
        held = self.ledger.children
        for parent, ids in self._listed.items():
            child = EMBEDDED_CHILD[parent].name
            lines = [line for found in held(child, sorted(ids)).values() for line in found]
            if lines:
                db.execute(f"INSERT INTO {only} SELECT ?, unnest(?::VARCHAR[])", [child, lines])
        return only

    def _delete_unknown(self, db: duckdb.DuckDBPyConnection, plan: PushPlan) -> None:
        """`_deleted` records the ledger does not hold are deleted all the same: a stale
        ledger must not keep a record alive in Fincome (a 404 counts as done)."""
        for name, ids in self._deleted.items():
            unknown = set(ids) - set(self.ledger.hashes(name, sorted(ids)))
            plan.collections[name].ids["delete"].extend(sorted(unknown))


def _lines_of(spec: Collection, row_id: str, row: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The lines an invoice / credit note lists, each naming it (None: it lists none)."""
    lines = embedded_rows(spec, row)
    if lines is None:
        return None
    parent = PARENT_COLUMN[EMBEDDED_CHILD[spec.name].name]
    seen: set[str] = set()
    named = []
    for line in lines:
        if not isinstance(line, Mapping) or not line.get("id"):
            raise RowRefused(f"{spec.embedded}: every line needs an id")
        owner = line.get(parent)
        if owner not in (None, "", row_id):
            raise RowRefused(f"line {line['id']} belongs to {owner}, not {row_id}")
        if str(line["id"]) in seen:
            raise RowRefused(f"line {line['id']} is listed twice")
        seen.add(str(line["id"]))
        named.append({**line, parent: row_id})
    return named


def _fields(spec: Collection) -> list[tuple[str, str]]:
    types = column_types(spec)
    return [(field.name, types[field.name]) for field in spec.fields]


def _from_body(column: str, kind: str) -> str:
    """SQL reading a column's value back from the canonical body it was built into."""
    if kind == "JSON":
        return f"json_extract(body, '$.\"{column}\"')"
    return f"CAST(json_extract_string(body, '$.\"{column}\"') AS {kind})"
