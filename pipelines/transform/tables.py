"""The `fincome` schema: one table per collection, written in one transaction.

Columns are decided by `destinations.fincome.desired` (the seed's create fields, typed, plus
`row_hash` and the ready `body`). Rows are first spooled to one NDJSON file per table, then
each file is loaded with a single `read_json`: one statement per table however many rows,
where `executemany` would take a round trip per row.

Beside the collections, the transform keeps, per staged customer it mapped (`mapped_from`),
what a later run needs to keep that customer's output without mapping it again:
- `mapped_rows (collection, id, mapped_from)`: which desired rows each customer produced
  (the collection tables keep exactly the seed's shape; shared rows have no owner);
- `skipped_records (collection, record_id, reason, mapped_from)`: what it left out on purpose
  as not revenue (bundle.py); `billing-sync status` counts it by reason;
- `transform_rejects (collection, record_id, reason, payload, mapped_from)`: its rejects;
- `mapped_customers`: its input fingerprint, the span of `as_of` its rows hold for and the
  facts the shared rows are built from (`pipelines.transform.incremental`).

`commit` either replaces every table (`owners=None`: a whole run) or replaces the rows of
the given owners and the shared rows, keeping every other customer's rows as they are.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import duckdb
import orjson

from destinations.fincome.desired import column_types, desired_row
from destinations.fincome.schema import COLLECTIONS, PUSH_ORDER
from pipelines.sizes import size_bytes

DEFAULT_SCHEMA = "fincome"
OWNER = "mapped_from"  # the staged customer id a row was mapped from; null: shared
OWNERS_TABLE = "mapped_rows"
SKIPPED_TABLE = "skipped_records"
REJECTS_TABLE = "transform_rejects"
CUSTOMERS_TABLE = "mapped_customers"
OWNERS_COLUMNS = {"collection": "VARCHAR", "id": "VARCHAR", OWNER: "VARCHAR"}
# the transform's own tables, each with `mapped_from` last
OWN_TABLES: dict[str, dict[str, str]] = {
    SKIPPED_TABLE: {"collection": "VARCHAR", "record_id": "VARCHAR", "reason": "VARCHAR"},
    REJECTS_TABLE: {
        "collection": "VARCHAR",
        "record_id": "VARCHAR",
        "reason": "VARCHAR",
        "payload": "JSON",
    },
    CUSTOMERS_TABLE: {
        "fingerprint": "VARCHAR",
        "valid_from": "TIMESTAMP WITH TIME ZONE",
        "valid_to": "TIMESTAMP WITH TIME ZONE",
        "facts": "JSON",
    },
}
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
    """Spool rows per table, then write them to the `fincome` schema at once.

    Use as a context manager: `add` desired rows (and `add_own` rows of the transform's own
    tables), then `commit` (nothing is written to DuckDB until then, and the spool files are
    removed on exit whatever happens). The spool goes under `spool_dir` (e.g. the data dir:
    it can be hundreds of MB) or the system temp folder.
    """

    def __init__(self, schema: str = DEFAULT_SCHEMA, spool_dir: Path | None = None) -> None:
        self.schema = schema
        self.counts = {collection.name: 0 for collection in PUSH_ORDER}
        self.skipped = 0
        self._lines = dict.fromkeys([*self.counts, *OWN_TABLES], 0)
        self._longest = dict.fromkeys(self._lines, 0)
        self._folder = tempfile.TemporaryDirectory(prefix="transform-spool-", dir=spool_dir)
        self._files: dict[str, IO[bytes]] = {}

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

    def add(self, collection: str, row: Mapping[str, Any], owner: str | None = None) -> None:
        """A desired row of `collection`, mapped from customer `owner` (None: shared)."""
        line = desired_row(COLLECTIONS[collection], row)
        self._spool(collection, {**line, OWNER: owner})
        self.counts[collection] += 1

    def add_own(self, table: str, row: Mapping[str, Any], owner: str | None) -> None:
        """A row of one of the transform's own tables (`OWN_TABLES`)."""
        self._spool(table, {**row, OWNER: owner})
        if table == SKIPPED_TABLE:
            self.skipped += 1

    def commit(self, db: duckdb.DuckDBPyConnection, owners: Collection[str] | None = None) -> None:
        """Write the spooled rows in one transaction: replacing every table (`owners` None),
        or only the rows of `owners` and the shared rows (the others stay as they are)."""
        self._close_files()
        cursor = db.cursor()
        try:
            with _memory_for_objects(cursor, self._object_bytes()):
                self._write(cursor, None if owners is None else list(owners))
        finally:
            cursor.close()

    def _spool(self, table: str, line: Mapping[str, Any]) -> None:
        spool = self._files.get(table)
        if spool is None:
            spool = self._files[table] = self._path(table).open("wb")
        written = spool.write(
            orjson.dumps(line, default=_spool_value, option=orjson.OPT_APPEND_NEWLINE)
        )
        self._lines[table] += 1
        self._longest[table] = max(self._longest[table], written)

    def _write(self, cursor: duckdb.DuckDBPyConnection, owners: list[str] | None) -> None:
        cursor.execute("BEGIN TRANSACTION")
        try:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            self._clear(cursor, OWNERS_TABLE, OWNERS_COLUMNS, owners)
            for collection in PUSH_ORDER:
                self._write_collection(cursor, collection.name, owners)
            for table, columns in OWN_TABLES.items():
                self._clear(cursor, table, {**columns, OWNER: "VARCHAR"}, owners)
                if self._lines[table]:
                    read = [str(self._path(table)), {**columns, OWNER: "VARCHAR"}]
                    self._insert(cursor, table, f"SELECT * FROM {self._reader()}", read)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise

    def _write_collection(
        self, cursor: duckdb.DuckDBPyConnection, name: str, owners: list[str] | None
    ) -> None:
        """The collection's rows, and which customer each was mapped from."""
        columns = column_types(COLLECTIONS[name])
        table = f"{self.schema}.{name}"
        if owners is None:
            _create(cursor, table, columns)
        else:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {self.schema}.{OWNERS_TABLE} "
                f"WHERE collection = ? AND {_REPLACED})",
                [name, owners],
            )
            cursor.execute(
                f"DELETE FROM {self.schema}.{OWNERS_TABLE} WHERE collection = ? AND {_REPLACED}",
                [name, owners],
            )
        if not self._lines[name]:
            return
        spooled = {**columns, OWNER: "VARCHAR"}
        cursor.execute(
            f"CREATE OR REPLACE TEMP TABLE spooled AS SELECT * FROM {self._reader()}",
            [str(self._path(name)), spooled, self._object_bytes()],
        )
        self._insert(cursor, name, f"SELECT {', '.join(columns)} FROM spooled")
        self._insert(cursor, OWNERS_TABLE, f"SELECT '{name}', id, {OWNER} FROM spooled")
        cursor.execute("DROP TABLE spooled")

    def _clear(
        self,
        cursor: duckdb.DuckDBPyConnection,
        table: str,
        columns: dict[str, str],
        owners: list[str] | None,
    ) -> None:
        """A table of rows with owners: created anew, or the replaced owners' rows deleted."""
        if owners is None:
            _create(cursor, f"{self.schema}.{table}", columns)
        elif table != OWNERS_TABLE:  # each collection clears its own part of that one
            cursor.execute(f"DELETE FROM {self.schema}.{table} WHERE {_REPLACED}", [owners])

    def _insert(
        self,
        cursor: duckdb.DuckDBPyConnection,
        table: str,
        select: str,
        read: list[Any] | None = None,
    ) -> None:
        """INSERT the SELECT's rows; `read`: the spool file and columns its `read_json` reads."""
        params = [*read, self._object_bytes()] if read else []
        cursor.execute(f"INSERT INTO {self.schema}.{table} {select}", params)

    def _reader(self) -> str:
        return "read_json(?, format = 'newline_delimited', columns = ?, maximum_object_size = ?)"

    def _object_bytes(self) -> int:
        return max(DEFAULT_MAX_OBJECT_BYTES, *self._longest.values())

    def _path(self, table: str) -> Path:
        return Path(self._folder.name) / f"{table}.ndjson"

    def _close_files(self) -> None:
        for spool in self._files.values():
            spool.close()


# the rows a partial commit replaces: the given owners' and the shared ones (no owner)
_REPLACED = f"({OWNER} IS NULL OR {OWNER} IN (SELECT unnest(?::VARCHAR[])))"


def _create(cursor: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    definition = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    cursor.execute(f"CREATE OR REPLACE TABLE {table} ({definition})")
