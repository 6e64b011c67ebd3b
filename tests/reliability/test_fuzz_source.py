"""Fuzzing the extract-time record checks (`sources.metronome.records`).

Every record a Metronome page could hold is either accepted or rejected with a reason;
checking never raises, and a reject (payload included) can always be stored. Accepted
records are then staged for real: one dlt load into DuckDB with the source's column hints,
in which every accepted record must land in its typed columns (no record may fail the load:
a package that cannot load stays pending and fails every later run), be read back by the
staging reader, and go through the transform without an unforeseen failure.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import dlt
import duckdb
from hypothesis import given

from destinations.fincome.ledger import LedgerStore, Reject
from pipelines.staging import iter_customer_bundles, read_catalog
from pipelines.transform.customer_mapping import INTERNAL_ERROR
from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import run_transform
from sources.metronome.records import COLUMNS, REQUIRED, check_record, make_reject, split_valid
from sources.metronome.settings import type_hinted_columns_only
from tests.reliability.checks import reason_problem
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.plan_catalog import AS_OF
from tests.reliability.source_records import COLLECTIONS, source_records
from tests.reliability.strategies import fuzz_settings

Accepted = dict[str, list[dict[str, Any]]]


def test_every_record_is_accepted_and_staged_or_rejected_with_a_reason(
    tmp_path: Path, reliability_figures: ReliabilityFigures
) -> None:
    accepted: Accepted = defaultdict(list)
    rejects: list[Reject] = []

    @fuzz_settings(max_examples=300)
    @given(batch=source_records())
    def check(batch: tuple[str, Any]) -> None:
        collection, record = batch
        reliability_figures.add("records_fuzzed")
        problem = check_record(collection, record)
        if problem is None:
            accepted[collection].append(_with_unique_id(record, accepted[collection]))
            return
        assert reason_problem(problem) is None, problem
        reject = make_reject(collection, record, problem)
        assert reject.record_id.strip()
        # a unique id, so that the ledger keeps every payload (it keeps one per record id)
        key = f"{len(rejects)}:{reject.record_id}"
        rejects.append(Reject("extract", collection, key, problem, payload=reject.payload))
        assert split_valid(collection, [record], lambda _: None) == ([], 1)

    check()
    with duckdb.connect(str(tmp_path / "rejects.duckdb")) as db:
        LedgerStore(db).add_rejects(rejects)  # every payload can be stored
    assert set(accepted) == set(COLLECTIONS), "the fuzzing never accepted some collection"
    _assert_stages(accepted, tmp_path)


def _with_unique_id(record: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """The record, renamed when its id was taken: merging by id must keep every record."""
    if all(other["id"] != record["id"] for other in earlier):
        return record
    return {**record, "id": f"fuzz-{len(earlier)}"}


def _assert_stages(accepted: Accepted, tmp_path: Path) -> None:
    database = tmp_path / "billing_sync.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="fuzz_staging",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="metronome_raw",
        pipelines_dir=str(tmp_path / "dlt"),
    )
    pipeline.run(_source(accepted)).raise_on_failed_jobs()
    with duckdb.connect(str(database)) as db:
        for collection, records in accepted.items():
            staged = _staged_ids(db, collection)
            assert staged == {record["id"] for record in records}, collection
            assert not _variant_columns(db, collection), collection
            assert _changed_text(db, collection, records) == [], collection
            assert _retyped_text(db, collection, records) == {}, collection
        read_catalog(db)
        assert sum(1 for _ in iter_customer_bundles(db)) == len(accepted["customers"])
        result = run_transform(db, MappingOptions(), AS_OF)
    assert not [r.reason for r in result.rejects if r.reason.startswith(INTERNAL_ERROR)]


def _source(accepted: Accepted) -> Any:
    @dlt.source(name="metronome", max_table_nesting=0)
    def metronome() -> Any:
        type_hinted_columns_only(dlt.current.source_schema())  # as metronome_source does
        return [
            dlt.resource(
                records,
                name=collection,
                columns=dict(COLUMNS[collection]),
                write_disposition="merge",
                primary_key="id",
            )
            for collection, records in accepted.items()
        ]

    return metronome()


def _staged_ids(db: duckdb.DuckDBPyConnection, collection: str) -> set[str]:
    return {row[0] for row in db.execute(f"SELECT id FROM metronome_raw.{collection}").fetchall()}


def _changed_text(
    db: duckdb.DuckDBPyConnection, collection: str, records: list[dict[str, Any]]
) -> list[tuple[str, str, Any]]:
    """(id, field, staged value) of the required text fields that did not stage as sent."""
    fields = [name for name, kind in REQUIRED[collection].items() if kind == "text"]
    by_id = {record["id"]: record for record in records}
    rows = db.execute(f"SELECT {', '.join(fields)} FROM metronome_raw.{collection}").fetchall()
    return [
        (row[0], field, value)
        for row in rows
        for field, value in zip(fields, row, strict=True)
        if value != by_id[row[0]][field]
    ]


def _retyped_text(
    db: duckdb.DuckDBPyConnection, collection: str, records: list[dict[str, Any]]
) -> dict[str, str]:
    """Unhinted fields that only ever held text but were staged in a column of another type
    (dlt guesses a column's type from the first value it sees)."""
    text_fields = {
        name
        for record in records
        for name, value in record.items()
        if isinstance(value, str) and name not in COLUMNS[collection]
    }
    typed = {
        name
        for record in records
        for name, value in record.items()
        if value is not None and not isinstance(value, str)
    }
    columns = dict(
        db.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'metronome_raw' AND table_name = ?",
            [collection],
        ).fetchall()
    )
    return {
        name: columns[name]
        for name in text_fields - typed
        if name in columns and columns[name] != "VARCHAR"
    }


def _variant_columns(db: duckdb.DuckDBPyConnection, collection: str) -> list[str]:
    """Columns dlt added because a checked field held another type than its hint."""
    checked = {*COLUMNS[collection], *REQUIRED[collection]}
    columns = db.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'metronome_raw' AND table_name = ?",
        [collection],
    ).fetchall()
    return [name for (name,) in columns if name.split("__v_")[0] in checked and "__v_" in name]
