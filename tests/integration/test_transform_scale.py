"""The transform at scale: a generated account staged in DuckDB, mapped by the runner.

The Metronome emulator's generator builds the account; `stage_account` writes it into
`metronome_raw` the way the dlt extract does (nested objects as JSON with Decimals as
strings, top-level money as DECIMAL(38,9), timestamps as TIMESTAMPTZ), so the run goes
through the real staging reader. The test runs a small account; for the full figures:

    .venv/bin/python -m tests.integration.test_transform_scale 2000 24
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import TransformResult, run_transform
from sandbox.metronome.contract_wire import contract_to_api
from sandbox.metronome.generator import Account, AccountSettings, generate_account

NOW = datetime(2026, 6, 15, tzinfo=UTC)
TIMESTAMPS = {
    "created_at",
    "updated_at",
    "archived_at",
    "starting_on",
    "ending_before",
    "start_timestamp",
    "end_timestamp",
    "issued_at",
}
MONEY = {"total", "subtotal"}


def stage_account(db: duckdb.DuckDBPyConnection, account: Account, folder: Path) -> None:
    """Write `account` into `metronome_raw` with the column types the dlt extract gives."""
    plans = list(account.catalog.plans.values())
    tables: dict[str, list[dict[str, Any]]] = {
        "customers": [record.detail for record in account.customers],
        "customer_plans": [
            {**subscription.to_api(), "customer_id": record.detail["id"]}
            for record in account.customers
            for subscription in record.subscriptions
        ],
        "plans": [plan.detail() for plan in plans],
        "plan_charges": [
            {**c.to_api(), "plan_id": plan.id} for plan in plans for c in plan.charges
        ],
        "credit_types": [unit.to_api() for unit in account.catalog.credit_types],
        "invoices": account.invoices,
        "contracts": [
            contract_to_api(contract, account.settings.now)
            for record in account.customers
            for contract in record.contracts
        ],
    }
    db.execute("CREATE SCHEMA IF NOT EXISTS metronome_raw")
    for name, rows in tables.items():
        if rows:  # as in dlt, nothing extracted makes no table (the reader handles that)
            _stage_table(db, name, rows, folder / f"{name}.ndjson")


def _stage_table(
    db: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], path: Path
) -> None:
    columns = _column_types(rows)
    with path.open("wb") as spool:
        for row in rows:
            spool.write(orjson.dumps(row, default=_as_text, option=orjson.OPT_APPEND_NEWLINE))
    db.execute(
        f"CREATE OR REPLACE TABLE metronome_raw.{name} AS SELECT * FROM read_json(?, "
        "format = 'newline_delimited', columns = ?)",
        [str(path), columns],
    )


def _column_types(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for row in rows:
        for key, value in row.items():
            if key not in columns and value is not None:
                columns[key] = _sql_type(key, value)
    return columns


def _sql_type(key: str, value: Any) -> str:
    if isinstance(value, dict | list):
        return "JSON"
    if key in TIMESTAMPS:
        return "TIMESTAMPTZ"
    if key in MONEY:
        return "DECIMAL(38,9)"
    if isinstance(value, bool):
        return "BOOLEAN"
    return "BIGINT" if isinstance(value, int) else "VARCHAR"


def _as_text(value: Any) -> Any:
    if isinstance(value, Decimal):  # dlt writes Decimals nested in JSON as strings
        return str(value)
    raise TypeError(type(value).__name__)


def measure(customers: int, months: int, folder: Path) -> tuple[TransformResult, float, int]:
    """Stage a generated account, run the transform; its result, seconds and invoices staged."""
    account = generate_account(
        AccountSettings(
            seed=11, customers=customers, months=months, now=NOW, contract_customers=customers // 3
        )
    )
    db = duckdb.connect(str(folder / "billing_sync.duckdb"))
    stage_account(db, account, folder)
    invoices = len(account.invoices)
    del account
    started = time.perf_counter()
    result = run_transform(db, MappingOptions(), NOW, spool_dir=folder)
    return result, time.perf_counter() - started, invoices


@pytest.mark.slow
def test_a_generated_account_staged_like_dlt_maps_whole(tmp_path: Path) -> None:
    # Speed is measured by the benchmarks (benchmarks/report.md), never asserted here: the
    # machines are noisy. This checks that a two-year account goes through the real reader.
    result, _, invoices = measure(customers=150, months=24, folder=tmp_path)
    assert result.counts["customers"] == 150 + 50
    sent = result.counts["invoices"] + result.counts["credit_notes"]
    assert sent + len(result.rejects) + result.skipped >= invoices * 0.8  # drafts are not sent


if __name__ == "__main__":
    size = [int(arg) for arg in sys.argv[1:3]] or [2000, 24]
    with tempfile.TemporaryDirectory() as scratch:
        outcome, elapsed, staged = measure(size[0], size[1], Path(scratch))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{size[0]} customers x {size[1]} months: {staged} invoices staged")
    print(f"transform (read staging, map, hash, write): {elapsed:.1f} s; peak RSS {peak_mb:.0f} MB")
    print(f"rows: {outcome.counts}; rejects: {len(outcome.rejects)}")
