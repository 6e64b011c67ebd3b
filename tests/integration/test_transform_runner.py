"""The transform runner: staging in DuckDB to the `fincome` tables, and their hashes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from destinations.fincome.body import body_hash, canonical_body
from destinations.fincome.schema import PUSH_ORDER, collection
from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import run_extract
from pipelines.transform.engine import transform
from pipelines.transform.inputs import StagedCustomer
from pipelines.transform.options import MappingOptions, PricingUnit
from pipelines.transform.runner import run_transform, write_desired_state
from pipelines.transform.tables import DEFAULT_MAX_OBJECT_BYTES, column_types
from sources.metronome import MetronomeSettings
from tests.fixtures.metronome import PINNED_NOW, MetronomeEmulator
from tests.unit.transform.builders import (
    AS_OF,
    catalog,
    customer,
    customer_plan,
    invoice,
    line,
    sub_line,
)

D = Decimal


def _table(db: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    cursor = db.execute(f"SELECT * FROM fincome.{name}")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _sample_items() -> Iterator[Any]:
    odd = invoice(
        "inv-1",
        lines=[line(1234.5, [sub_line("1234.5", quantity="2.5")]), line(100, [], product_id=None)],
        custom_fields={"deep": {"a": [1, D("2.50")]}, "ünï": "©"},
        external_invoice={"billing_provider_type": "stripe", "invoice_id": "in_1"},
    )
    bundle = StagedCustomer(customer(), [customer_plan()], [odd])
    return transform(catalog(), [bundle], MappingOptions(), AS_OF)


def test_tables_have_the_seed_columns_and_hashes_survive_the_round_trip() -> None:
    db = duckdb.connect()
    result = write_desired_state(db, _sample_items())
    assert result.counts["invoice_line_items"] == 2
    for spec in PUSH_ORDER:
        described = db.execute(f"DESCRIBE fincome.{spec.name}").fetchall()
        assert {row[0]: row[1] for row in described} == column_types(spec)
        for row in _table(db, spec.name):
            assert body_hash(canonical_body(collection(spec.name), row)) == row["row_hash"], (
                spec.name
            )
    [line_row] = [r for r in _table(db, "invoice_line_items") if r["id"] == "inv-1:L0.S0"]
    # 1234.5 cents is 12.345 USD: half-even to 12.34, as the 13.345 total rounds to 13.34
    assert line_row["amount_excluding_tax_after_discount"] == D("12.34")


def test_a_run_replaces_the_tables_and_a_failed_run_leaves_them(tmp_path: Path) -> None:
    db = duckdb.connect(str(tmp_path / "billing_sync.duckdb"))
    write_desired_state(db, _sample_items())
    write_desired_state(db, iter([]))
    assert db.execute("SELECT count(*) FROM fincome.invoices").fetchone() == (0,)

    def broken() -> Iterator[Any]:
        yield from _sample_items()
        raise RuntimeError("staging went away")

    spool = tmp_path / "spool"
    spool.mkdir()
    write_desired_state(db, _sample_items(), spool_dir=spool)
    with pytest.raises(RuntimeError, match="staging went away"):
        write_desired_state(db, broken(), spool_dir=spool)
    assert db.execute("SELECT count(*) FROM fincome.invoices").fetchone() == (1,)
    assert list(spool.iterdir()) == []  # spool files are removed whatever happens


def test_a_row_longer_than_duckdb_s_default_object_size_loads_under_the_memory_cap(
    tmp_path: Path,
) -> None:
    # 24 MB: read_json asks for a 256 MB block for it, more than the data dir's cap
    huge = invoice("inv-1", custom_fields={"notes": "x" * (24 * 2**20)})
    items = transform(catalog(), [StagedCustomer(customer(), [], [huge])], MappingOptions(), AS_OF)
    with resolve_data_dir(tmp_path).connect() as db:
        [(cap,)] = db.execute("SELECT current_setting('memory_limit')").fetchall()
        write_desired_state(db, items)
        [(length,)] = db.execute(
            "SELECT length(custom_properties) FROM fincome.invoices"
        ).fetchall()
        [(limit,)] = db.execute("SELECT current_setting('memory_limit')").fetchall()
    assert length > DEFAULT_MAX_OBJECT_BYTES
    assert limit == cap  # the data dir's cap is back after the load


@pytest.fixture
def staged_account(metronome_api: MetronomeEmulator, tmp_path: Path) -> DataDir:
    data_dir = resolve_data_dir(tmp_path / "data")
    settings = MetronomeSettings(
        api_token=metronome_api.token, base_url=metronome_api.url, requests_per_second=0
    )
    run_extract(data_dir, settings)
    return data_dir


def test_the_extracted_emulator_account_maps_whole(
    staged_account: DataDir, metronome_api: MetronomeEmulator
) -> None:
    state = metronome_api.state()
    with duckdb.connect(str(staged_account.duckdb_path)) as db:
        result = run_transform(db, MappingOptions(), PINNED_NOW)
        lines = _table(db, "invoice_line_items")
        invoices = {row["id"]: row for row in _table(db, "invoices")}
        for spec in PUSH_ORDER:
            for row in _table(db, spec.name):
                assert body_hash(canonical_body(collection(spec.name), row)) == row["row_hash"], (
                    spec.name
                )

    custom_unit = {ct["id"] for ct in state["credit_types"] if not ct["is_currency"]}
    staged_invoices = {i["id"]: i for i in state["invoices"]}
    reasons = Counter(reject.reason.split(":")[0] for reject in result.rejects)
    assert set(reasons) <= {
        f"credit type 'Cloud credits' (id {next(iter(custom_unit))}) is a custom pricing unit"
    }
    assert {r.record_id for r in result.rejects} == {
        i["id"]
        for i in state["invoices"]
        if i["credit_type"]["id"] in custom_unit and i["status"] != "DRAFT"
    }
    assert result.counts["customers"] == len(state["customers"])
    assert not [i for i in invoices if staged_invoices[i]["status"] == "DRAFT"]

    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in lines:
        sums[row["invoice_id"]] += row["amount_excluding_tax_after_discount"]
    for invoice_id in invoices:
        raw = staged_invoices[invoice_id]
        factor = D("0.01") if raw["credit_type"]["name"] == "USD (cents)" else D(1)
        assert sums[invoice_id] == (D(str(raw["total"])) * factor).quantize(D("0.01"))


def test_a_mapped_pricing_unit_brings_its_invoices_in(
    staged_account: DataDir, metronome_api: MetronomeEmulator
) -> None:
    [unit] = [ct for ct in metronome_api.state()["credit_types"] if not ct["is_currency"]]
    options = MappingOptions(
        pricing_units={unit["id"]: PricingUnit(currency="USD", factor=D("0.1"))}
    )
    with duckdb.connect(str(staged_account.duckdb_path)) as db:
        result = run_transform(db, options, PINNED_NOW)
    assert result.rejects == []
    assert result.counts["credit_notes"] >= 1
