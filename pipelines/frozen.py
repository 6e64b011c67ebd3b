"""Frozen records: what Fincome keeps as last pushed while a transform reject is open on it.

Setting a record aside must never delete or alter what Fincome already holds. When a record
Fincome holds becomes a transform reject (a `[mapping.pricing_units]` entry removed, any
mapping change that now refuses it), it drops out of the desired state: the plan would delete
its lines and, for a customer or customer plan, its subscriptions, and would rewrite what
summarises it. So a ledger record is frozen while it, or one of its owners
(`ownership.owned_by`: its invoice or credit note, its customer, for a subscription the
invoices whose lines name it) has an open transform reject; the plan neither updates nor
deletes it. Only an upstream change changes it: once the record maps again (the mapping was
fixed, or it turned VOID upstream) the reject resolves and the plan treats it as usual.

`freeze` builds the frozen records once per plan as a temp table of
`collection, id, reject_collection, record_id` (the reject that freezes it), in SQL: the
ledger of a large account holds ~180k rows, so nothing here loops over it in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.ownership import FINCOME_OF_METRONOME_SQL, ledger_records, owned_by

FROZEN_TABLE = "frozen_records"
NO_FROZEN = (
    "(SELECT NULL::VARCHAR AS collection, NULL::VARCHAR AS id, "
    "NULL::VARCHAR AS reject_collection, NULL::VARCHAR AS record_id WHERE false)"
)


@dataclass(frozen=True)
class FrozenReject:
    """An open transform reject under which Fincome keeps records as last pushed."""

    since: datetime  # when Fincome acknowledged the version it keeps
    records: int  # the records it freezes, lines included


def freeze(db: duckdb.DuckDBPyConnection, schema: str = "fincome_sync") -> str:
    """The frozen records of the ledger in `schema`, as a relation for SQL.

    A temp table when there are any; an empty relation when no transform reject is open
    (every ordinary run), which costs one count.
    """
    if not _has_ledger_and_rejects(db, schema):
        return NO_FROZEN
    held = _open_transform_rejects(f"{schema}.rejects")
    [(open_rejects,)] = db.execute(f"SELECT count(*) FROM ({held})").fetchall()
    if not open_rejects:
        return NO_FROZEN
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {FROZEN_TABLE} AS
        SELECT DISTINCT o.collection, o.id, h.collection AS reject_collection, h.record_id
        FROM ({owned_by(ledger_records(f"{schema}.ledger"))}) o
        JOIN ({held}) h ON h.fincome = o.owner_collection AND h.record_id = o.owner_id
        """
    )
    return FROZEN_TABLE


def frozen_rejects(
    db: duckdb.DuckDBPyConnection, schema: str = "fincome_sync"
) -> dict[tuple[str, str], FrozenReject]:
    """(collection, record_id) of each open transform reject that freezes records -> since
    when Fincome keeps them (the record's own push, else the latest of those it freezes)."""
    frozen = freeze(db, schema)
    if frozen == NO_FROZEN:
        return {}
    rows = db.execute(
        f"""
        SELECT f.reject_collection, f.record_id, count(*),
               coalesce(max(l.pushed_at) FILTER (WHERE l.id = f.record_id), max(l.pushed_at))
        FROM {frozen} f JOIN {schema}.ledger l USING (collection, id)
        GROUP BY 1, 2
        """
    ).fetchall()
    return {
        (collection, record_id): FrozenReject(since, records)
        for collection, record_id, records, since in rows
    }


def frozen_note(since: str, records: int) -> str:
    """How a person reads that Fincome keeps a rejected record as last pushed."""
    held = f"{records:,} records, lines included" if records > 1 else "1 record"
    return f"frozen: Fincome keeps the version pushed at {since} ({held})"


def _open_transform_rejects(rejects: str) -> str:
    """SQL: the open transform rejects with each Fincome collection their record may be in."""
    return (
        f"SELECT r.collection, r.record_id, fincome_of.fincome FROM {rejects} r "
        f"JOIN {FINCOME_OF_METRONOME_SQL} ON fincome_of.metronome = r.collection "
        "WHERE r.stage = 'transform' AND r.resolved_at IS NULL"
    )


def _has_ledger_and_rejects(db: duckdb.DuckDBPyConnection, schema: str) -> bool:
    [(found,)] = db.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name IN ('ledger', 'rejects')",
        [schema],
    ).fetchall()
    return bool(found == 2)
