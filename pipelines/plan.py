"""The push plan: what Fincome lacks, compared row by row with the ledger, in SQL.

For every collection, `fincome.<collection>` (the desired state, with `row_hash`) is compared
with `fincome_sync.ledger` (what Fincome acknowledged):

| op | rows |
|---|---|
| create | desired ids the ledger does not hold |
| update | ids in both whose `row_hash` differs |
| delete | ledger ids no longer desired, where the seed has a delete |
| stale | ledger ids no longer desired where it has none (reported, never touched) |

Lines created together with a new invoice or credit note are `embedded`: they travel inside
their parent's create, so they are not writes of their own. Money is summed per currency over
the lines concerned: what creates carry, how much updates change, what deletes take away; an
invoice or credit note is worth the lines it holds, whatever happens to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import duckdb

from destinations.fincome.schema import PUSH_ORDER

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
    embedded: list[str] = field(default_factory=list)
    stale: int = 0
    money: dict[Op, Money] = field(default_factory=lambda: {op: {} for op in OPS})

    @property
    def writes(self) -> int:
        return sum(len(ids) for ids in self.ids.values())


@dataclass
class PushPlan:
    collections: dict[str, CollectionPlan]

    @property
    def writes(self) -> int:
        """HTTP writes the plan needs (embedded lines ride along with their parent)."""
        return sum(p.writes for p in self.collections.values())

    def restricted(self, record_ids: set[str]) -> PushPlan:
        """Only the work on these records and on the lines under them (`rejects --retry`)."""

        def chosen(row_id: str) -> bool:
            return row_id in record_ids or row_id.split(":", 1)[0] in record_ids

        return PushPlan(
            {
                name: CollectionPlan(
                    name,
                    ids={op: [i for i in p.ids[op] if chosen(i)] for op in OPS},
                    embedded=[i for i in p.embedded if chosen(i)],
                    stale=0,
                )
                for name, p in self.collections.items()
            }
        )

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                **{op: len(p.ids[op]) for op in OPS},
                "embedded": len(p.embedded),
                "stale": p.stale,
            }
            for name, p in self.collections.items()
        }


def plan_push(
    db: duckdb.DuckDBPyConnection, *, desired: str = "fincome", ledger: str = "fincome_sync"
) -> PushPlan:
    """Compare the desired state with the ledger; a missing desired table counts as empty."""
    present = _tables(db, desired)
    source = {c.name: f"{desired}.{c.name}" if c.name in present else _NO_ROWS for c in PUSH_ORDER}
    # before the first push there is no ledger: Fincome holds nothing of ours yet
    pushed = f"{ledger}.ledger" if "ledger" in _tables(db, ledger) else _NO_LEDGER
    plans = {
        c.name: _plan_collection(db, c.name, c.deletable, source[c.name], pushed)
        for c in PUSH_ORDER
    }
    for line in LINE_SPECS:
        if line.collection in present:
            _add_money(db, plans, line, source[line.collection], pushed)
            _embed_lines(db, plans, line, source[line.collection])
    return PushPlan(plans)


_NO_ROWS = "(SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS row_hash WHERE false)"
_NO_LEDGER = (
    "(SELECT NULL::VARCHAR AS collection, NULL::VARCHAR AS id, NULL::VARCHAR AS parent_id, "
    "NULL::VARCHAR AS row_hash, NULL::JSON AS body WHERE false)"
)


def _tables(db: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {row[0] for row in rows}


def _plan_collection(
    db: duckdb.DuckDBPyConnection, name: str, deletable: bool, source: str, ledger: str
) -> CollectionPlan:
    rows = db.execute(
        f"""
        SELECT 'create' AS op, d.id FROM {source} d
            ANTI JOIN {ledger} l ON l.collection = $c AND l.id = d.id
        UNION ALL
        SELECT 'update', d.id FROM {source} d
            JOIN {ledger} l ON l.collection = $c AND l.id = d.id
            WHERE l.row_hash <> d.row_hash
        UNION ALL
        SELECT 'gone', l.id FROM {ledger} l
            ANTI JOIN {source} d ON d.id = l.id
            WHERE l.collection = $c
        ORDER BY 1, 2
        """,
        {"c": name},
    ).fetchall()
    plan = CollectionPlan(name)
    for op, row_id in rows:
        if op != "gone":
            plan.ids[op].append(row_id)
        elif deletable:
            plan.ids["delete"].append(row_id)
        else:
            plan.stale += 1
    return plan


def _embed_lines(
    db: duckdb.DuckDBPyConnection, plans: dict[str, CollectionPlan], line: LineSpec, source: str
) -> None:
    """Line creates whose parent is created too move into the parent's create."""
    created_parents = plans[line.parent_collection].ids["create"]
    if not created_parents:
        return
    rows = db.execute(
        f"SELECT id FROM {source} WHERE {line.parent_column} IN (SELECT unnest(?::VARCHAR[]))",
        [created_parents],
    ).fetchall()
    embedded = {row[0] for row in rows}
    plan = plans[line.collection]
    plan.embedded = sorted(embedded)
    plan.ids["create"] = [i for i in plan.ids["create"] if i not in embedded]


def _add_money(
    db: duckdb.DuckDBPyConnection,
    plans: dict[str, CollectionPlan],
    line: LineSpec,
    source: str,
    ledger: str,
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
    lines = plans[line.collection]
    parents = plans[line.parent_collection]
    for op in OPS:
        # creates are summed before embedded lines move out: they are created all the same
        lines.money[op] = _sum(db, op, wanted=wanted, pushed=pushed, key="id", ids=lines.ids[op])
        # a touched invoice is worth what its lines hold (a void moves its whole total)
        whole: Op = "delete" if op == "delete" else "create"
        parents.money[op] = _sum(
            db, whole, wanted=wanted, pushed=pushed, key="parent_id", ids=parents.ids[op]
        )


def _sum(
    db: duckdb.DuckDBPyConnection, op: Op, *, wanted: str, pushed: str, key: str, ids: list[str]
) -> Money:
    if not ids:
        return {}
    chosen = f"{key} IN (SELECT unnest($ids::VARCHAR[]))"
    query = {
        "create": f"SELECT currency_code, sum(amount) FROM ({wanted}) WHERE {chosen} GROUP BY 1",
        # an update moves money by the difference between what is wanted and what was pushed
        "update": f"""
            SELECT coalesce(d.currency_code, p.currency_code),
                   sum(coalesce(d.amount, 0) - coalesce(p.amount, 0))
            FROM (SELECT * FROM ({wanted}) WHERE {chosen}) d
            FULL JOIN (SELECT * FROM ({pushed}) WHERE {chosen}) p USING (id)
            GROUP BY 1""",
        "delete": f"SELECT currency_code, -sum(amount) FROM ({pushed}) WHERE {chosen} GROUP BY 1",
    }[op]
    rows = db.execute(query, {"ids": ids}).fetchall()
    return {
        currency or "?": Decimal(total).normalize() for currency, total in sorted(rows) if total
    }
