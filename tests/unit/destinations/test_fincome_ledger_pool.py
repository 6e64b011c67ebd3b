"""Ledger files stay open across consecutive batches and close once idle."""

from __future__ import annotations

import time
from pathlib import Path

from destinations.fincome.ledger import LedgerEntry
from destinations.fincome.ledger_pool import LedgerPool


def test_consecutive_batches_share_one_open_ledger(tmp_path: Path) -> None:
    pool = LedgerPool(linger=60)
    path = tmp_path / "ledger.duckdb"
    with pool.ledger(path) as first:
        first.record([LedgerEntry("products", "p1", "h1", {"id": "p1"})])
    with pool.ledger(path) as second:
        assert second is first
        assert second.hashes("products", ["p1"]) == {"p1": "h1"}
    assert pool.is_open(path)
    pool.close_all()
    assert not pool.is_open(path)


def test_an_idle_ledger_is_closed_after_its_linger(tmp_path: Path) -> None:
    pool = LedgerPool(linger=0.01)
    path = tmp_path / "ledger.duckdb"
    with pool.ledger(path):
        pass
    deadline = time.monotonic() + 10  # waits for the timer thread, asserts no duration
    while pool.is_open(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pool.is_open(path)
    with pool.ledger(path) as reopened:  # and it opens again on demand
        assert reopened.hashes("products", ["p1"]) == {}
    pool.close_all()


def test_a_ledger_in_use_is_never_closed_under_its_user(tmp_path: Path) -> None:
    pool = LedgerPool(linger=0.0)
    path = tmp_path / "ledger.duckdb"
    with pool.ledger(path) as outer:
        with pool.ledger(path):
            pass
        time.sleep(0.05)  # give a (wrongly) started timer the chance to fire
        assert pool.is_open(path)
        outer.record([LedgerEntry("products", "p1", "h1", {"id": "p1"})])
    pool.close_all()
