"""Contracts staged per customer through their own paging (`POST /v2/contracts/list`).

A proxy in front of the Metronome emulator answers the contract list with SDK-valid
contracts (`contracts_served.py`), so these tests hold whatever the emulator serves: every
contract is staged once, with its nested objects whole, and read back on its customer's
bundle ordered by start; malformed ones are set aside with their reason; a customer whose
contract list cannot be read is set aside for the run like any other per-customer list.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import ExtractOptions, run_extract
from pipelines.shards import Shard
from pipelines.staging import iter_customer_bundles
from sources.metronome import MetronomeSettings
from sources.metronome.customer_reads import UNREAD
from tests.fixtures.metronome import PINNED_ACCOUNT, MetronomeEmulator
from tests.hostile.servers import Reply, Request, json_reply
from tests.integration.contracts_served import Contract, ContractsProxy, contract, sdk_valid


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


def mixed_contracts(customer_ids: list[str]) -> dict[str, list[Contract]]:
    """23 contracts for the first customer (two pages of 20), an archived and a live one for
    the second (listed out of start order), none for the others (plan customers)."""
    first, second = customer_ids[:2]
    many = [
        contract(first, n, starting_at=f"2025-{1 + n % 12:02d}-01T00:00:00Z") for n in range(23)
    ]
    pair = [
        contract(second, 2, starting_at="2026-03-01T00:00:00Z"),
        contract(second, 1, starting_at="2025-06-01T00:00:00Z", archived_at="2026-02-01T00:00:00Z"),
    ]
    return {first: many, second: pair}


@pytest.fixture
def proxy(metronome_api: MetronomeEmulator) -> Iterator[ContractsProxy]:
    ids = sorted(customer["id"] for customer in metronome_api.state()["customers"])
    served = ContractsProxy(metronome_api.url, mixed_contracts(ids))
    with served.server:
        yield served


def settings_for(proxy: ContractsProxy, token: str, **options: Any) -> MetronomeSettings:
    return MetronomeSettings(
        api_token=token,
        base_url=proxy.server.url,
        requests_per_second=0,
        max_attempts=3,
        retry_budget_seconds=10,
        **options,
    )


def staged_contracts(data_dir: DataDir) -> list[tuple[str, str]]:
    with duckdb.connect(str(data_dir.duckdb_path)) as connection:
        rows = connection.execute(
            "SELECT id, customer_id FROM metronome_raw.contracts ORDER BY id"
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def served_contracts(proxy: ContractsProxy) -> list[tuple[str, str]]:
    return sorted((c["id"], c["customer_id"]) for cs in proxy.contracts.values() for c in cs)


def test_every_contract_is_staged_once_whole_and_read_back_on_its_customers_bundle(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, data_dir: DataDir
) -> None:
    assert all(sdk_valid(c) for cs in proxy.contracts.values() for c in cs)
    customers = len(metronome_api.state()["customers"])

    result = run_extract(data_dir, settings_for(proxy, metronome_api.token))

    assert result.rejects == ()
    assert staged_contracts(data_dir) == served_contracts(proxy)
    assert result.tables["contracts"] == len(served_contracts(proxy))
    bundles = {b.customer["id"]: b for b in iter_customer_bundles(data_dir.duckdb_path)}
    for customer_id, served in proxy.contracts.items():
        read = bundles[customer_id].contracts
        expected = sorted(served, key=lambda c: (c["starting_at"], c["id"]))
        assert [c["id"] for c in read] == [c["id"] for c in expected]
    assert sum(len(b.contracts) for b in bundles.values()) == len(served_contracts(proxy))
    archived = next(c for c in bundles[sorted(proxy.contracts)[1]].contracts if c["archived_at"])
    assert archived["archived_at"] == "2026-02-01T00:00:00Z"
    subscription = archived["subscriptions"][0]  # nested objects whole, numbers exact
    assert subscription["quantity_schedule"][0]["quantity"] == 3
    assert subscription["subscription_rate"]["billing_frequency"] == "MONTHLY"
    assert archived["total_contract_value"] == Decimal("12000.5")
    # one request per customer, one more for the page after the first 20 contracts
    requests = proxy.contract_requests()
    assert len(requests) == customers + 1
    bodies = [request.json() for request in requests]
    assert all(b["limit"] == 20 and b["include_archived"] is True for b in bodies)
    assert not any("include_balance" in b or "include_ledgers" in b for b in bodies)
    assert sum(1 for b in bodies if b.get("cursor")) == 1


def test_a_second_run_stages_the_same_contracts(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, data_dir: DataDir
) -> None:
    settings = settings_for(proxy, metronome_api.token)
    run_extract(data_dir, settings)
    first = [b.contracts for b in iter_customer_bundles(data_dir.duckdb_path)]

    again = run_extract(data_dir, settings)

    # all read again, none staged again: they did not change
    assert again.unchanged["contracts"] == len(served_contracts(proxy))
    assert again.tables["contracts"] == 0
    assert staged_contracts(data_dir) == served_contracts(proxy)
    second = [b.contracts for b in iter_customer_bundles(data_dir.duckdb_path)]
    assert second == first


def test_malformed_contracts_are_set_aside_with_their_reason_and_the_rest_staged(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, data_dir: DataDir
) -> None:
    customer_id = sorted(proxy.contracts)[1]
    good = {contract_id for contract_id, _ in served_contracts(proxy)}
    no_id = {k: v for k, v in contract(customer_id, 7).items() if k != "id"}
    no_start = {k: v for k, v in contract(customer_id, 8).items() if k != "starting_at"}
    foreign = {**contract(customer_id, 9), "customer_id": "someone-else"}
    bad_json = contract(customer_id, 10, subscriptions="seats")
    proxy.contracts[customer_id] += [no_id, no_start, foreign, bad_json]

    result = run_extract(data_dir, settings_for(proxy, metronome_api.token))

    reasons = {r.record_id: r.reason for r in result.rejects if r.collection == "contracts"}
    assert reasons[f"contract-{customer_id}-08"] == "missing starting_at"
    assert reasons[f"contract-{customer_id}-09"].startswith('customer_id is "someone-else"')
    assert reasons[f"contract-{customer_id}-10"].startswith("subscriptions is")
    assert [reason for key, reason in reasons.items() if key.startswith("no-id:")] == ["missing id"]
    assert {contract_id for contract_id, _ in staged_contracts(data_dir)} == good


def test_a_customer_whose_contract_list_cannot_be_read_is_set_aside_for_the_run(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, data_dir: DataDir
) -> None:
    broken = sorted(proxy.contracts)[0]

    def glitch(request: Request) -> Reply | None:
        body = request.json() if request.method == "POST" else None
        if isinstance(body, dict) and body.get("customer_id") == broken:
            return json_reply({"data": None, "cursor": None})
        return None

    proxy.glitch = glitch
    result = run_extract(data_dir, settings_for(proxy, metronome_api.token))

    unread = [r for r in result.rejects if r.collection == UNREAD]
    assert [r.record_id for r in unread] == [broken]
    assert "its contracts could not be read this run" in unread[0].reason
    assert "POST /v2/contracts/list" in unread[0].reason
    assert {cid for _, cid in staged_contracts(data_dir)} == set(proxy.contracts) - {broken}

    proxy.glitch = lambda request: None
    healed = run_extract(data_dir, settings_for(proxy, metronome_api.token))
    assert healed.rejects == ()
    assert staged_contracts(data_dir) == served_contracts(proxy)


def test_only_the_customers_asked_for_or_of_the_shard_have_their_contracts_read(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, tmp_path: Path
) -> None:
    settings = settings_for(proxy, metronome_api.token)
    wanted = sorted(proxy.contracts)[1]
    run_extract(
        resolve_data_dir(tmp_path / "one"), settings, ExtractOptions(customer_ids=(wanted,))
    )
    assert [r.json()["customer_id"] for r in proxy.contract_requests()] == [wanted]

    shard = Shard(1, 2)
    ids = [customer["id"] for customer in metronome_api.state()["customers"]]
    before = len(proxy.contract_requests())
    run_extract(resolve_data_dir(tmp_path / "shard"), settings, ExtractOptions(shard=shard))
    asked = {r.json()["customer_id"] for r in proxy.contract_requests()[before:]}
    assert asked == {customer_id for customer_id in ids if shard.owns(customer_id)}


MIXED_CONTRACT_CUSTOMERS = 9  # every contract case of the emulator (contract_stories.py)


def emulator_contracts(api: MetronomeEmulator) -> dict[str, list[Contract]]:
    """The emulator's contracts (`/_emulator/state`), by customer."""
    by_customer: dict[str, list[Contract]] = {}
    for record in api.state()["contracts"]:
        by_customer.setdefault(record["customer_id"], []).append(record)
    return by_customer


