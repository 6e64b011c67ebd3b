"""Reading and settling `fincome_sync.rejects` for the commands (the table is `LedgerStore`'s).

The transform's rejects (`TransformReject`) become the ledger's `Reject`s in one place,
`store_transform_rejects`, where they are stored.

A run's rejects are the open ones it saw (opened or re-opened since it began). A stage that
looks at every record each run (the transform) resolves its earlier rejects that it no
longer produces: their cause was fixed, by new data or by configuration. Of a run's
rejects, the `new` ones are those no one was told of yet (`reported_rejects`): not open
when it began (first seen now, or reopened), or opened by runs that failed or stopped since
the last push that finished (exit 0 or 3) listed its rejects. The commands exit 3 for new
ones alone, so a scheduler alerts once per set-aside record, not on every run for the same
old ones, and not never for those a failed run set aside.

The transform produces every open transform reject again each run (a customer it does not
map again keeps its rejects): `store_transform_rejects` writes only those that are new or
whose reason changed, and for the others only notes that this run saw them (`last_seen`),
so `attempts` counts the times a reject was opened, not the runs.

`rejects --retry` takes the open rejects before anything runs (`open_reject_keys`): the
extract and the transform resolve the ones they no longer produce, so read afterwards they
would name nothing to push. `RetryReport` then says, per retried record, what was sent:
it compares the ledger rows the record owns (`ownership.owned_by`: its lines, what belongs to
a customer...) before and after the push.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson

from destinations.fincome import LedgerStore, Reject
from pipelines.ownership import desired_records, fincome_keys, ledger_records, owned_by
from pipelines.transform.rejects import TransformReject

STAGE_ORDER = "CASE stage WHEN 'extract' THEN 0 WHEN 'transform' THEN 1 ELSE 2 END"
RETRY_BEFORE_TABLE = "retry_ledger_before"
# the commands whose recorded summary lists the run's rejects with their stage
PUSHING_COMMANDS = ("sync", "push", "backfill", "push-shared")
DESIRED_SCHEMA = "fincome"


@dataclass(frozen=True)
class RejectKey:
    stage: str
    collection: str
    record_id: str


def open_rejects_since(
    db: duckdb.DuckDBPyConnection, since: datetime, open_before: Collection[RejectKey]
) -> list[dict[str, Any]]:
    """Open rejects seen since `since`, oldest stage first: what a run must report, each
    `new` unless it is in `open_before` (open when the run began and already reported:
    `reported_rejects`)."""
    if not _exists(db):
        return []
    rows = db.execute(
        "SELECT stage, collection, record_id, reason FROM fincome_sync.rejects "
        f"WHERE resolved_at IS NULL AND last_seen >= ? ORDER BY {STAGE_ORDER}, "
        "collection, record_id",
        [since],
    ).fetchall()
    return [
        {
            "stage": stage,
            "collection": collection,
            "record_id": record_id,
            "reason": reason,
            "new": RejectKey(stage, collection, record_id) not in open_before,
        }
        for stage, collection, record_id, reason in rows
    ]


def reported_rejects(db: duckdb.DuckDBPyConnection) -> frozenset[RejectKey]:
    """The open rejects the last finished push (exit 0 or 3, `PUSHING_COMMANDS`) listed:
    someone was told of them, so a run that sees them again reports them as old."""
    if not _exists(db, "runs"):
        return frozenset()
    row = db.execute(
        "SELECT summary FROM fincome_sync.runs WHERE outcome IN ('ok', 'rejects') "
        "AND command IN (SELECT unnest(?::VARCHAR[])) ORDER BY started_at DESC LIMIT 1",
        [list(PUSHING_COMMANDS)],
    ).fetchone()
    listed = orjson.loads(row[0]).get("rejects") if row and row[0] else None
    keys = {
        RejectKey(r["stage"], r["collection"], r["record_id"])
        for r in listed or []
        if isinstance(r, dict) and {"stage", "collection", "record_id"} <= r.keys()
    }
    return frozenset(keys.intersection(open_reject_keys(db)))


def open_reject_keys(db: duckdb.DuckDBPyConnection) -> tuple[RejectKey, ...]:
    """Every open reject, oldest stage first."""
    if not _exists(db):
        return ()
    rows = db.execute(
        "SELECT stage, collection, record_id FROM fincome_sync.rejects "
        f"WHERE resolved_at IS NULL ORDER BY {STAGE_ORDER}, collection, record_id"
    ).fetchall()
    return tuple(RejectKey(*row) for row in rows)


def store_transform_rejects(ledger: LedgerStore, rejects: Iterable[TransformReject]) -> None:
    """Store a whole transform's rejects and resolve its earlier ones it no longer produces.

    One already open with the same reason is only marked as seen by this run."""
    stage = TransformReject.stage
    produced = [
        Reject(r.stage, r.collection, r.record_id, r.reason, payload=r.payload) for r in rejects
    ]
    open_reasons = _open_reasons(ledger, stage)
    changed: list[Reject] = []
    unchanged: list[Reject] = []
    for reject in produced:
        same = open_reasons.get((reject.collection, reject.record_id)) == reject.reason
        (unchanged if same else changed).append(reject)
    ledger.add_rejects(changed)
    _seen_again(ledger, stage, unchanged)
    resolve_vanished(ledger, stage, produced)


def _open_reasons(ledger: LedgerStore, stage: str) -> dict[tuple[str, str], str]:
    rows = ledger.db.execute(
        f"SELECT collection, record_id, reason FROM {ledger.schema}.rejects "
        "WHERE stage = ? AND resolved_at IS NULL",
        [stage],
    ).fetchall()
    return {(collection, record_id): reason for collection, record_id, reason in rows}


def _seen_again(ledger: LedgerStore, stage: str, rejects: Sequence[Reject]) -> None:
    """Mark open rejects as seen by this run (`last_seen`), nothing else changed."""
    if rejects:
        ledger.db.execute(
            f"UPDATE {ledger.schema}.rejects SET last_seen = ? FROM (SELECT "
            "unnest(?::VARCHAR[]) AS collection, unnest(?::VARCHAR[]) AS record_id) seen "
            f"WHERE rejects.stage = ? AND rejects.collection = seen.collection "
            "AND rejects.record_id = seen.record_id AND rejects.resolved_at IS NULL",
            [
                datetime.now(UTC),
                [r.collection for r in rejects],
                [r.record_id for r in rejects],
                stage,
            ],
        )


def resolve_vanished(ledger: LedgerStore, stage: str, current: Iterable[Reject]) -> None:
    """Resolve the open rejects of `stage` that this run did not produce again."""
    produced = {(r.collection, r.record_id) for r in current}
    gone: dict[str, list[str]] = {}
    for collection, record_id in ledger.open_reject_keys(stage=stage):
        if (collection, record_id) not in produced:
            gone.setdefault(collection, []).append(record_id)
    for collection, record_ids in gone.items():
        ledger.resolve_rejects(stage, collection, record_ids)


class RetryReport:
    """Per retried record, what the retry sent, or why it is still set aside.

    Built once the transform has run and before the push: it notes what the ledger holds of
    the records each retried one owns, in the desired state or in the ledger; `outcomes`
    compares that with the ledger after the push.
    """

    def __init__(self, db: duckdb.DuckDBPyConnection, retried: Sequence[RejectKey]) -> None:
        self.retried = tuple(retried)
        ledger = LedgerStore(db)  # its tables exist from here on
        self._ledger = f"{ledger.schema}.ledger"
        self._rejects = f"{ledger.schema}.rejects"
        present = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [DESIRED_SCHEMA],
        ).fetchall()
        self._desired = desired_records(DESIRED_SCHEMA, {name for (name,) in present})
        before = f"CREATE OR REPLACE TEMP TABLE {RETRY_BEFORE_TABLE} AS {self._owned_rows()}"
        db.execute(before, self._params())

    def outcomes(self, db: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
        """`{stage, collection, record_id, outcome, created, updated, deleted, reason}` per
        retried record: `rejected` (still set aside; `reason` is its new reason, null
        otherwise), `sent` or `unchanged` (Fincome already held what it maps to)."""
        written = self._written(db)
        refused = self._still_refused(db)
        return [
            _outcome(key, written.get(key, (0, 0, 0)), refused.get(key)) for key in self.retried
        ]

    def _written(self, db: duckdb.DuckDBPyConnection) -> dict[RejectKey, tuple[int, int, int]]:
        rows = db.execute(
            f"""
            SELECT stage, reject_collection, record_id,
                count(*) FILTER (WHERE b.row_hash IS NULL AND a.row_hash IS NOT NULL),
                count(*) FILTER (WHERE a.row_hash <> b.row_hash),
                count(*) FILTER (WHERE b.row_hash IS NOT NULL AND a.row_hash IS NULL)
            FROM ({self._owned_rows()}) a
            FULL JOIN {RETRY_BEFORE_TABLE} b
                USING (stage, reject_collection, record_id, collection, id)
            GROUP BY 1, 2, 3
            """,
            self._params(),
        ).fetchall()
        return {RejectKey(*row[:3]): (row[3], row[4], row[5]) for row in rows}

    def _still_refused(self, db: duckdb.DuckDBPyConnection) -> dict[RejectKey, str]:
        """The retried records still set aside, at any stage, with the latest reason: the
        reject itself, or another one naming the same Fincome record (the push refused it)."""
        rows = db.execute(
            f"SELECT stage, collection, record_id, reason FROM {self._rejects} "
            "WHERE resolved_at IS NULL ORDER BY last_seen"
        ).fetchall()
        reason_of: dict[object, str] = {}
        for stage, collection, record_id, reason in rows:
            for key in (
                RejectKey(stage, collection, record_id),
                *fincome_keys(stage, collection, record_id),
            ):
                reason_of[key] = reason
        refused = {}
        for key in self.retried:
            own = (key, *fincome_keys(key.stage, key.collection, key.record_id))
            reasons = [reason_of[k] for k in own if k in reason_of]
            if reasons:
                refused[key] = reasons[-1]
        return refused

    def _owned_rows(self) -> str:
        """SQL: the records each retried one owns, with their ledger hash (null: not held)."""
        return f"""
            SELECT DISTINCT r.stage, r.reject_collection, r.record_id, o.collection, o.id,
                   l.row_hash
            FROM (
                SELECT * FROM ({owned_by(self._desired)})
                UNION ALL
                SELECT * FROM ({owned_by(ledger_records(self._ledger))})
            ) o
            JOIN (SELECT unnest($stages::VARCHAR[]) AS stage,
                         unnest($collections::VARCHAR[]) AS reject_collection,
                         unnest($records::VARCHAR[]) AS record_id,
                         unnest($fincome::VARCHAR[]) AS fincome) r
                ON r.fincome = o.owner_collection AND r.record_id = o.owner_id
            LEFT JOIN {self._ledger} l ON l.collection = o.collection AND l.id = o.id"""

    def _params(self) -> dict[str, list[str]]:
        pairs = [
            (key, fincome)
            for key in self.retried
            for fincome, _ in fincome_keys(key.stage, key.collection, key.record_id)
        ]
        return {
            "stages": [key.stage for key, _ in pairs],
            "collections": [key.collection for key, _ in pairs],
            "records": [key.record_id for key, _ in pairs],
            "fincome": [fincome for _, fincome in pairs],
        }


def _outcome(key: RejectKey, written: tuple[int, int, int], reason: str | None) -> dict[str, Any]:
    created, updated, deleted = written
    shown: dict[str, Any] = {
        "stage": key.stage,
        "collection": key.collection,
        "record_id": key.record_id,
        "outcome": "rejected" if reason else "sent" if any(written) else "unchanged",
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "reason": reason,
    }
    return shown


def _exists(db: duckdb.DuckDBPyConnection, table: str = "rejects") -> bool:
    found = db.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'fincome_sync' AND table_name = ?",
        [table],
    ).fetchall()
    return bool(found[0][0])
