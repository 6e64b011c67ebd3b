"""Shards: a stable partition of customer ids, and data dirs that keep their scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.config import ConfigError
from pipelines.datadir import DataDir
from pipelines.shards import (
    ACCOUNT,
    SCOPE_FILE,
    SHARED,
    Scope,
    Shard,
    claim_scope,
    parse_shard,
    read_scope,
    shard_of,
)


def test_the_partition_is_sha256_of_the_id_mod_n_and_never_changes() -> None:
    # sha256("a") = ca978112...afee48bb, read as one big-endian integer
    digest = 0xCA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB
    assert shard_of("a", 1000) == digest % 1000 == 499
    # pinned: another machine, Python or release must put these customers in the same shards
    assert [shard_of(f"cus-{n}", 3) for n in range(10)] == [1, 2, 2, 1, 0, 2, 2, 1, 2, 0]
    assert [shard_of(f"cus-{n}", 7) for n in range(10)] == [2, 4, 4, 3, 6, 2, 4, 0, 4, 1]


@given(st.text(min_size=1), st.integers(min_value=1, max_value=64))
def test_every_customer_belongs_to_exactly_one_shard(customer_id: str, count: int) -> None:
    owners = [index for index in range(count) if Shard(index, count).owns(customer_id)]
    assert owners == [shard_of(customer_id, count)]


def test_shards_spread_customers_over_every_shard() -> None:
    counts = [0, 0, 0, 0]
    for n in range(4000):
        counts[shard_of(f"customer-{n}", 4)] += 1
    assert all(900 < count < 1100 for count in counts)


@pytest.mark.parametrize(("text", "shard"), [("0/3", Shard(0, 3)), (" 2 / 3 ", Shard(2, 3))])
def test_a_shard_is_written_i_of_n(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert str(shard) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("3/3", "from 0 to N-1"), ("1/0", "N must be 1"), ("1of3", "not I/N"), ("-1/3", "not I/N")],
)
def test_a_bad_shard_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_shard(text)


def test_a_fresh_data_dir_takes_the_scope_it_is_first_used_with(tmp_path: Path) -> None:
    folder = DataDir(tmp_path / "shard")
    assert read_scope(folder) is None
    assert claim_scope(folder, Scope.of(Shard(1, 3))) == Scope("shard", Shard(1, 3))
    assert json.loads((folder.root / SCOPE_FILE).read_text()) == {
        "kind": "shard",
        "index": 1,
        "count": 3,
    }
    assert claim_scope(folder, None) == Scope("shard", Shard(1, 3))  # later runs inherit it


def test_a_data_dir_never_changes_scope(tmp_path: Path) -> None:
    folder = DataDir(tmp_path / "shard")
    claim_scope(folder, Scope.of(Shard(1, 3)))
    for other in (Scope.of(Shard(1, 4)), Scope.of(Shard(0, 3)), ACCOUNT, SHARED):
        with pytest.raises(ConfigError, match="holds shard 1/3") as raised:
            claim_scope(folder, other)
        assert raised.value.key == "--shard"


def test_an_account_data_dir_in_use_cannot_become_a_shard(tmp_path: Path) -> None:
    folder = DataDir(tmp_path)
    folder.duckdb_path.touch()  # used before scopes existed, or by an unsharded run
    assert read_scope(folder) == ACCOUNT
    assert claim_scope(folder, None) == ACCOUNT
    with pytest.raises(ConfigError, match="holds account"):
        claim_scope(folder, Scope.of(Shard(0, 2)))
    assert not (folder.root / SCOPE_FILE).exists()


def test_only_push_shared_works_in_a_shared_data_dir(tmp_path: Path) -> None:
    folder = DataDir(tmp_path)
    assert claim_scope(folder, SHARED) == SHARED
    assert claim_scope(folder, SHARED) == SHARED
    with pytest.raises(ConfigError, match="holds shared"):
        claim_scope(folder, None)


def test_scopes_describe_themselves_for_json() -> None:
    assert ACCOUNT.describe() == {"kind": "account", "index": None, "count": None}
    assert Scope.of(Shard(2, 5)).describe() == {"kind": "shard", "index": 2, "count": 5}