@pytest.fixture
def mixed_account(metronome_api: MetronomeEmulator) -> Iterator[MetronomeEmulator]:
    """The pinned account with contract customers; the session's emulator goes back to the
    pinned account afterwards (a reset keeps the options it is not given)."""
    metronome_api.reset(contract_customers=MIXED_CONTRACT_CUSTOMERS)
    yield metronome_api
    metronome_api.reset(**{"contract_customers": 0, **PINNED_ACCOUNT})


def test_a_mixed_account_stages_every_emulator_contract_once_and_a_rerun_the_same_rows(
    mixed_account: MetronomeEmulator, data_dir: DataDir
) -> None:
    metronome_api = mixed_account
    settings = MetronomeSettings(
        api_token=metronome_api.token, base_url=metronome_api.url, requests_per_second=0
    )
    served = emulator_contracts(metronome_api)
    customers = len(metronome_api.state()["customers"])

    result = run_extract(data_dir, settings)

    assert result.rejects == ()
    expected = sorted((c["id"], cid) for cid, listed in served.items() for c in listed)
    assert staged_contracts(data_dir) == expected
    bundles = {b.customer["id"]: b for b in iter_customer_bundles(data_dir.duckdb_path)}
    for customer_id, bundle in bundles.items():
        listed = sorted(served.get(customer_id, []), key=lambda c: (c["starting_at"], c["id"]))
        assert [c["id"] for c in bundle.contracts] == [c["id"] for c in listed]
        for read, sent in zip(bundle.contracts, listed, strict=True):
            assert read["subscriptions"] == sent.get("subscriptions")
            assert read["commits"] == sent["commits"]
    # one contract list per customer, plan customers included (they answer an empty page)
    by_route = metronome_api.requests()["by_route"]
    pages = sum(max(1, -(-len(served.get(customer_id, [])) // 20)) for customer_id in bundles)
    assert by_route["POST /v2/contracts/list"] == pages == customers

    first = [b.contracts for b in iter_customer_bundles(data_dir.duckdb_path)]
    again = run_extract(data_dir, settings)
    assert again.unchanged["contracts"] == len(expected)
    assert again.tables["contracts"] == 0
    assert staged_contracts(data_dir) == expected
    assert [b.contracts for b in iter_customer_bundles(data_dir.duckdb_path)] == first
