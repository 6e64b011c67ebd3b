"""The diff: what Fincome lacks, compared row by row with the ledger, in SQL, once.

For every collection, `<desired>.<collection>` (the desired state, `desired.py`) is compared
with `<ledger>.ledger` (what Fincome acknowledged):

| op | rows |
|---|---|
| create | desired ids the ledger does not hold |
| update | ids in both whose `row_hash` differs |
| delete | ledger ids no longer desired, where the seed has a delete |
| stale | ledger ids no longer desired where it has none (reported, never touched) |
| frozen | ledger ids in the `frozen` relation: counted, never touched |

Lines created together with a new invoice or credit note are `embedded`: they travel inside
their parent's create (`steps.py`), so they are not writes of their own and the plan only
counts them (L has 136k: as Python lists of ids they cost the plan a spike of tens of MB).
Money is summed per currency over the lines concerned: what creates carry, how much updates
change, what deletes take away; an invoice or credit note is worth the lines it holds,
whatever happens to it. `only` (a relation of `collection, id`) limits the plan to those
records: a retry's records, or the rows a dlt load handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import duckdb

from destinations.fincome.desired import DESIRED_SCHEMA
from destinations.fincome.ledger import DEFAULT_SCHEMA as LEDGER_SCHEMA
from destinations.fincome.schema import PUSH_ORDER
from destinations.fincome.schema import Collection as CollectionSpec

Op = Literal["create", "update", "delete"]
OPS: tuple[Op, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class LineSpec:
    """A line collection: the column holding its amount and the one naming its parent."""

    collection: str
    amount: str
    parent_collection: str
    parent_column: str


LINE_SPECS = (
    LineSpec("invoice_line_items", "amount_excluding_tax_after_discount", "invoices", "invoice_id"),
    LineSpec("credit_note_line_items", "amount", "credit_notes", "credit_note_id"),
)

Money = dict[str, Decimal]


@dataclass
class CollectionPlan:
    collection: str
    ids: dict[Op, list[str]] = field(default_factory=lambda: {op: [] for op in OPS})
    embedded: int = 0  # line creates that ride inside their parent's create
    stale: int = 0
    frozen: int = 0  # held as last pushed while a transform reject is open on them
    money: dict[Op, Money] = field(default_factory=lambda: {op: {} for op in OPS})

    @property
    def writes(self) -> int:
        return sum(len(ids) for ids in self.ids.values())

    @property
    def creates(self) -> int:
        """Items created, embedded lines included (those are no writes of their own)."""
        return len(self.ids["create"]) + self.embedded


@dataclass
class PushPlan:
    collections: dict[str, CollectionPlan]

    @property
    def writes(self) -> int:
        """HTTP writes the plan needs (embedded lines ride along with their parent)."""
        return sum(p.writes for p in self.collections.values())

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                **{op: len(p.ids[op]) for op in OPS},
                "embedded": p.embedded,
                "stale": p.stale,
                "frozen": p.frozen,
            }
            for name, p in self.collections.items()
        }


def diff(
    db: duckdb.DuckDBPyConnection,
    *,
    desired: str = DESIRED_SCHEMA,
    ledger: str = LEDGER_SCHEMA,
    only: str | None = None,
    frozen: str | None = None,
) -> PushPlan:
    """Compare the desired state with the ledger; a missing desired table counts as empty.

    `only` and `frozen` are relations of `(collection, id)` (a table name or a subquery):
    with `only`, just those records are created, updated or deleted; ledger records in
    `frozen` are counted and never touched.
    """
    present = schema_tables(db, desired)
    source = {c.name: f"{desired}.{c.name}" if c.name in present else _NO_ROWS for c in PUSH_ORDER}
    # before the first push there is no ledger: Fincome holds nothing of ours yet
    pushed = ledger_relation(db, ledger)
    scope, held = _Among(only, everything=True), _Among(frozen, everything=False)
    lines = {line.collection: line for line in LINE_SPECS if line.collection in present}
    plans = {}
    for c in PUSH_ORDER:
        line = lines.get(c.name)
        plans[c.name] = _plan_collection(
            db,
            c,
            source[c.name],
            pushed,
            scope=scope,
            frozen=held,
            inside_created_parent=(
                _inside_created_parent(source[line.parent_collection], pushed, line)
                if line
                else None
            ),
        )
    for line in lines.values():
        _add_money(db, plans, line, source[line.collection], pushed, scope=scope)
    return PushPlan(plans)


def ledger_relation(db: duckdb.DuckDBPyConnection, ledger: str = LEDGER_SCHEMA) -> str:
    """The ledger table, or an empty relation of its shape before the first push."""
    return f"{ledger}.ledger" if "ledger" in schema_tables(db, ledger) else _NO_LEDGER


class _Among:
    """SQL conditions on the records of a relation `(collection, id, ...)`; without one,
    every record (`everything`) or none."""

    def __init__(self, relation: str | None, *, everything: bool) -> None:
        self.relation = relation
        self.everything = everything

    def holds(self, collection: str, column: str) -> str:
        if self.relation is None:
            return "true" if self.everything else "false"
        return f"{column} IN (SELECT id FROM {self.relation} WHERE collection = '{collection}')"


def _inside_created_parent(parent_source: str, ledger: str, line: LineSpec) -> str:
    """SQL: the line `d`'s parent is created by this push (whatever `only` says)."""
    created = (
        f"SELECT p.id FROM {parent_source} p ANTI JOIN {ledger} l "
        f"ON l.collection = '{line.parent_collection}' AND l.id = p.id"
    )
    return f"EXISTS (SELECT 1 FROM ({created}) c WHERE c.id = d.{line.parent_column})"


