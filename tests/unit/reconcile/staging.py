"""Stage API-shaped Metronome invoices in an in-memory DuckDB, typed as the extract types them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import duckdb
import orjson

from destinations.fincome.ledger import LedgerStore, Reject

TIMESTAMPS = frozenset({"start_timestamp", "end_timestamp", "issued_at", "created_at"})
PLAIN = frozenset(
    {"id", "customer_id", "type", "status", "plan_id", "plan_name", "billable_status"}
)


def _sql_type(column: str) -> str:
    if column in TIMESTAMPS:
        return "TIMESTAMPTZ"
    if column == "total":
        return "DECIMAL(38, 9)"
    return "VARCHAR" if column in PLAIN else "JSON"


def _value(column: str, value: Any) -> Any:
    if value is None or column in TIMESTAMPS or column in PLAIN:
        return value
    if column == "total":
        return Decimal(str(value))
    return orjson.dumps(value, default=str).decode()


def stage(
    invoices: Sequence[dict[str, Any]],
    credit_types: Sequence[dict[str, Any]] = (),
    rejects: Sequence[Reject] = (),
) -> duckdb.DuckDBPyConnection:
    """A database holding `metronome_raw.invoices` / `credit_types` and open rejects."""
    db = duckdb.connect()
    db.execute("CREATE SCHEMA metronome_raw")
    columns = sorted({column for invoice in invoices for column in invoice} | {"id", "total"})
    definitions = ", ".join(f'"{c}" {_sql_type(c)}' for c in columns)
    db.execute(f"CREATE TABLE metronome_raw.invoices ({definitions}, _dlt_id VARCHAR)")
    placeholders = ", ".join("?" for _ in columns)
    for invoice in invoices:
        values = [_value(c, invoice.get(c)) for c in columns]
        db.execute(f"INSERT INTO metronome_raw.invoices VALUES ({placeholders}, 'x')", values)
    db.execute(
        "CREATE TABLE metronome_raw.credit_types (id VARCHAR, name VARCHAR, is_currency BOOL)"
    )
    for credit_type in credit_types:
        db.execute(
            "INSERT INTO metronome_raw.credit_types VALUES (?, ?, ?)",
            [credit_type["id"], credit_type["name"], credit_type.get("is_currency")],
        )
    if rejects:
        LedgerStore(db).add_rejects(rejects)
    return db
