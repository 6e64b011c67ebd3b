"""Reading and settling `fincome_sync.rejects` for the commands (the table is `LedgerStore`'s).

A run's rejects are the open ones it saw (opened or re-opened since it began). A stage that
looks at every record each run (the transform) resolves its earlier rejects that it no
longer produces: their cause was fixed, by new data or by configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb

from destinations.fincome import LedgerStore, Reject


def open_rejects_since(db: duckdb.DuckDBPyConnection, since: datetime) -> list[dict[str, Any]]:
    """Open rejects seen since `since`, oldest stage first: what a run must report."""
    if not _exists(db):
        return []
    rows = db.execute(
        "SELECT stage, collection, record_id, reason FROM fincome_sync.rejects "
        "WHERE resolved_at IS NULL AND last_seen >= ? "
        "ORDER BY CASE stage WHEN 'extract' THEN 0 WHEN 'transform' THEN 1 ELSE 2 END, "
        "collection, record_id",
        [since],
    ).fetchall()
    return [
        {"stage": stage, "collection": collection, "record_id": record_id, "reason": reason}
        for stage, collection, record_id, reason in rows
    ]


def resolve_vanished(ledger: LedgerStore, stage: str, current: Iterable[Reject]) -> None:
    """Resolve the open rejects of `stage` that this run did not produce again."""
    produced = {(r.collection, r.record_id) for r in current}
    gone: dict[str, list[str]] = {}
    for collection, record_id in ledger.open_reject_keys(stage=stage):
        if (collection, record_id) not in produced:
            gone.setdefault(collection, []).append(record_id)
    for collection, record_ids in gone.items():
        ledger.resolve_rejects(stage, collection, record_ids)


def _exists(db: duckdb.DuckDBPyConnection) -> bool:
    found = db.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'fincome_sync' AND table_name = 'rejects'"
    ).fetchall()
    return bool(found[0][0])