_NO_ROWS = "(SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS row_hash WHERE false)"
_NO_LEDGER = (
    "(SELECT NULL::VARCHAR AS collection, NULL::VARCHAR AS id, NULL::VARCHAR AS parent_id, "
    "NULL::VARCHAR AS row_hash, NULL::JSON AS body WHERE false)"
)


def schema_tables(db: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """The names of a schema's tables (none when the schema does not exist)."""
    rows = db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {row[0] for row in rows}


def _plan_collection(
    db: duckdb.DuckDBPyConnection,
    spec: CollectionSpec,
    source: str,
    ledger: str,
    *,
    scope: _Among,
    frozen: _Among,
    inside_created_parent: str | None,
) -> CollectionPlan:
    """Creates, updates and deletes by id; lines whose parent is created only counted."""
    c = spec.name
    new_rows = (
        f"FROM {source} d ANTI JOIN {ledger} l ON l.collection = $c AND l.id = d.id "
        f"WHERE {scope.holds(c, 'd.id')}"
    )
    embedded = inside_created_parent or "false"
    params = {"c": c}
    touchable = f"{scope.holds(c, 'l.id')} AND NOT {frozen.holds(c, 'l.id')}"
    rows = db.execute(
        f"""
        SELECT 'create' AS op, d.id {new_rows} AND NOT {embedded}
        UNION ALL
        SELECT 'update', d.id FROM {source} d
            JOIN {ledger} l ON l.collection = $c AND l.id = d.id
            WHERE l.row_hash <> d.row_hash AND {touchable}
        UNION ALL
        SELECT 'gone', l.id FROM {ledger} l
            ANTI JOIN {source} d ON d.id = l.id
            WHERE l.collection = $c AND {touchable}
        ORDER BY 1, 2
        """,
        params,
    ).fetchall()
    plan = CollectionPlan(c)
    for op, row_id in rows:
        if op != "gone":
            plan.ids[op].append(row_id)
        elif spec.deletable:
            plan.ids["delete"].append(row_id)
        else:
            plan.stale += 1
    held = f"{scope.holds(c, 'l.id')} AND {frozen.holds(c, 'l.id')}"
    query = f"SELECT count(*) FROM {ledger} l WHERE l.collection = $c AND {held}"
    [(plan.frozen,)] = db.execute(query, params).fetchall()
    if inside_created_parent is not None:
        query = f"SELECT count(*) {new_rows} AND {embedded}"
        [(plan.embedded,)] = db.execute(query, params).fetchall()
    return plan


def _add_money(
    db: duckdb.DuckDBPyConnection,
    plans: dict[str, CollectionPlan],
    line: LineSpec,
    source: str,
    ledger: str,
    *,
    scope: _Among,
) -> None:
    wanted = (
        f"SELECT id, {line.parent_column} AS parent_id, currency_code, {line.amount} AS amount "
        f"FROM {source}"
    )
    pushed = (
        "SELECT id, parent_id, json_extract_string(body, '$.currency_code') AS currency_code, "
        f"json_extract_string(body, '$.{line.amount}')::DECIMAL(38,9) AS amount "
        f"FROM {ledger} WHERE collection = '{line.collection}'"
    )
    # every line created, inside its parent's create or on its own
    new_lines = _Chosen(
        f"id IN (SELECT d.id FROM {source} d ANTI JOIN {ledger} l "
        f"ON l.collection = '{line.collection}' AND l.id = d.id "
        f"WHERE {scope.holds(line.collection, 'd.id')})",
        {},
    )
    lines = plans[line.collection]
    parents = plans[line.parent_collection]
    for op in OPS:
        chosen = new_lines if op == "create" else _listed("id", lines.ids[op])
        lines.money[op] = _sum(db, op, wanted=wanted, pushed=pushed, chosen=chosen)
        # a touched invoice is worth what its lines hold (a void moves its whole total)
        whole: Op = "delete" if op == "delete" else "create"
        parents.money[op] = _sum(
            db, whole, wanted=wanted, pushed=pushed, chosen=_listed("parent_id", parents.ids[op])
        )


@dataclass(frozen=True)
class _Chosen:
    """A SQL condition on the `wanted` / `pushed` rows and its parameters."""

    condition: str
    params: dict[str, Any]


def _listed(key: str, ids: list[str]) -> _Chosen | None:
    return _Chosen(f"{key} IN (SELECT unnest($ids::VARCHAR[]))", {"ids": ids}) if ids else None


def _sum(
    db: duckdb.DuckDBPyConnection, op: Op, *, wanted: str, pushed: str, chosen: _Chosen | None
) -> Money:
    if chosen is None:
        return {}
    where = chosen.condition
    query = {
        "create": f"SELECT currency_code, sum(amount) FROM ({wanted}) WHERE {where} GROUP BY 1",
        # an update moves money by the difference between what is wanted and what was pushed
        "update": f"""
            SELECT coalesce(d.currency_code, p.currency_code),
                   sum(coalesce(d.amount, 0) - coalesce(p.amount, 0))
            FROM (SELECT * FROM ({wanted}) WHERE {where}) d
            FULL JOIN (SELECT * FROM ({pushed}) WHERE {where}) p USING (id)
            GROUP BY 1""",
        "delete": f"SELECT currency_code, -sum(amount) FROM ({pushed}) WHERE {where} GROUP BY 1",
    }[op]
    rows = db.execute(query, chosen.params).fetchall()
    return {
        currency or "?": Decimal(total).normalize() for currency, total in sorted(rows) if total
    }
