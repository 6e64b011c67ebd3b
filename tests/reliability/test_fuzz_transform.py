"""Fuzzing the transform: valid accounts map completely, junk never breaks it.

Inputs are what staging hands the transform (`strategies.accounts`), then the same broken
every way `junk.py` knows. Properties: the transform never raises; every invoice is mapped,
rejected with a complete reject, or a documented skip; mapped documents' lines add up
exactly to their converted totals; the Fincome emulator accepts every row; the same input
gives the same output; and the rows load into the `fincome` tables with their hashes.
"""

from __future__ import annotations

import copy

import duckdb
from hypothesis import given

from destinations.fincome.body import body_hash, canonical_body
from pipelines.transform.engine import desired_state, transform
from pipelines.transform.runner import write_desired_state
from tests.reliability.checks import (
    assert_fincome_accepts,
    assert_lines_add_up,
    assert_rejects_are_complete,
    mapped_documents,
    unaccounted_invoices,
)
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.junk import junk_accounts
from tests.reliability.plan_catalog import AS_OF
from tests.reliability.strategies import Account, accounts, fuzz_settings


@fuzz_settings(max_examples=40)
@given(account=accounts())
def test_valid_accounts_map_completely_and_fincome_accepts_every_row(
    account: Account, reliability_figures: ReliabilityFigures
) -> None:
    reliability_figures.add("records_fuzzed", account.record_count)
    state = desired_state(account.catalog, account.customers, account.options, AS_OF)

    assert state.rejects == []
    assert unaccounted_invoices(account, mapped_documents(state), state.rejects) == []
    assert_lines_add_up(account, state)
    assert_fincome_accepts(state)


@fuzz_settings(max_examples=150)
@given(account=junk_accounts())
def test_junk_is_mapped_or_rejected_with_a_reason_never_raised(
    account: Account, reliability_figures: ReliabilityFigures
) -> None:
    reliability_figures.add("records_fuzzed", account.record_count)
    state = desired_state(account.catalog, account.customers, account.options, AS_OF)

    assert_rejects_are_complete(state.rejects)
    assert unaccounted_invoices(account, mapped_documents(state), state.rejects) == []
    assert_lines_add_up(account, state)
    assert_fincome_accepts(state)
    again = copy.deepcopy(account)
    assert desired_state(again.catalog, again.customers, again.options, AS_OF) == state


@fuzz_settings(max_examples=15)
@given(account=junk_accounts())
def test_junk_output_loads_into_the_fincome_tables_with_its_hashes(
    account: Account, reliability_figures: ReliabilityFigures
) -> None:
    reliability_figures.add("records_fuzzed", account.record_count)
    items = list(transform(account.catalog, account.customers, account.options, AS_OF))
    with duckdb.connect() as db:
        result = write_desired_state(db, items)
        for collection, count in result.counts.items():
            stored = db.execute(f"SELECT * FROM fincome.{collection}").fetchall()
            columns = [d[0] for d in db.description]
            assert len(stored) == count
            for values in stored:
                row = dict(zip(columns, values, strict=True))
                assert body_hash(canonical_body(collection, row)) == row["row_hash"], (
                    collection,
                    row["id"],
                )
