"""A re-run stages only what changed upstream (`pipelines/unchanged_records.py`), against the
Metronome emulator on loopback (the pinned 12-customer account).

The re-read itself stays whole (every customer's window, late voids seen); what changes is
that a record read again exactly as it is staged is left out of dlt's normalize and load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import (
    STAGING_FILE_FORMAT,
    TABLES,
    ExtractOptions,
    extract_pipeline,
    run_extract,
)
from pipelines.unchanged_records import FINGERPRINT_COLUMN
from sources.metronome import MetronomeSettings, metronome_source
from tests.fixtures.metronome import MetronomeEmulator


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


@pytest.fixture
def settings(metronome_api: MetronomeEmulator) -> MetronomeSettings:
    return MetronomeSettings(
        api_token=metronome_api.token,
        base_url=metronome_api.url,
        requests_per_second=0,
        max_concurrency=4,
    )


def staged(data_dir: DataDir, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(data_dir.duckdb_path)) as connection:
        return connection.execute(sql).fetchall()


def contents(data_dir: DataDir) -> dict[str, list[tuple[Any, ...]]]:
    """Every staged table as rows, dlt's load and row ids left out."""
    tables = {}
    for table in TABLES:
        columns = [
            name
            for (name,) in staged(
                data_dir,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                f"'metronome_raw' AND table_name = '{table}' ORDER BY column_name",
            )
            if name not in ("_dlt_load_id", "_dlt_id")
        ]
        if columns:
            select = ", ".join(f'"{name}"::VARCHAR' for name in columns)
            tables[table] = staged(
                data_dir, f"SELECT {select} FROM metronome_raw.{table} ORDER BY 1"
            )
    return tables


def invoice_status(data_dir: DataDir, invoice_id: str) -> tuple[str, str]:
    """(status, load id) of one staged invoice."""
    rows = staged(
        data_dir,
        f"SELECT status, _dlt_load_id FROM metronome_raw.invoices WHERE id = '{invoice_id}'",
    )
    return rows[0]


def latest_finalized(api: MetronomeEmulator) -> dict[str, Any]:
    finalized = [i for i in api.state()["invoices"] if i["status"] == "FINALIZED"]
    return max(finalized, key=lambda invoice: invoice["start_timestamp"])


def cursors(data_dir: DataDir) -> dict[str, Any]:
    state = extract_pipeline(data_dir).state["sources"]["metronome"]
    found: dict[str, Any] = state["resources"]["invoices"]["customers"]
    return found


def test_an_unchanged_rerun_reads_every_window_and_stages_nothing(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    first = run_extract(data_dir, settings)
    before, cursors_before = contents(data_dir), cursors(data_dir)

    second = run_extract(data_dir, settings)

    assert second.requests["attempts"] == first.requests["attempts"]  # the re-read stays
    assert set(second.tables.values()) == {0}
    assert second.load_ids == ()  # nothing to load: dlt made no package
    for table in ("customers", "customer_plans", "plans", "plan_charges", "credit_types"):
        assert second.unchanged[table] == first.tables[table], table
    assert 0 < second.unchanged["invoices"] < first.tables["invoices"]  # the window
    assert contents(data_dir) == before
    assert cursors(data_dir) == cursors_before
    assert not second.rejects


def test_every_staged_row_carries_its_fingerprint(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    run_extract(data_dir, settings)

    for table in ("customers", "customer_plans", "plans", "plan_charges", "invoices"):
        missing = staged(
            data_dir,
            f"SELECT count(*) FROM metronome_raw.{table} WHERE {FINGERPRINT_COLUMN} IS NULL",
        )
        assert missing == [(0,)], table


def test_a_void_in_the_window_is_staged_and_nothing_else(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    run_extract(data_dir, settings)
    latest = latest_finalized(metronome_api)
    httpx.post(
        f"{metronome_api.url}/v1/invoices/void",
        json={"id": latest["id"]},
        headers=metronome_api.headers,
    ).raise_for_status()

    second = run_extract(data_dir, settings)

    assert second.tables["invoices"] == 1
    assert invoice_status(data_dir, latest["id"]) == ("VOID", second.load_ids[-1])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda i: {"line_items": [*i["line_items"], {**i["line_items"][0]}]}, id="line"
        ),
        pytest.param(lambda i: {"status": "DRAFT"}, id="status"),
        pytest.param(lambda i: {"total": i["total"] + 1}, id="total"),
        pytest.param(lambda i: {"custom_fields": {"po": "1"}}, id="new-field"),
    ],
)
def test_any_change_to_a_record_in_the_window_stages_it(
    metronome_api: MetronomeEmulator,
    settings: MetronomeSettings,
    data_dir: DataDir,
    change: Any,
) -> None:
    run_extract(data_dir, settings)
    latest = latest_finalized(metronome_api)
    served = metronome_api.invoices(latest["customer_id"])
    invoice = next(i for i in served if i["id"] == latest["id"])
    metronome_api.patch(latest["id"], **change(invoice))

    second = run_extract(data_dir, settings)

    assert second.tables["invoices"] == 1
    assert invoice_status(data_dir, latest["id"])[1] == second.load_ids[-1]


def test_a_record_back_as_it_was_staged_still_resolves_its_reject(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    """Staged, then refused (its staged row stays), then served as first staged: its
    fingerprint equals the staged one, and it is staged anyway, which resolves the reject."""
    run_extract(data_dir, settings)
    latest = latest_finalized(metronome_api)
    metronome_api.patch(latest["id"], status="")  # refused, and keeps its place in the record
    refused = run_extract(data_dir, settings)
    assert [r.record_id for r in refused.rejects] == [latest["id"]]

    metronome_api.patch(latest["id"], status="FINALIZED")
    fixed = run_extract(data_dir, settings)

    assert not fixed.rejects
    assert invoice_status(data_dir, latest["id"]) == ("FINALIZED", fixed.load_ids[-1])
    still_open = staged(
        data_dir, "SELECT record_id FROM fincome_sync.rejects WHERE resolved_at IS NULL"
    )
    assert still_open == []


def test_a_full_refresh_stages_everything_again(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    first = run_extract(data_dir, settings)

    again = run_extract(data_dir, settings, ExtractOptions(full_refresh=True))

    assert again.tables == first.tables


def test_a_data_dir_staged_before_fingerprints_stages_each_window_once_more(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    """Staged as the extract did before fingerprints (no such column): the next re-run
    stages what it reads, with fingerprints, and the one after leaves it out."""
    extract_pipeline(data_dir).run(
        metronome_source(settings.resolve()), loader_file_format=STAGING_FILE_FORMAT
    )
    staged_first = staged(data_dir, "SELECT count(*) FROM metronome_raw.invoices")[0][0]

    second = run_extract(data_dir, settings)
    third = run_extract(data_dir, settings)

    assert 0 < second.tables["invoices"] < staged_first  # the window
    assert third.tables["invoices"] == 0


def test_a_customer_asked_for_and_unchanged_is_not_unknown(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    """Unknown means never listed by Metronome, not "not staged this run"."""
    run_extract(data_dir, settings)
    known = metronome_api.customers()[0]["id"]

    again = run_extract(data_dir, settings, ExtractOptions(customer_ids=(known, "nobody")))

    assert again.unchanged["customers"] == 1
    assert again.unknown_customers == ("nobody",)
