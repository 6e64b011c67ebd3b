"""The extract's rejects: collected from every extract thread, recorded after the load.

Records the source could not stage are opened in `fincome_sync.rejects` (stage `extract`).
An earlier one is resolved when this run's loads staged its record, or, for a customer whose
lists could not be read (`UNREAD`), when they were all read this time. A record with an open
reject is always staged again (`unchanged_records.py`), so its fix resolves it.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence

import duckdb

from destinations.fincome.ledger import LedgerStore, Reject
from pipelines.datadir import DataDir
from sources.metronome import ExtractReject
from sources.metronome.customer_reads import UNREAD


class RejectCollector:
    """Collects rejects from every extract thread; one per record (the last reason wins)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], ExtractReject] = {}

    def add(self, reject: ExtractReject) -> None:
        with self._lock:
            self._by_key[(reject.collection, reject.record_id)] = reject

    def all(self) -> tuple[ExtractReject, ...]:
        with self._lock:
            return tuple(self._by_key[key] for key in sorted(self._by_key))


def record_rejects(
    data_dir: DataDir,
    rejects: Sequence[ExtractReject],
    load_ids: Sequence[str],
    read_whole: set[str],
    *,
    dataset: str,
    tables: Collection[str],
) -> None:
    """Open this run's rejects, and resolve earlier ones whose record has now been staged
    (or, for a customer that could not be read, whose lists were all read this time)."""
    with data_dir.connect() as connection:
        ledger = LedgerStore(connection)
        ledger.add_rejects(
            Reject("extract", r.collection, r.record_id, r.reason, payload=r.payload)
            for r in rejects
        )
        still_open: dict[str, list[str]] = {}
        for collection, record_id in ledger.open_reject_keys(stage="extract"):
            still_open.setdefault(collection, []).append(record_id)
        for collection, record_ids in still_open.items():
            if collection == UNREAD:
                ledger.resolve_rejects("extract", UNREAD, sorted(read_whole & set(record_ids)))
            elif collection in tables and load_ids:
                staged = _staged_now(connection, dataset, collection, record_ids, load_ids)
                ledger.resolve_rejects("extract", collection, staged)


def _staged_now(
    connection: duckdb.DuckDBPyConnection,
    dataset: str,
    collection: str,
    record_ids: Sequence[str],
    load_ids: Sequence[str],
) -> list[str]:
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [dataset, collection],
    ).fetchall()[0][0]
    if not exists:
        return []
    rows = connection.execute(
        f"SELECT id FROM {dataset}.{collection} WHERE id IN (SELECT unnest(?::VARCHAR[])) "
        "AND _dlt_load_id IN (SELECT unnest(?::VARCHAR[]))",
        [list(record_ids), list(load_ids)],
    ).fetchall()
    return [row[0] for row in rows]
