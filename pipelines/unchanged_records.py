"""Records the extract read again unchanged: left out of dlt's normalize and load.

A re-run re-reads every customer's recent window (so that late voids are seen), and used to
stage every record it read again: on the L benchmark account dlt normalized and loaded
thousands of identical rows on every unchanged re-run. Now each staged row carries a
fingerprint of the record as the source yielded it (`FINGERPRINT_COLUMN`), written by the
same load as the row itself, so the two can never disagree after a kill. A run reads the
staged fingerprints before it extracts (`StagedFingerprints.read`) and drops each record
whose fingerprint equals its staged row's: that row already holds exactly what staging the
record again would write. A record that changed in any way (voided, a new line, a new
status) has another fingerprint and is staged, as is every new record.

Never dropped:
- the records of a resource that feeds transformers: dlt hands them on through the same
  pipe, after every step added here, so dropping one would stop the reads that hang off it
  (the Metronome source lists customers and plans in resources it does not load, and
  stages them through pass-through transformers: every table it loads is a leaf);
- a record with an open extract reject: staging it is what resolves the reject
  (`extract._record_rejects` looks for the record in this run's loads);
- any record on a full refresh (`--full-refresh` restages everything);
- any record of a resource that does not merge by id: under `replace` a record left out
  would vanish from its table.

Dropping records changes nothing the source decides: its cursors and state move on what it
read, before this filter sees the records.

The fingerprint is a 128-bit BLAKE2b of dlt's typed JSON of the record (Decimals tagged, so
text "1" and the number 1 differ; the source refuses text that would pass for such a tag),
salted with `FINGERPRINT_VERSION` and the table's column hints, so a change to either
restages each record once. A row staged before fingerprints existed has none, and its record
is staged (and fingerprinted) the next time it is read.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
from dlt.common.json import json
from dlt.extract import DltSource

# dlt's prefix: the source refuses a Metronome field that would be staged in a `_dlt_`
# column (`stageable.column_clash`), so none can overwrite this one, and the staging reader
# leaves `_dlt_` columns out of the records it hands the transform and of its fingerprints.
FINGERPRINT_COLUMN = "_dlt_fingerprint"
FINGERPRINT_VERSION = b"billing-sync staged record 1"

Row = dict[str, Any]


@dataclass(frozen=True)
class StagedFingerprints:
    """The fingerprint of every staged row that has one, per table then id."""

    by_table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def read(
        cls,
        connection: duckdb.DuckDBPyConnection,
        dataset: str,
        tables: Iterable[str],
        open_rejects: Iterable[tuple[str, str]] = (),
    ) -> StagedFingerprints:
        """The staged fingerprints of `tables`, leaving out the records of `open_rejects`
        ((table, id) pairs) so that they are staged again."""
        wanted = list(tables)
        present = {
            table
            for (table,) in connection.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = ? AND column_name = ?",
                [dataset, FINGERPRINT_COLUMN],
            ).fetchall()
        }
        rejected: dict[str, set[str]] = {}
        for table, record_id in open_rejects:
            rejected.setdefault(table, set()).add(record_id)
        by_table: dict[str, dict[str, str]] = {}
        for table in wanted:
            if table not in present:
                continue
            rows = connection.execute(
                f'SELECT id, "{FINGERPRINT_COLUMN}" FROM {dataset}.{table} '
                f'WHERE "{FINGERPRINT_COLUMN}" IS NOT NULL'
            ).fetchall()
            skip = rejected.get(table, set())
            by_table[table] = {key: fingerprint for key, fingerprint in rows if key not in skip}
        return cls(by_table)


def skip_unchanged(source: DltSource, staged: StagedFingerprints) -> Unchanged:
    """Fingerprint every record `source` yields, and drop those staged as they are; the
    result counts what was dropped, per table, as the extract goes.

    Only the resources that are loaded are touched; of those, one that feeds transformers,
    or does not merge, is only fingerprinted (see the module docstring)."""
    parents = _parents(source)
    unchanged = Unchanged()
    for name, resource in source.selected_resources.items():
        resource.add_map(_fingerprinting(table_salt(name, resource.columns)))
        if name not in parents and resource.write_disposition == "merge":
            resource.add_filter(unchanged.filter(name, staged.by_table.get(name, {})))
    return unchanged


class Unchanged:
    """Records left out because they are staged as they are, counted per table (the
    filters may run on any extract thread)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def by_table(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def filter(self, table: str, staged: Mapping[str, str]) -> Callable[[Any], bool]:
        """dlt's filter for `table`: keeps a record unless its fingerprint is its staged
        row's. One argument only: dlt hands a second one (the item's meta) to a filter that
        takes two."""

        def kept(row: Any) -> bool:
            if not isinstance(row, dict):
                return True
            fingerprint, record_id = row.get(FINGERPRINT_COLUMN), row.get("id")
            if not isinstance(fingerprint, str) or not isinstance(record_id, str):
                return True
            if staged.get(record_id) != fingerprint:
                return True
            with self._lock:
                self._counts[table] = self._counts.get(table, 0) + 1
            return False

        return kept


def table_salt(table: str, columns: Any) -> bytes:
    """What a table's fingerprints are keyed with: the version, the table, its column hints
    (a hint that is not a plain mapping makes a new salt every run: never unchanged)."""
    hints = json.dumpb(columns, sort_keys=True) if isinstance(columns, dict) else os.urandom(16)
    return hashlib.blake2b(
        FINGERPRINT_VERSION + b"\0" + table.encode() + b"\0" + hints, digest_size=16
    ).digest()


def with_fingerprint(row: Any, salt: bytes) -> Any:
    """The record with its fingerprint; one that cannot be fingerprinted (no record the
    source lets through) is staged without one, so it is never taken for unchanged."""
    if not isinstance(row, dict):
        return row
    try:
        content = json.typed_dumpb(row)
    except (TypeError, ValueError, OverflowError):
        return row
    row[FINGERPRINT_COLUMN] = hashlib.blake2b(content, digest_size=16, key=salt).hexdigest()
    return row


def _fingerprinting(salt: bytes) -> Callable[[Any], Any]:
    """dlt's map adding fingerprints keyed with `salt`; of one argument, as `Unchanged.filter`
    explains (a default argument would receive the item's meta)."""
    return lambda row: with_fingerprint(row, salt)


def _parents(source: DltSource) -> set[str]:
    """Names of the resources whose records feed a transformer of `source`."""
    names = set()
    for resource in source.resources.values():
        parent = resource._pipe.parent  # dlt exposes the pipe a transformer reads from only here
        if parent is not None:
            names.add(parent.name)
    return names
