"""Shard facts merged give exactly the account-wide rows of one transform over everything.

A generated account is staged whole in one DuckDB file and, split by shard, in four more;
each shard's facts go through their JSON file. The customers, products and prices built from
the merged facts must equal, row by row and hash by hash, those of the whole transform, and
the shards' own tables together must equal the whole account's.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from destinations.fincome.schema import PUSH_ORDER
from pipelines.config import ConfigError
from pipelines.datadir import DataDir
from pipelines.shards import Shard, shard_of
from pipelines.shared_facts import (
    SharedFacts,
    check_complete,
    merged_shared_rows,
    record_shared_facts,
)
from pipelines.staging import Catalog
from pipelines.transform.catalog import CatalogUsage
from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import run_transform, write_desired_state
from sandbox.metronome.generator import Account, AccountSettings, generate_account
from tests.integration.test_transform_scale import NOW, stage_account

SHARDS = 4
SHARED = ("customers", "products", "prices")
OWN = tuple(spec.name for spec in PUSH_ORDER if spec.name not in SHARED)
OPTIONS = MappingOptions()


def table(db: duckdb.DuckDBPyConnection, name: str) -> list[tuple[Any, ...]]:
    return db.execute(f"SELECT * FROM fincome.{name} ORDER BY id").fetchall()


def shard_account(account: Account, shard: Shard) -> Account:
    return dataclasses.replace(
        account,
        customers=[c for c in account.customers if shard.owns(c.detail["id"])],
        invoices=[i for i in account.invoices if shard.owns(i["customer_id"])],
    )


def staged(folder: Path, account: Account) -> duckdb.DuckDBPyConnection:
    folder.mkdir()
    db = duckdb.connect(str(folder / "billing_sync.duckdb"))
    stage_account(db, account, folder)
    return db


@pytest.fixture(scope="module")
def account() -> Account:
    return generate_account(
        AccountSettings(seed=5, customers=60, months=6, now=NOW, contract_customers=20)
    )


def test_merged_facts_give_the_whole_accounts_customers_products_and_prices(
    account: Account, tmp_path: Path
) -> None:
    whole = staged(tmp_path / "whole", account)
    run_transform(whole, OPTIONS, NOW)
    facts, shard_dbs = [], []
    for index in range(SHARDS):
        shard = Shard(index, SHARDS)
        db = staged(tmp_path / f"shard-{index}", shard_account(account, shard))
        run_transform(db, OPTIONS, NOW, with_shared=False)
        db.close()  # the facts are read the way extract reads them: from the file
        path = record_shared_facts(DataDir(tmp_path / f"shard-{index}"), OPTIONS, shard)
        facts.append(SharedFacts.from_json(path.read_bytes()))
        shard_dbs.append(duckdb.connect(str(tmp_path / f"shard-{index}" / "billing_sync.duckdb")))
    shared = duckdb.connect(str(tmp_path / "shared.duckdb"))
    write_desired_state(shared, merged_shared_rows(facts, OPTIONS))

    for name in SHARED:
        assert table(shared, name) == table(whole, name), name
        assert all(not table(db, name) for db in shard_dbs), name
    for name in OWN:
        together = sorted(row for db in shard_dbs for row in table(db, name))
        assert together == table(whole, name), name
    roots = whole.execute(
        "SELECT id, root_parent_id FROM fincome.customers WHERE root_parent_id IS NOT NULL"
    ).fetchall()
    assert any(shard_of(child, SHARDS) != shard_of(root, SHARDS) for child, root in roots)
    products = {row[0] for row in table(whole, "products")}
    assert products & {"metronome:adjustment", "metronome:unlinked"}  # known only from invoices


def test_facts_survive_their_json_file_exactly(account: Account, tmp_path: Path) -> None:
    shard = Shard(1, SHARDS)
    staged(tmp_path / "shard", shard_account(account, shard)).close()
    path = record_shared_facts(DataDir(tmp_path / "shard"), OPTIONS, shard)
    facts = SharedFacts.from_json(path.read_bytes())
    assert SharedFacts.from_json(facts.to_json()) == facts
    assert facts.shard == shard
    assert set(facts.customers) == {
        c.detail["id"] for c in account.customers if shard.owns(c.detail["id"])
    }


@pytest.mark.parametrize(
    ("shards", "problem"),
    [
        ([(0, 2)], "missing: [1]"),
        ([(0, 2), (1, 2), (1, 2)], "given twice: [1]"),
        ([(0, 2), (1, 3)], "all shards of one N"),
    ],
)
def test_the_shared_push_needs_every_shard_once(
    shards: list[tuple[int, int]], problem: str
) -> None:
    empty = SharedFacts(Shard(0, 1), {}, CatalogUsage(), Catalog({}, {}, {}))
    given = [dataclasses.replace(empty, shard=Shard(i, n)) for i, n in shards]
    with pytest.raises(ConfigError, match=re.escape(problem)):
        check_complete(given)
