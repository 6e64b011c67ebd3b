"""What Fincome already holds (the ledger) and what it refused (rejects), in DuckDB.

A ledger row is written only after Fincome acknowledged the write, so the ledger never claims
more than Fincome has; a lost or stale ledger only costs extra upserts, never duplicates.
Rejects are shared with the other stages (`extract`, `transform`): one row per record and
stage, reopened when it fails again and resolved when it finally goes through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

DEFAULT_SCHEMA = "fincome_sync"


@dataclass(frozen=True)
class LedgerEntry:
    collection: str
    id: str
    row_hash: str
    body: dict[str, Any]
    parent_id: str | None = None


@dataclass(frozen=True)
class Reject:
    stage: str  # extract | transform | push
    collection: str  # the Metronome table or Fincome collection the record belongs to
    record_id: str
    reason: str  # one line a person can act on
    detail: Any = None  # e.g. Fincome's 422 `detail` list
    payload: Any = None  # the record as it was when it was refused


def _ddl(schema: str) -> str:
    return f"""
    CREATE SCHEMA IF NOT EXISTS {schema};
    CREATE TABLE IF NOT EXISTS {schema}.ledger (
        collection VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        parent_id VARCHAR,
        row_hash VARCHAR NOT NULL,
        body JSON NOT NULL,
        pushed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (collection, id)
    );
    CREATE TABLE IF NOT EXISTS {schema}.rejects (
        stage VARCHAR NOT NULL,
        collection VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        detail JSON,
        payload JSON,
        first_seen TIMESTAMPTZ NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL,
        attempts INTEGER NOT NULL,
        resolved_at TIMESTAMPTZ,
        PRIMARY KEY (stage, collection, record_id)
    );
    """


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


class LedgerStore:
    """Thread-safe access to the `fincome_sync` tables of one DuckDB database."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, *, schema: str = DEFAULT_SCHEMA):
        self.schema = schema
        self._root = connection
        self._local = threading.local()
        self._root.execute(_ddl(schema))

    @classmethod
    def open(cls, path: str | Path, *, schema: str = DEFAULT_SCHEMA) -> LedgerStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(duckdb.connect(str(path)), schema=schema)

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._root.cursor()
            self._local.cursor = cursor
        return cursor

    # -- ledger ---------------------------------------------------------------------------

    def hashes(self, collection: str, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        rows = self.db.execute(
            f"SELECT id, row_hash FROM {self.schema}.ledger "
            "WHERE collection = ? AND id IN (SELECT unnest(?::VARCHAR[]))",
            [collection, list(ids)],
        ).fetchall()
        return dict(rows)

    def record(self, entries: Iterable[LedgerEntry]) -> None:
        now = datetime.now(UTC)
        rows = [(e.collection, e.id, e.parent_id, e.row_hash, _json(e.body), now) for e in entries]
        if rows:
            self.db.executemany(
                f"INSERT OR REPLACE INTO {self.schema}.ledger VALUES (?, ?, ?, ?, ?, ?)", rows
            )

    def forget(self, collection: str, ids: Sequence[str]) -> None:
        if ids:
            self.db.execute(
                f"DELETE FROM {self.schema}.ledger "
                "WHERE collection = ? AND id IN (SELECT unnest(?::VARCHAR[]))",
                [collection, list(ids)],
            )

    def children(self, collection: str, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        """Ids in `collection` the ledger holds under each parent id."""
        if not parent_ids:
            return {}
        rows = self.db.execute(
            f"SELECT parent_id, id FROM {self.schema}.ledger "
            "WHERE collection = ? AND parent_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY id",
            [collection, list(parent_ids)],
        ).fetchall()
        found: dict[str, list[str]] = {}
        for parent_id, child_id in rows:
            found.setdefault(parent_id, []).append(child_id)
        return found

    # -- rejects --------------------------------------------------------------------------

    def add_rejects(self, rejects: Iterable[Reject]) -> None:
        now = datetime.now(UTC)
        rows = [
            (r.stage, r.collection, r.record_id, r.reason, _json(r.detail), _json(r.payload), now)
            for r in rejects
        ]
        if not rows:
            return
        self.db.executemany(
            f"""
            INSERT INTO {self.schema}.rejects
            VALUES (?, ?, ?, ?, ?, ?, ?7, ?7, 1, NULL)
            ON CONFLICT (stage, collection, record_id) DO UPDATE SET
                reason = excluded.reason, detail = excluded.detail, payload = excluded.payload,
                last_seen = excluded.last_seen, attempts = rejects.attempts + 1,
                resolved_at = NULL
            """,
            rows,
        )

    def resolve_rejects(self, stage: str, collection: str, record_ids: Sequence[str]) -> None:
        if record_ids:
            self.db.execute(
                f"UPDATE {self.schema}.rejects SET resolved_at = ? "
                "WHERE stage = ? AND collection = ? AND resolved_at IS NULL "
                "AND record_id IN (SELECT unnest(?::VARCHAR[]))",
                [datetime.now(UTC), stage, collection, list(record_ids)],
            )

    def open_rejects(self, *, stage: str | None = None) -> list[dict[str, Any]]:
        query = (
            "SELECT stage, collection, record_id, reason, detail, payload, first_seen, "
            f"last_seen, attempts FROM {self.schema}.rejects WHERE resolved_at IS NULL"
        )
        params: list[Any] = []
        if stage is not None:
            query += " AND stage = ?"
            params.append(stage)
        cursor = self.db.execute(query + " ORDER BY stage, collection, record_id", params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
