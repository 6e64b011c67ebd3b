"""The incremental transform: mapping only the customers that changed gives, row for row,
the desired state (and the rejects and skipped records) a transform from scratch gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from destinations.fincome.schema import PUSH_ORDER
from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import run_extract
from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import TransformResult, run_transform
from sources.metronome import MetronomeSettings
from tests.fixtures.metronome import PINNED_ACCOUNT, PINNED_NOW, MetronomeEmulator

DEMO_ACCOUNT = {**PINNED_ACCOUNT, "customers": 300, "contract_customers": 100}
Snapshot = dict[str, Any]


def _extract(metronome_api: MetronomeEmulator, data_dir: DataDir) -> None:
    settings = MetronomeSettings(
        api_token=metronome_api.token, base_url=metronome_api.url, requests_per_second=0
    )
    run_extract(data_dir, settings)


def _snapshot(db: duckdb.DuckDBPyConnection, result: TransformResult) -> Snapshot:
    """Every desired row, skipped record and reject, in an order that does not matter."""
    tables = [spec.name for spec in PUSH_ORDER]
    shot: Snapshot = {
        name: sorted(db.execute(f"SELECT * FROM fincome.{name}").fetchall(), key=repr)
        for name in tables
    }
    shot["skipped"] = sorted(
        db.execute("SELECT collection, record_id, reason FROM fincome.skipped_records").fetchall()
    )
    shot["rejects"] = sorted(
        (r.collection, r.record_id, r.reason, orjson.dumps(r.payload, option=orjson.OPT_SORT_KEYS))
        for r in result.rejects
    )
    shot["counts"] = result.counts
    return shot


def _from_scratch(
    db: duckdb.DuckDBPyConnection, options: MappingOptions, as_of: datetime
) -> Snapshot:
    return _snapshot(db, run_transform(db, options, as_of, full_refresh=True))


def _customers(db: duckdb.DuckDBPyConnection) -> int:
    [(count,)] = db.execute("SELECT count(*) FROM metronome_raw.customers").fetchall()
    return int(count)


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


@pytest.fixture
def staged(metronome_api: MetronomeEmulator, data_dir: DataDir) -> DataDir:
    _extract(metronome_api, data_dir)
    return data_dir


def _changed_upstream_equals_from_scratch(
    metronome_api: MetronomeEmulator, data_dir: DataDir, days: int, void: int
) -> None:
    options = MappingOptions()
    with duckdb.connect(str(data_dir.duckdb_path)) as db:
        first = run_transform(db, options, PINNED_NOW)
        assert first.mapped == _customers(db)
        again = run_transform(db, options, PINNED_NOW)
        assert again.mapped == 0  # nothing changed: nothing mapped
        assert _snapshot(db, again) == _snapshot(db, first)
    metronome_api.advance(days=days, void=void)
    _extract(metronome_api, data_dir)
    later = PINNED_NOW + timedelta(days=days)
    with duckdb.connect(str(data_dir.duckdb_path)) as db:
        incremental = run_transform(db, options, later)
        assert 0 < incremental.mapped < _customers(db)
        assert _snapshot(db, incremental) == _from_scratch(db, options, later)


@pytest.mark.parametrize(("days", "void"), [(0, 2), (3, 0), (35, 3)])
def test_changed_upstream_maps_the_changed_customers_as_a_whole_run_would(
    metronome_api: MetronomeEmulator, data_dir: DataDir, days: int, void: int
) -> None:
    _extract(metronome_api, data_dir)
    _changed_upstream_equals_from_scratch(metronome_api, data_dir, days, void)


def test_the_demo_sized_account_maps_the_changed_customers_as_a_whole_run_would(
    metronome_api: MetronomeEmulator, data_dir: DataDir
) -> None:
    metronome_api.reset(**DEMO_ACCOUNT)
    try:
        _extract(metronome_api, data_dir)
        _changed_upstream_equals_from_scratch(metronome_api, data_dir, days=10, void=5)
    finally:
        metronome_api.reset(**PINNED_ACCOUNT)


@pytest.mark.parametrize("months_back", [1, 3, 6, 12])  # 6 and 12 cross plan ends
def test_time_alone_maps_the_customers_whose_subscriptions_it_changes(
    staged: DataDir, months_back: int
) -> None:
    options = MappingOptions()
    earlier = PINNED_NOW - timedelta(days=30 * months_back)
    with duckdb.connect(str(staged.duckdb_path)) as db:
        then = run_transform(db, options, earlier)
        statuses_then = db.execute("SELECT id, status FROM fincome.subscriptions").fetchall()
        now = run_transform(db, options, PINNED_NOW)
        statuses_now = db.execute("SELECT id, status FROM fincome.subscriptions").fetchall()
        assert _snapshot(db, now) == _from_scratch(db, options, PINNED_NOW)
    assert now.mapped < then.mapped  # the customers time leaves as they are keep their rows
    if sorted(statuses_then) != sorted(statuses_now):
        assert now.mapped > 0  # a status moved with time: its customer was mapped again


def test_a_vanished_customer_loses_its_rows_and_the_others_keep_theirs(staged: DataDir) -> None:
    options = MappingOptions()
    with duckdb.connect(str(staged.duckdb_path)) as db:
        run_transform(db, options, PINNED_NOW)
        [(gone,)] = db.execute(
            "SELECT customer_id FROM metronome_raw.invoices ORDER BY customer_id LIMIT 1"
        ).fetchall()
        for table, key in [("customers", "id"), ("customer_plans", "customer_id")]:
            db.execute(f"DELETE FROM metronome_raw.{table} WHERE {key} = ?", [gone])
        for table in ("invoices", "contracts"):
            db.execute(f"DELETE FROM metronome_raw.{table} WHERE customer_id = ?", [gone])
        incremental = run_transform(db, options, PINNED_NOW)
        assert incremental.mapped == 0
        [(left,)] = db.execute(
            "SELECT count(*) FROM fincome.invoices WHERE customer_id = ?", [gone]
        ).fetchall()
        assert left == 0
        assert _snapshot(db, incremental) == _from_scratch(db, options, PINNED_NOW)


def test_changed_options_or_a_full_refresh_map_every_customer(staged: DataDir) -> None:
    with duckdb.connect(str(staged.duckdb_path)) as db:
        run_transform(db, MappingOptions(), PINNED_NOW)
        positive = MappingOptions(credit_note_sign="positive")
        assert run_transform(db, positive, PINNED_NOW).mapped == _customers(db)
        assert run_transform(db, positive, PINNED_NOW).mapped == 0
        refreshed = run_transform(db, positive, PINNED_NOW, full_refresh=True)
        assert refreshed.mapped == _customers(db)


def test_a_shard_keeps_its_customers_rows_and_leaves_the_shared_ones_empty(
    staged: DataDir,
) -> None:
    with duckdb.connect(str(staged.duckdb_path)) as db:
        first = run_transform(db, MappingOptions(), PINNED_NOW, with_shared=False)
        again = run_transform(db, MappingOptions(), PINNED_NOW, with_shared=False)
        assert again.mapped == 0
        assert _snapshot(db, again) == _snapshot(db, first)
        assert again.counts["customers"] == again.counts["prices"] == 0
        assert again.counts["invoices"] > 0
