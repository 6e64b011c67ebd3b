"""What Fincome already holds (the ledger) and what it refused (rejects), in DuckDB.

A ledger row is written only after Fincome acknowledged the write, so the ledger never claims
more than Fincome has; a lost or stale ledger only costs extra upserts, never duplicates.
Rejects are shared with the other stages (`extract`, `transform`): one row per record and
stage, reopened when it fails again and resolved when it finally goes through.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

DEFAULT_SCHEMA = "fincome_sync"
# Refused records are whole invoices, held several times over while a statement is built and
# run (text, Python list, DuckDB's list, JSON): one statement for all of L's 3,795 raised the
# resident size by about 85 MB, 500 at a time by about 15.
REJECTS_PER_STATEMENT = 500
LEDGER_BATCH = "_ledger_batch"  # the name a batch of acknowledged entries is read under


@dataclass(frozen=True)
class LedgerEntry:
    collection: str
    id: str
    row_hash: str
    body: str | dict[str, Any]  # the JSON sent (as text from the desired state) or its object
    parent_id: str | None = None


@dataclass(frozen=True)
class Reject:
    stage: str  # extract | transform | push
    collection: str  # the Metronome table or Fincome collection the record belongs to
    record_id: str
    reason: str  # one line a person can act on
    detail: Any = None  # e.g. Fincome's 422 `detail` list
    payload: Any = None  # the record as it was when it was refused

    def packed(self) -> Reject:
        """The same reject with `detail` and `payload` as the JSON they are stored as.

        A run may refuse thousands of records; held as Python objects until they are stored,
        L's 3,795 refused invoices took about 90 MB, as JSON text 11 MB.
        """
        return replace(self, detail=_packed(self.detail), payload=_packed(self.payload))


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
    return None if value is None else _dumped(value).decode()


def _body_text(body: str | dict[str, Any]) -> str | None:
    return body if isinstance(body, str) else _json(body)


def _packed(value: Any) -> Any:
    if value is None or isinstance(value, orjson.Fragment):
        return value
    # text, not orjson's bytes: those keep orjson's whole output buffer (64 KB for a 4 KB
    # invoice), which only matters for what is held, like this
    return orjson.Fragment(_dumped(value).decode())  # dumped as it is by `_json`


def _dumped(value: Any) -> bytes:
    """JSON of a refused record, whatever it holds: junk is what rejects are for."""
    try:
        return orjson.dumps(value, default=str)
    except TypeError:  # nested deeper than orjson's 254 levels, or an int beyond 64 bits
        pass
    try:
        return json.dumps(value, default=str, ensure_ascii=False).encode()
    except (RecursionError, ValueError):  # deeper than Python itself goes: say so instead
        return orjson.dumps(f"not kept: a {type(value).__name__} nested too deep for JSON")


class LedgerStore:
    """Thread-safe access to the `fincome_sync` tables of one DuckDB database."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, *, schema: str = DEFAULT_SCHEMA):
        self.schema = schema
        self._root = connection
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._owns_connection = False  # `open` made it: `close` closes it too
        self._root.execute(_ddl(schema))

    @classmethod
    def open(cls, path: str | Path, *, schema: str = DEFAULT_SCHEMA) -> LedgerStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        store = cls(duckdb.connect(str(path)), schema=schema)
        store._owns_connection = True
        return store

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._root.cursor()
            self._local.cursor = cursor
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    def close(self) -> None:
        """Close every thread's cursor, and the connection if `open` made it."""
        with self._cursors_lock:
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
        self._local = threading.local()
        if self._owns_connection:
            self._root.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The calling thread's writes inside as one commit: one WAL sync, not one each."""
        self.db.begin()
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()

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
        """Upsert entries in one statement; for a repeated (collection, id) the last one wins.

        The batch goes in as one Arrow table: on DuckDB 2.0 `executemany` costs about 3 ms
        per row, and lists bound as parameters 0.69 s of CPU for M's 44,000 entries, against
        0.41 s as Arrow (the push's ledger writes share two cores with its sends).
        """
        latest = {(e.collection, e.id): e for e in entries}
        if not latest:
            return
        # loaded here, not at import: Arrow picks its allocator when it is first loaded, and
        # a command chooses it first (`pipelines.heap.arrow_allocates_with_malloc`)
        import pyarrow as pa

        columns = zip(
            *(
                (e.collection, e.id, e.parent_id, e.row_hash, _body_text(e.body))
                for e in latest.values()
            ),
            strict=True,
        )
        names = ("collection", "id", "parent_id", "row_hash", "body")
        batch = pa.table(
            {
                name: pa.array(values, pa.string())
                for name, values in zip(names, columns, strict=True)
            }
        )
        self.db.register(LEDGER_BATCH, batch)
        try:
            self.db.execute(
                f"INSERT OR REPLACE INTO {self.schema}.ledger SELECT collection, id, parent_id, "
                f"row_hash, body::JSON, ? FROM {LEDGER_BATCH}",
                [datetime.now(UTC)],
            )
        finally:
            self.db.unregister(LEDGER_BATCH)

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
        """Open (or reopen) rejects, a batch per statement; the last one per record wins."""
        latest = list({(r.stage, r.collection, r.record_id): r for r in rejects}.values())
        now = datetime.now(UTC)
        for start in range(0, len(latest), REJECTS_PER_STATEMENT):
            self._upsert_rejects(latest[start : start + REJECTS_PER_STATEMENT], now)

    def _upsert_rejects(self, rejects: Sequence[Reject], now: datetime) -> None:
        columns = list(
            zip(
                *(
                    (
                        r.stage,
                        r.collection,
                        r.record_id,
                        r.reason,
                        _json(r.detail),
                        _json(r.payload),
                    )
                    for r in rejects
                ),
                strict=True,
            )
        )
        self.db.execute(
            f"""
            INSERT INTO {self.schema}.rejects
            SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
                   unnest(?::VARCHAR[]), unnest(?::VARCHAR[])::JSON, unnest(?::VARCHAR[])::JSON,
                   ?7, ?7, 1, NULL
            ON CONFLICT (stage, collection, record_id) DO UPDATE SET
                reason = excluded.reason, detail = excluded.detail, payload = excluded.payload,
                last_seen = excluded.last_seen, attempts = rejects.attempts + 1,
                resolved_at = NULL
            """,
            [*(list(column) for column in columns), now],
        )

    def resolve_rejects(self, stage: str, collection: str, record_ids: Sequence[str]) -> None:
        if record_ids:
            self.db.execute(
                f"UPDATE {self.schema}.rejects SET resolved_at = ? "
                "WHERE stage = ? AND collection = ? AND resolved_at IS NULL "
                "AND record_id IN (SELECT unnest(?::VARCHAR[]))",
                [datetime.now(UTC), stage, collection, list(record_ids)],
            )

    def open_reject_keys(self, *, stage: str | None = None) -> list[tuple[str, str]]:
        """(collection, record_id) of the open rejects: `open_rejects` without parsing every
        refused record back."""
        query, params = self._open_rejects_query("collection, record_id", stage)
        rows = self.db.execute(query + " ORDER BY collection, record_id", params).fetchall()
        return [(collection, record_id) for collection, record_id in rows]

    def open_rejects(self, *, stage: str | None = None) -> list[dict[str, Any]]:
        query, params = self._open_rejects_query(
            "stage, collection, record_id, reason, detail, payload, first_seen, last_seen, "
            "attempts",
            stage,
        )
        cursor = self.db.execute(query + " ORDER BY stage, collection, record_id", params)
        columns = [d[0] for d in cursor.description]
        found = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        for row in found:  # JSON columns come back as text
            for key in ("detail", "payload"):
                row[key] = None if row[key] is None else orjson.loads(row[key])
        return found

    def _open_rejects_query(self, columns: str, stage: str | None) -> tuple[str, list[Any]]:
        query = f"SELECT {columns} FROM {self.schema}.rejects WHERE resolved_at IS NULL"
        if stage is None:
            return query, []
        return query + " AND stage = ?", [stage]
