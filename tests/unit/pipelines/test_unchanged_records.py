"""Fingerprints of staged records (`pipelines/unchanged_records.py`): pure, table-driven."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dlt
import duckdb
import pytest

from pipelines.unchanged_records import (
    FINGERPRINT_COLUMN,
    StagedFingerprints,
    Unchanged,
    skip_unchanged,
    table_salt,
    with_fingerprint,
)
from sources.metronome import MetronomeSettings, metronome_source

SALT = table_salt("invoices", {"total": {"data_type": "decimal"}})
INVOICE: dict[str, Any] = {
    "id": "inv-1",
    "status": "FINALIZED",
    "total": Decimal("12.5"),
    "line_items": [{"name": "seats", "total": Decimal("12.5"), "quantity": 5}],
}


def fingerprint(record: dict[str, Any], salt: bytes = SALT) -> str:
    found: str = with_fingerprint(dict(record), salt)[FINGERPRINT_COLUMN]
    return found


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({**INVOICE, "status": "VOID"}, id="status"),
        pytest.param({**INVOICE, "total": Decimal("12.50")}, id="decimal-places"),
        pytest.param({**INVOICE, "total": "12.5"}, id="number-as-text"),
        pytest.param({**INVOICE, "total": 12.5}, id="float"),
        pytest.param(
            {**INVOICE, "line_items": [*INVOICE["line_items"], {"name": "x", "total": 0}]},
            id="new-line",
        ),
        pytest.param(
            {**INVOICE, "line_items": [{**INVOICE["line_items"][0], "quantity": 6}]},
            id="nested-value",
        ),
        pytest.param({**INVOICE, "memo": None}, id="new-null-field"),
        pytest.param({k: v for k, v in INVOICE.items() if k != "status"}, id="field-gone"),
    ],
)
def test_any_change_to_a_record_changes_its_fingerprint(changed: dict[str, Any]) -> None:
    assert fingerprint(changed) != fingerprint(INVOICE)


def test_the_same_record_has_the_same_fingerprint_in_every_run() -> None:
    assert fingerprint(INVOICE) == fingerprint({**INVOICE})
    assert len(fingerprint(INVOICE)) == 32  # 128 bits, hex


def test_another_table_or_other_column_hints_give_another_fingerprint() -> None:
    other_table = table_salt("contracts", {"total": {"data_type": "decimal"}})
    other_hints = table_salt("invoices", {"total": {"data_type": "text"}})
    assert fingerprint(INVOICE, other_table) != fingerprint(INVOICE)
    assert fingerprint(INVOICE, other_hints) != fingerprint(INVOICE)


def test_a_record_that_cannot_be_serialised_gets_no_fingerprint() -> None:
    row = with_fingerprint({"id": "x", "value": object()}, SALT)
    assert FINGERPRINT_COLUMN not in row


@pytest.mark.parametrize(
    ("row", "kept"),
    [
        pytest.param({"id": "inv-1", FINGERPRINT_COLUMN: "aa"}, False, id="staged-as-is"),
        pytest.param({"id": "inv-1", FINGERPRINT_COLUMN: "bb"}, True, id="changed"),
        pytest.param({"id": "inv-2", FINGERPRINT_COLUMN: "aa"}, True, id="new"),
        pytest.param({"id": "inv-1"}, True, id="no-fingerprint"),
        pytest.param({FINGERPRINT_COLUMN: "aa"}, True, id="no-id"),
    ],
)
def test_only_a_record_staged_as_it_is_is_left_out(row: dict[str, Any], kept: bool) -> None:
    unchanged = Unchanged()
    assert unchanged.filter("invoices", {"inv-1": "aa"})(row) is kept
    assert unchanged.by_table() == ({} if kept else {"invoices": 1})


def steps(resource: Any, kind: str) -> int:
    return sum(1 for step in resource._pipe.steps if type(step).__name__ == kind)


def test_every_table_of_the_metronome_source_is_filtered_and_its_lists_are_not() -> None:
    """customers and plans are staged through pass-through transformers of resources that
    list them and are not loaded: those feed the other reads and get no step at all."""
    settings = MetronomeSettings(api_token="t", base_url="http://127.0.0.1:9")
    source = metronome_source(settings.resolve())

    skip_unchanged(source, StagedFingerprints())

    for name, resource in source.resources.items():
        loaded = name in source.selected_resources
        assert (steps(resource, "MapItem"), steps(resource, "FilterItem")) == (
            (1, 1) if loaded else (0, 0)
        ), name
    assert {"customers", "plans"} <= set(source.selected_resources)


def test_a_loaded_resource_that_feeds_a_transformer_is_only_fingerprinted() -> None:
    """dlt hands a parent's records to its transformers after every step added to it."""

    @dlt.source
    def nested() -> Any:
        parents = dlt.resource([{"id": "a"}], name="parents", write_disposition="merge")
        children = dlt.transformer(
            lambda parent: [{"id": parent["id"] + "1"}], data_from=parents, name="children"
        )
        return parents, children

    source = nested()

    skip_unchanged(source, StagedFingerprints({"parents": {"a": "x"}}))

    assert steps(source.resources["parents"], "FilterItem") == 0
    assert steps(source.resources["parents"], "MapItem") == 1


def test_staged_fingerprints_leave_out_records_with_an_open_reject() -> None:
    with duckdb.connect() as db:
        db.execute("CREATE SCHEMA raw")
        db.execute(f"CREATE TABLE raw.invoices (id VARCHAR, {FINGERPRINT_COLUMN} VARCHAR)")
        db.execute("INSERT INTO raw.invoices VALUES ('a', 'fa'), ('b', 'fb'), ('c', NULL)")
        db.execute("CREATE TABLE raw.plans (id VARCHAR)")  # staged before fingerprints

        staged = StagedFingerprints.read(
            db, "raw", ["invoices", "plans", "contracts"], [("invoices", "b"), ("plans", "a")]
        )

    assert staged.by_table == {"invoices": {"a": "fa"}}
