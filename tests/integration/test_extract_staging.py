"""The staging reader gives back what Metronome sent, customer by customer, in id order."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import run_extract
from pipelines.staging import Catalog, iter_customer_bundles, read_catalog
from sources.metronome import MetronomeSettings
from tests.fixtures.metronome import MetronomeEmulator


@pytest.fixture
def extracted(metronome_api: MetronomeEmulator, tmp_path: Path) -> DataDir:
    data_dir = resolve_data_dir(tmp_path / "data")
    settings = MetronomeSettings(
        api_token=metronome_api.token, base_url=metronome_api.url, requests_per_second=0
    )
    run_extract(data_dir, settings)
    return data_dir


def comparable(value: Any) -> Any:
    """Equal when the API object and the staged one mean the same: numbers as Decimal
    (dlt writes Decimals inside JSON as strings), absent keys as nulls."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return Decimal(value).normalize()
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except InvalidOperation:
            return value
    return value


def test_bundles_are_the_api_objects_in_customer_order(
    metronome_api: MetronomeEmulator, extracted: DataDir
) -> None:
    state = metronome_api.state()
    api_invoices: dict[str, list[dict[str, Any]]] = {}
    for customer in state["customers"]:  # as listed: no historical commit invoices
        api_invoices[customer["id"]] = metronome_api.all_pages(
            f"/v1/customers/{customer['id']}/invoices", limit=100
        )
    api_contracts: dict[str, list[dict[str, Any]]] = {}
    for contract in state.get("contracts", []):
        api_contracts.setdefault(contract["customer_id"], []).append(contract)

    bundles = list(iter_customer_bundles(extracted.duckdb_path, chunk_size=5))

    assert [b.customer["id"] for b in bundles] == sorted(c["id"] for c in state["customers"])
    customers = {c["id"]: c for c in state["customers"]}
    for bundle in bundles:
        customer_id = bundle.customer["id"]
        assert comparable(bundle.customer) == comparable(customers[customer_id])
        expected_plans = sorted(
            ({**p, "customer_id": customer_id} for p in state["customer_plans"][customer_id]),
            key=lambda p: (p["starting_on"], p["id"]),
        )
        assert comparable(bundle.plans) == comparable(expected_plans)
        expected = sorted(
            api_invoices.get(customer_id, []), key=lambda i: (i["start_timestamp"], i["id"])
        )
        assert comparable(bundle.invoices) == comparable(expected)
        contracts = sorted(
            api_contracts.get(customer_id, []), key=lambda c: (c["starting_at"], c["id"])
        )
        assert comparable(bundle.contracts) == comparable(contracts)


def test_rows_are_api_shaped(extracted: DataDir) -> None:
    bundle = next(iter_customer_bundles(extracted.duckdb_path))
    invoice = bundle.invoices[0]
    assert isinstance(invoice["total"], Decimal)
    assert "E" not in str(invoice["total"])  # 2500, not 2.5E+3
    assert invoice["start_timestamp"].endswith("Z")
    assert isinstance(invoice["line_items"], list)
    assert isinstance(invoice["credit_type"], dict)
    assert not [key for key in invoice if key.startswith("_dlt")]
    assert bundle.customer["created_at"].endswith("Z")


def test_catalog_holds_plans_charges_and_credit_types(
    metronome_api: MetronomeEmulator, extracted: DataDir
) -> None:
    state = metronome_api.state()
    catalog = read_catalog(extracted.duckdb_path)
    assert set(catalog.plans) == {p["id"] for p in state["plans"]}
    assert set(catalog.plan_charges) == {c["id"] for p in state["plans"] for c in p["charges"]}
    assert {c["name"] for c in catalog.credit_types.values()} == {
        "USD (cents)",
        "EUR",
        "Cloud credits",
    }
    charge = next(iter(catalog.plan_charges.values()))
    assert charge["plan_id"] in catalog.plans
    assert isinstance(charge["prices"], list)


def test_a_connection_and_a_customer_filter_work_too(extracted: DataDir) -> None:
    with duckdb.connect(str(extracted.duckdb_path)) as connection:
        every = [b.customer["id"] for b in iter_customer_bundles(connection)]
        chosen = [every[3], every[0], "unknown"]
        picked = [b.customer["id"] for b in iter_customer_bundles(connection, chosen)]
        assert picked == sorted(every[i] for i in (0, 3))
        assert read_catalog(connection).plans


def test_nothing_staged_reads_as_empty(tmp_path: Path) -> None:
    missing = tmp_path / "never-created.duckdb"
    assert read_catalog(missing) == Catalog(plans={}, plan_charges={}, credit_types={})
    assert list(iter_customer_bundles(missing)) == []
    assert not missing.exists()
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as connection:
        connection.execute("CREATE SCHEMA metronome_raw")
        assert list(iter_customer_bundles(connection)) == []
        assert read_catalog(connection).credit_types == {}
