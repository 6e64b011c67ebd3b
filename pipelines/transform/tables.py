"""The `fincome` schema: one table per collection, replaced wholesale in one transaction.

Columns are decided by `destinations.fincome.desired` (the seed's create fields, typed, plus
`row_hash` and the ready `body`). Rows are first
spooled to one NDJSON file per collection, then each file is loaded with a single
`read_json`: one statement per table however many rows, where `executemany` would take a
round trip per row.

Beside the collections, `skipped_records` (collection, record_id, reason) lists what the
transform left out on purpose as not revenue (bundle.py), replaced in the same transaction;
`billing-sync status` counts it by reason.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import duckdb
import orjson

from destinations.fincome.desired import column_types, desired_row
from destinations.fincome.schema import COLLECTIONS, PUSH_ORDER, Collection
from pipelines.sizes import size_bytes

DEFAULT_SCHEMA = "fincome"
SKIPPED_TABLE = "skipped_records"
# `read_json` refuses a line longer than its `maximum_object_size` and sizes its buffers from
# it; DuckDB's own default, raised to the longest spooled line when one is longer.
DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024
# A line longer than that makes read_json ask for a block of 8 times the next power of two
# (16 MB + 1 byte: 128 MB; 24 MB: 256 MB): the load of such a row lifts DuckDB's memory limit
# by this many bytes per byte of the longest line, on top of the limit in force.
MEMORY_PER_OBJECT_BYTE = 16


@contextmanager
def _memory_for_objects(cursor: duckdb.DuckDBPyConnection, object_bytes: int) -> Iterator[None]:
    """While inside, room in DuckDB's memory limit for read_json objects this long."""
    [(limit,)] = cursor.execute("SELECT current_setting('memory_limit')").fetchall()
    if object_bytes <= DEFAULT_MAX_OBJECT_BYTES or _setting_bytes(limit) == float("inf"):
        yield
        return
    lifted = int(_setting_bytes(limit)) + MEMORY_PER_OBJECT_BYTE * object_bytes
    cursor.execute(f"SET memory_limit = '{lifted}B'")
    try:
        yield
    finally:
        cursor.execute(f"SET memory_limit = '{limit}'")


def _setting_bytes(text: str) -> float:
    """DuckDB shows a memory setting as e.g. `122.0 MiB`; anything else counts as no limit."""
    size = size_bytes(text)
    return float("inf") if size is None else float(size)


def _spool_value(value: Any) -> Any:
    # Decimals travel as text so DuckDB casts them to DECIMAL exactly, never via a double.
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class DesiredStateWriter:
    """Spool rows per collection, then replace the `fincome` tables with them at once.

    Use as a context manager: `add` rows, then `commit` (nothing is written to DuckDB until
    then, and the spool files are removed on exit whatever happens). The spool goes under
    `spool_dir` (e.g. the data dir: it can be hundreds of MB) or the system temp folder.
    """

    def __init__(self, schema: str = DEFAULT_SCHEMA, spool_dir: Path | None = None) -> None:
        self.schema = schema
        self.counts = {collection.name: 0 for collection in PUSH_ORDER}
        self._longest = {collection.name: 0 for collection in PUSH_ORDER}
        self._folder = tempfile.TemporaryDirectory(prefix="transform-spool-", dir=spool_dir)
        self._files: dict[str, IO[bytes]] = {}
        self.skipped: list[tuple[str, str, str]] = []  # collection, record id, reason

    def __enter__(self) -> DesiredStateWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._close_files()
        self._folder.cleanup()

    def add(self, collection: str, row: Mapping[str, Any]) -> None:
        spool = self._files.get(collection)
        if spool is None:
            spool = self._files[collection] = self._path(collection).open("wb")
        line = desired_row(COLLECTIONS[collection], row)
        written = spool.write(
            orjson.dumps(line, default=_spool_value, option=orjson.OPT_APPEND_NEWLINE)
        )
        self.counts[collection] += 1
        self._longest[collection] = max(self._longest[collection], written)

    def commit(self, db: duckdb.DuckDBPyConnection) -> None:
        """Replace every `fincome` table with the spooled rows, in one transaction."""
        self._close_files()
        cursor = db.cursor()
        try:
            with _memory_for_objects(cursor, self._object_bytes()):
                self._replace_tables(cursor)
        finally:
            cursor.close()

    def _object_bytes(self) -> int:
        return max(DEFAULT_MAX_OBJECT_BYTES, *self._longest.values())

    def _replace_tables(self, cursor: duckdb.DuckDBPyConnection) -> None:
        cursor.execute("BEGIN TRANSACTION")
        try:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            for collection in PUSH_ORDER:
                self._replace_table(cursor, collection)
            self._replace_skipped(cursor)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise

    def _replace_table(self, cursor: duckdb.DuckDBPyConnection, collection: Collection) -> None:
        table = f"{self.schema}.{collection.name}"
        columns = column_types(collection)
        definition = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
        cursor.execute(f"CREATE OR REPLACE TABLE {table} ({definition})")
        if not self.counts[collection.name]:
            return
        names = ", ".join(columns)
        cursor.execute(
            f"INSERT INTO {table} SELECT {names} FROM read_json(?, "
            "format = 'newline_delimited', columns = ?, maximum_object_size = ?)",
            [str(self._path(collection.name)), columns, self._object_bytes()],
        )

    def _replace_skipped(self, cursor: duckdb.DuckDBPyConnection) -> None:
        table = f"{self.schema}.{SKIPPED_TABLE}"
        cursor.execute(
            f"CREATE OR REPLACE TABLE {table} "
            "(collection VARCHAR, record_id VARCHAR, reason VARCHAR)"
        )
        if self.skipped:
            cursor.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", self.skipped)

    def _path(self, collection: str) -> Path:
        return Path(self._folder.name) / f"{collection}.ndjson"

    def _close_files(self) -> None:
        for spool in self._files.values():
            spool.close()
