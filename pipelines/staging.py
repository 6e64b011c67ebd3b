"""Read `metronome_raw` back as API-shaped dicts: the transform's only view of Metronome.

Every row comes back as the object Metronome sent: JSON columns parsed (numbers inside as
int or Decimal), top-level timestamps as ISO strings ending in `Z`, top-level decimals as
Decimal without dlt's padding zeros, and dlt's `_dlt_*` columns dropped. A table that does
not exist yet (nothing extracted) reads as empty.

Customers are streamed in id order, a chunk of customers at a time, so memory stays flat
however many customers and invoices are staged.

Fingerprints (in SQL) tell a later run what changed without reading rows into Python:
per customer, of everything its bundle holds (`customer_fingerprints`), and of the catalog
(`catalog_fingerprint`). dlt's own columns are left out: a re-extract rewrites them for
records that did not change.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

DATASET = "metronome_raw"
CHUNK_SIZE = 100  # customers per query; bounds the invoices held in memory at once
# a bundle's tables and the column naming its customer
BUNDLE_TABLES = (
    ("customers", "id"),
    ("customer_plans", "customer_id"),
    ("invoices", "customer_id"),
    ("contracts", "customer_id"),
)
CATALOG_TABLES = ("plans", "plan_charges", "credit_types")

Row = dict[str, Any]
StagingDB = duckdb.DuckDBPyConnection | str | os.PathLike[str]


@dataclass(frozen=True)
class Catalog:
    """The account-wide objects, by id."""

    plans: dict[str, Row]
    plan_charges: dict[str, Row]
    credit_types: dict[str, Row]


@dataclass(frozen=True)
class CustomerBundle:
    """One customer (active or archived) with its customer plans, contracts and invoices."""

    customer: Row
    plans: list[Row]  # the customer's plans (`/v1/customers/{id}/plans`), by starting_on
    invoices: list[Row]  # DRAFT, FINALIZED and VOID, by start_timestamp
    contracts: list[Row] = field(default_factory=list)  # `/v2/contracts/list`, by starting_at, id


def read_catalog(db: StagingDB) -> Catalog:
    """Plans, plan charges and credit types, by id; empty when nothing is staged."""
    with _cursor(db) as cursor:
        tables = _Tables(cursor)
        return Catalog(
            plans={row["id"]: row for row in tables.rows("plans", order="id")},
            plan_charges={row["id"]: row for row in tables.rows("plan_charges", order="id")},
            credit_types={row["id"]: row for row in tables.rows("credit_types", order="id")},
        )


def iter_customer_bundles(
    db: StagingDB, customer_ids: Sequence[str] | None = None, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[CustomerBundle]:
    """Every staged customer (or only `customer_ids`), ordered by id, with its plans,
    contracts and invoices (a table not staged yet, such as `contracts` before the first
    extract that reads them, gives empty lists)."""
    with _cursor(db) as cursor:
        tables = _Tables(cursor)
        if not tables.exists("customers"):
            return
        ids = tables.customer_ids(customer_ids)
        for start in range(0, len(ids), chunk_size):
            yield from _bundles(tables, ids[start : start + chunk_size])


def customer_fingerprints(db: StagingDB) -> dict[str, str]:
    """Staged customer id -> md5 of its bundle: its row, customer plans, invoices, contracts.

    Two runs give the same fingerprint exactly when the mapping is handed the same records
    (in whatever order they were staged)."""
    with _cursor(db) as cursor:
        tables = _Tables(cursor)
        if cursor is None or not tables.exists("customers"):
            return {}
        parts, joins = [], []
        for n, (table, key) in enumerate(BUNDLE_TABLES[1:]):
            if tables.exists(table):
                parts.append(f"t{n}.digest")
                joins.append(
                    f"LEFT JOIN ({tables.digests(table, key)}) t{n} ON t{n}.owner = c.owner"
                )
            else:
                parts.append("''")
        query = (
            f"SELECT c.owner, md5(concat_ws('|', c.digest, {', '.join(parts)})) "
            f"FROM ({tables.digests('customers', 'id')}) c {' '.join(joins)}"
        )
        return dict(cursor.execute(query).fetchall())


def catalog_fingerprint(db: StagingDB) -> str:
    """md5 of the staged plans, plan charges and credit types (`read_catalog`'s rows)."""
    with _cursor(db) as cursor:
        tables = _Tables(cursor)
        digests = [
            cursor.execute(
                f"SELECT string_agg(d, ',' ORDER BY d) FROM ({tables.digests(t)})"
            ).fetchall()[0][0]
            if cursor is not None and tables.exists(t)
            else ""
            for t in CATALOG_TABLES
        ]
        return hashlib.md5("|".join(d or "" for d in digests).encode()).hexdigest()


def _bundles(tables: _Tables, ids: list[str]) -> Iterator[CustomerBundle]:
    plans = _grouped(
        tables.rows("customer_plans", where="customer_id", ids=ids, order="starting_on, id")
    )
    invoices = _grouped(
        tables.rows(
            "invoices", where="customer_id", ids=ids, order="start_timestamp NULLS FIRST, id"
        )
    )
    contracts = _grouped(
        tables.rows("contracts", where="customer_id", ids=ids, order="starting_at, id")
    )
    for customer in tables.rows("customers", where="id", ids=ids, order="id"):
        customer_id = customer["id"]
        yield CustomerBundle(
            customer=customer,
            plans=plans.get(customer_id, []),
            invoices=invoices.get(customer_id, []),
            contracts=contracts.get(customer_id, []),
        )


def _grouped(rows: list[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row["customer_id"], []).append(row)
    return groups


@contextmanager
def _cursor(db: StagingDB) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A cursor of its own (the caller's connection may be busy), or None: no file yet."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        with closing(db.cursor()) as cursor:
            yield cursor
    elif not Path(db).exists():
        yield None
    else:
        with closing(duckdb.connect(str(db))) as connection:
            yield connection


class _Tables:
    """Typed reads of the staged tables, with each column's converter from its SQL type."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection | None) -> None:
        self.cursor = cursor
        self.columns: dict[str, list[tuple[str, str]]] = {}
        if cursor is not None:
            for table, column, sql_type in cursor.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND column_name NOT LIKE '\\_dlt\\_%' ESCAPE '\\' "
                "ORDER BY table_name, ordinal_position",
                [DATASET],
            ).fetchall():
                self.columns.setdefault(table, []).append((column, sql_type))

    def exists(self, table: str) -> bool:
        return table in self.columns

    def customer_ids(self, only: Sequence[str] | None) -> list[str]:
        assert self.cursor is not None
        query = f"SELECT id FROM {DATASET}.customers"
        params: list[Any] = []
        if only is not None:
            query += " WHERE id IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(only))
        return [row[0] for row in self.cursor.execute(query + " ORDER BY id", params).fetchall()]

    def digests(self, table: str, key: str | None = None) -> str:
        """SQL: one digest per row of `table` (`d`), or per `key` of its rows in a stable
        order (`owner`, `digest`).

        A row's digest is DuckDB's 64-bit `hash` of its values: 13 times faster than an md5
        of its JSON on L's invoices (0.06 s against 0.75 s), and two different rows share one
        with odds of 2^-64. Should a DuckDB upgrade change the function, every customer is
        mapped again once: it cannot make a changed customer look unchanged."""
        fields = ", ".join(f'"{name}" := "{name}"' for name, _ in self.columns[table])
        rows = f"SELECT *, hash(struct_pack({fields}))::VARCHAR AS d FROM {DATASET}.{table}"
        if key is None:
            return rows
        return (
            f"SELECT {key} AS owner, string_agg(d, ',' ORDER BY d) AS digest FROM ({rows}) "
            "GROUP BY 1"
        )

    def rows(
        self, table: str, *, order: str, where: str | None = None, ids: list[str] | None = None
    ) -> list[Row]:
        if self.cursor is None or table not in self.columns:
            return []
        columns = self.columns[table]
        select = ", ".join(_selected(name, sql_type) for name, sql_type in columns)
        query = f"SELECT {select} FROM {DATASET}.{table}"
        params: list[Any] = []
        if where is not None:
            query += f" WHERE {where} IN (SELECT unnest(?::VARCHAR[]))"
            params.append(ids)
        names = [name for name, _ in columns]
        # only the columns that need it go through Python: text columns come as they are
        converted = [
            (name, convert)
            for name, sql_type in columns
            if (convert := _converter(sql_type)) is not None
        ]
        rows = []
        for values in self.cursor.execute(f"{query} ORDER BY {order}", params).fetchall():
            row = dict(zip(names, values, strict=True))
            for name, convert in converted:
                row[name] = convert(row[name])
            rows.append(row)
        return rows


def _selected(name: str, sql_type: str) -> str:
    # DuckDB hands timestamps to Python as datetimes with a pytz zone, several times slower
    # than an integer: microseconds since the epoch are turned into ISO text here instead
    if sql_type.startswith("TIMESTAMP"):
        return f'epoch_us("{name}") AS "{name}"'
    return f'"{name}"'


def _converter(sql_type: str) -> Callable[[Any], Any] | None:
    if sql_type == "JSON":
        return _from_json
    if sql_type.startswith("TIMESTAMP"):
        return _iso_from_epoch_us
    if sql_type.startswith("DECIMAL"):
        return _plain_decimal
    return None


_EPOCH = datetime(1970, 1, 1)  # naive: isoformat() then has no offset to strip
_JSON = json.JSONDecoder(parse_float=Decimal)  # one decoder: json.loads(...) builds one per call


def _from_json(value: str | None) -> Any:
    return None if value is None else _JSON.decode(value)


def _iso_from_epoch_us(microseconds: int | None) -> str | None:
    """`2024-05-01T00:00:00Z`, with `.ffffff` only when there are microseconds."""
    if microseconds is None:
        return None
    return (_EPOCH + timedelta(microseconds=microseconds)).isoformat() + "Z"


def _plain_decimal(value: Decimal | None) -> Decimal | None:
    """12.500000000 -> 12.5 and 2500.000000000 -> 2500 (never 2.5E+3)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
