"""`run_extract` against the Metronome emulator on loopback (the pinned 12-customer account)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import httpx
import pytest

from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import TABLES, ExtractOptions, extract_pipeline, run_extract
from sources.metronome import MetronomeSettings
from tests.fixtures.metronome import MetronomeEmulator

INVOICES_ROUTE = "GET /v1/customers/{id}/invoices"


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


def staged_invoices(data_dir: DataDir) -> dict[str, str]:
    rows = staged(data_dir, "SELECT id, status FROM metronome_raw.invoices")
    return dict(rows)  # type: ignore[arg-type]


def cursors(data_dir: DataDir) -> dict[str, Any]:
    state = extract_pipeline(data_dir).state["sources"]["metronome"]
    found: dict[str, Any] = state["resources"].get("invoices", {}).get("customers", {})
    return found


def invoice_queries(api: MetronomeEmulator) -> list[dict[str, list[str]]]:
    return [
        parse_qs(entry["query"])
        for entry in api.requests()["requests"]
        if f"{entry['method']} {entry['route']}" == INVOICES_ROUTE
    ]


def test_every_customer_and_every_invoice_is_staged_once(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    result = run_extract(data_dir, settings)

    assert result.requests["attempts"] == metronome_api.requests()["total"]
    state = metronome_api.state()
    customer_ids = sorted(customer["id"] for customer in state["customers"])
    assert sorted(row[0] for row in staged(data_dir, "SELECT id FROM metronome_raw.customers")) == (
        customer_ids
    )
    assert staged(
        data_dir, "SELECT count(*) FROM metronome_raw.customers WHERE archived_at IS NOT NULL"
    ) == [(2,)]
    assert staged_invoices(data_dir) == metronome_api.served_invoices()
    assert "DRAFT" in staged_invoices(data_dir).values()
    assert staged(data_dir, "SELECT count(*) - count(DISTINCT id) FROM metronome_raw.invoices") == [
        (0,)
    ]
    assert result.tables["invoices"] == len(staged_invoices(data_dir))
    assert result.tables["customers"] == len(customer_ids)
    assert result.tables["customer_plans"] == sum(len(p) for p in state["customer_plans"].values())
    assert result.tables["plans"] == len(state["plans"])
    assert result.tables["plan_charges"] == sum(len(p["charges"]) for p in state["plans"])
    assert result.tables["credit_types"] == len(state["credit_types"])
    assert result.rejects == ()


def test_load_files_of_a_few_rows_each_stage_everything_once(
    metronome_api: MetronomeEmulator,
    settings: MetronomeSettings,
    data_dir: DataDir,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # .dlt/config.toml caps the extract's files at 2,000 rows; 3 makes this account need many
    monkeypatch.setenv("METRONOME_EXTRACT__NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS", "3")
    result = run_extract(data_dir, settings)

    package = extract_pipeline(data_dir).get_load_package_info(result.load_ids[0])
    jobs = package.jobs["completed_jobs"]
    files = Counter(job.job_file_info.table_name for job in jobs)
    assert files["invoices"] >= len(metronome_api.state()["invoices"]) // 3
    staged_from = {
        (job.job_file_info.table_name, job.job_file_info.file_format)
        for job in jobs
        if job.job_file_info.table_name in TABLES and job.job_file_info.file_format != "sql"
    }  # "sql": dlt's merge of each table's staged rows
    # not parsed from SQL (the pinned account has no contracts: no file for them)
    assert staged_from == {(table, "parquet") for table in TABLES if result.tables[table]}
    assert staged_invoices(data_dir) == metronome_api.served_invoices()
    assert staged(data_dir, "SELECT count(*) - count(DISTINCT id) FROM metronome_raw.invoices") == [
        (0,)
    ]


def test_money_is_decimal_and_nested_objects_stay_whole(
    settings: MetronomeSettings, data_dir: DataDir
) -> None:
    result = run_extract(data_dir, settings)
    types = dict(
        staged(
            data_dir,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'metronome_raw' AND table_name = 'invoices'",
        )
    )
    assert types["total"] == types["subtotal"] == "DECIMAL(38,9)"
    assert types["start_timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["line_items"] == types["credit_type"] == "JSON"
    assert not [name for name in types if "__" in name]  # no flattened or variant columns
    tables = staged(
        data_dir,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'metronome_raw' "
        "AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' ORDER BY 1",
    )
    assert [t[0] for t in tables] == sorted(t for t in TABLES if result.tables[t])


def test_amounts_with_a_doubles_noise_stage_rounded_to_the_columns_nine_places(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    # Parquet refuses to drop digits: one such value used to fail the whole load
    customer = metronome_api.customers()[0]["id"]
    good = metronome_api.invoices(customer)[0]
    noise = Decimal("0.30000000000000004")
    lines = [{**good["line_items"][0], "total": noise}, *good["line_items"][1:]]
    noisy = metronome_api.inject(
        {**good, "id": "noisy", "total": noise, "rate": noise, "line_items": lines}, customer
    )

    result = run_extract(data_dir, settings)

    assert not result.rejects
    row = staged(
        data_dir,
        "SELECT total::VARCHAR, rate::VARCHAR, line_items->>'$[0].total' "
        f"FROM metronome_raw.invoices WHERE id = '{noisy}'",
    )
    assert row == [("0.300000000", "0.300000000", str(noise))]  # nested JSON stays exact
    assert staged_invoices(data_dir) == metronome_api.served_invoices()


def test_pages_of_one_and_faults_mid_walk_still_stage_everything(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    metronome_api.set_faults(
        rules=[
            {
                "kind": "throttle",
                "status": 429,
                "path_contains": "/invoices",
                "retry_after": 0.05,
                "skip": 5,
            },
            {"kind": "error", "status": 500, "path_contains": "/invoices", "skip": 9},
            {"kind": "error", "status": 503, "path_contains": "/v1/credit-types/list"},
        ]
    )
    one_per_page = dataclasses.replace(settings, page_size=1)

    result = run_extract(data_dir, one_per_page)
    queries = len(invoice_queries(metronome_api))

    listed = metronome_api.served_invoices()
    assert staged_invoices(data_dir) == listed
    assert result.requests["by_status"]["429"] == 1
    assert result.requests["by_status"]["500"] == 1
    assert result.requests["by_status"]["503"] == 1
    assert result.requests["retries"] == 3
    per_customer = Counter(
        i["customer_id"] for i in metronome_api.state()["invoices"] if i["id"] in listed
    )
    pages = sum(max(1, per_customer[c["id"]]) for c in metronome_api.state()["customers"])
    assert queries == pages + 2  # one per invoice, plus 2 retries


def test_a_void_after_the_first_extract_is_seen_on_the_next_run(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    run_extract(data_dir, settings)
    finalized = [
        invoice
        for invoice in metronome_api.state()["invoices"]
        if invoice["status"] == "FINALIZED" and invoice["type"] == "PLAN_ARREARS"
    ]
    latest = max(finalized, key=lambda invoice: invoice["start_timestamp"])
    response = httpx.post(
        f"{metronome_api.url}/v1/invoices/void",
        json={"id": latest["id"]},
        headers=metronome_api.headers,
    )
    response.raise_for_status()

    second = run_extract(data_dir, settings)

    assert staged_invoices(data_dir)[latest["id"]] == "VOID"
    assert staged_invoices(data_dir) == metronome_api.served_invoices()
    assert second.tables["invoices"] < len(finalized)  # a window, not the whole history again


def test_drafts_are_read_again_until_they_finalize(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    run_extract(data_dir, settings)
    drafts = [i for i, status in staged_invoices(data_dir).items() if status == "DRAFT"]
    report = metronome_api.advance(days=31)
    assert set(report["finalized"]) & set(drafts)

    run_extract(data_dir, settings)

    assert staged_invoices(data_dir) == metronome_api.served_invoices()
    assert all(staged_invoices(data_dir)[i] == "FINALIZED" for i in report["finalized"])
    new_customer_windows = [q for q in invoice_queries(metronome_api) if "starting_on" in q]
    assert new_customer_windows  # the second run read windows, not full histories


def test_backfill_reads_its_window_and_leaves_the_cursors_alone(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    run_extract(data_dir, settings)
    before = cursors(data_dir)
    assert len(before) == len(metronome_api.state()["customers"])
    seen = len(invoice_queries(metronome_api))

    options = ExtractOptions(
        backfill_start=date.fromisoformat("2026-02-01"),
        backfill_end=date.fromisoformat("2026-04-01"),
    )
    result = run_extract(data_dir, settings, options)

    assert cursors(data_dir) == before
    windows = invoice_queries(metronome_api)[seen:]
    assert windows
    assert all(q["starting_on"] == ["2026-02-01T00:00:00Z"] for q in windows)
    assert all(q["ending_before"] == ["2026-04-01T00:00:00Z"] for q in windows)
    in_window = [
        i
        for i in metronome_api.state()["invoices"]
        if i["start_timestamp"] >= "2026-02-01" and i["end_timestamp"] <= "2026-04-01T00:00:00Z"
    ]
    # read again as they were staged by the first run: none staged again
    assert result.unchanged["invoices"] == len(in_window) > 0
    assert result.tables["invoices"] == 0


def test_a_first_backfill_writes_no_cursor(settings: MetronomeSettings, data_dir: DataDir) -> None:
    options = ExtractOptions(
        backfill_start=date.fromisoformat("2026-03-01"),
        backfill_end=date.fromisoformat("2026-05-01"),
    )
    run_extract(data_dir, settings, options)
    assert cursors(data_dir) == {}


def test_full_refresh_reads_every_period_again(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    run_extract(data_dir, settings)
    incremental = run_extract(data_dir, settings)
    seen = len(invoice_queries(metronome_api))

    full = run_extract(data_dir, settings, ExtractOptions(full_refresh=True))

    assert incremental.tables["invoices"] < full.tables["invoices"]
    assert full.tables["invoices"] == len(metronome_api.served_invoices())
    assert not [q for q in invoice_queries(metronome_api)[seen:] if "starting_on" in q]
    assert len(cursors(data_dir)) == len(metronome_api.state()["customers"])


def test_customer_filter_reads_only_those_customers(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    active = metronome_api.customers()[0]["id"]
    archived = metronome_api.customers(only_archived=True)[0]["id"]

    result = run_extract(data_dir, settings, ExtractOptions(customer_ids=(active, archived)))

    assert sorted(
        r[0] for r in staged(data_dir, "SELECT id FROM metronome_raw.customers")
    ) == sorted([active, archived])
    expected = {
        i["id"] for i in metronome_api.state()["invoices"] if i["customer_id"] in (active, archived)
    }
    assert set(staged_invoices(data_dir)) == expected
    assert result.tables["invoices"] == len(expected)
    assert set(cursors(data_dir)) == {active, archived}


def test_a_malformed_invoice_is_set_aside_and_everything_else_lands(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    customer = metronome_api.customers()[0]["id"]
    good = metronome_api.invoices(customer)[0]
    no_status = metronome_api.inject({**good, "id": "broken-status", "status": None}, customer)
    nan_total = metronome_api.inject(
        b'{"id": "broken-nan", "customer_id": "%s", "status": "FINALIZED", "total": NaN, '
        b'"credit_type": {"id": "x", "name": "EUR"}, "line_items": []}' % customer.encode(),
        customer,
    )

    result = run_extract(data_dir, settings)

    reasons = {r.record_id: r.reason for r in result.rejects}
    assert reasons == {
        no_status: "missing status",
        nan_total: "total is NaN, expected a finite number",
    }
    rows = staged(
        data_dir,
        "SELECT record_id, stage, collection, reason, payload->>'id' FROM fincome_sync.rejects "
        "WHERE resolved_at IS NULL ORDER BY 1",
    )
    assert rows == [
        ("broken-nan", "extract", "invoices", reasons["broken-nan"], "broken-nan"),
        ("broken-status", "extract", "invoices", "missing status", "broken-status"),
    ]
    expected = {
        k: v for k, v in metronome_api.served_invoices().items() if not k.startswith("broken")
    }
    assert staged_invoices(data_dir) == expected
    assert customer not in cursors(data_dir)  # read again next run, so a fix lands

    metronome_api.patch(no_status, status="FINALIZED")
    second = run_extract(data_dir, settings)

    assert [r.record_id for r in second.rejects] == [nan_total]
    assert staged_invoices(data_dir)[no_status] == "FINALIZED"
    still_open = staged(
        data_dir, "SELECT record_id FROM fincome_sync.rejects WHERE resolved_at IS NULL"
    )
    assert still_open == [(nan_total,)]


def test_a_package_left_by_an_interrupted_run_is_loaded_first(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    from sources.metronome import metronome_source

    interrupted = extract_pipeline(data_dir)
    interrupted.extract(metronome_source(settings.resolve(), customer_ids=["nobody"]))
    assert interrupted.has_pending_data  # killed after extract: never normalized nor loaded

    result = run_extract(data_dir, settings)

    assert result.resumed_packages == 1
    assert not extract_pipeline(data_dir).has_pending_data
    assert staged_invoices(data_dir) == metronome_api.served_invoices()


def test_a_package_left_before_dlt_saved_its_schema_is_loaded_with_the_run(
    metronome_api: MetronomeEmulator, settings: MetronomeSettings, data_dir: DataDir
) -> None:
    """A kill between dlt committing the package and saving the pipeline's schema (found by
    the kill test): dlt's load then has no schema to load with and returns nothing."""
    from sources.metronome import metronome_source

    interrupted = extract_pipeline(data_dir)
    interrupted.extract(metronome_source(settings.resolve(), customer_ids=["nobody"]))
    working = data_dir.dlt_dir / interrupted.pipeline_name
    shutil.rmtree(working / "schemas")
    state = json.loads((working / "state.json").read_text())
    state.update(default_schema_name=None, schema_names=[])
    (working / "state.json").write_text(json.dumps(state))

    result = run_extract(data_dir, settings)

    assert result.resumed_packages == 1
    assert len(result.load_ids) == 2  # the pending package, then this run's
    assert not extract_pipeline(data_dir).has_pending_data
    assert staged_invoices(data_dir) == metronome_api.served_invoices()


def test_a_temp_file_dlt_left_when_killed_mid_save_does_not_stop_the_next_run(
    data_dir: DataDir,
) -> None:
    """dlt saves by writing `<16 hex digits>` and renaming it; a kill in between (found by
    the kill test, in the push) left one in `schemas`, which dlt then took for a schema: the
    next run's abort of the killed package failed on `<hex>.schema.json`. Both pipelines are
    opened the same way, through `DataDir.discard_interrupted_writes`."""
    first = extract_pipeline(data_dir)
    first.extract([{"id": "a"}], table_name="left_by_a_killed_run")
    first.normalize()
    first.load()
    schemas = data_dir.dlt_dir / first.pipeline_name / "schemas"
    left = schemas / "2a3c989983d55bbb"
    left.write_text('{"name": "half-written')
    first.extract([{"id": "b"}], table_name="left_by_a_killed_run")  # pending when killed

    reopened = extract_pipeline(data_dir)
    reopened.abort_packages()

    assert not left.exists()
    assert not reopened.has_pending_data
    assert reopened.schema_names == [first.default_schema_name]
    assert sorted(path.name for path in schemas.iterdir()) == [
        f"{first.default_schema_name}.schema.json"
    ]
