"""The hash the transform computes equals the hash the destination computes after dlt.

Rows travel through a real dlt pipeline into a capturing destination declared exactly like
`fincome` (typed-jsonl, direct naming, no nesting): None keys are dropped, integral Decimals
become ints, datetimes move to UTC. The second path first stores the rows in DuckDB with the
desired-state column types (DECIMAL(38,9), TIMESTAMPTZ, JSON read back as text), as the push
does. The hash must notice neither.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import duckdb
import orjson
import pytest

from destinations.fincome import column_hints
from destinations.fincome.body import body_hash, canonical_body, embedded_rows
from destinations.fincome.schema import COLLECTIONS, EMBEDDED_CHILD, FieldKind
from tests.unit.destinations.samples import Row, graph

PARIS = timezone(timedelta(hours=1))


def _tricky(rows: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Add rows whose values dlt is most likely to change on the way."""
    rows["customers"].append(
        {"id": "cus_tricky", "name": "  spaced  ", "custom_properties": {
            "amount": Decimal("10.50"), "ratio": 0.1,
            "when": datetime(2024, 3, 1, 12, tzinfo=PARIS),
            "nested": {"list": [Decimal("1.0"), None, "x"], "none": None}, "flag": True}},
    )  # fmt: skip
    rows["prices"].append(
        {"id": "price_tricky", "product_id": "prod_seats", "amount": Decimal("1E+1"),
         "period_length": Decimal("12"), "currency_code": "JPY"},
    )  # fmt: skip
    rows["subscriptions"].append(
        {"id": "sub_tricky", "customer_id": "cus_1", "status": "trialing",
         "trial_start": datetime(2024, 1, 31, 23, 30, tzinfo=PARIS),
         "trial_end": datetime(2024, 2, 14, 0, 0, 0, 123456, tzinfo=PARIS),
         "monthly_value": Decimal("100.000")},
    )  # fmt: skip
    rows["invoices"][0]["invoice_line_items"][0]["amount_excluding_tax_after_discount"] = Decimal(
        "37.500000000"
    )
    return rows


@dlt.destination(
    name="capture",
    batch_size=1000,
    loader_file_format="typed-jsonl",
    naming_convention="direct",
    max_table_nesting=0,
    skip_dlt_columns_and_tables=True,
)
def capture(items: Any, table: Any) -> None:
    CAPTURED[table["name"]].extend(items)


CAPTURED: defaultdict[str, list[Row]] = defaultdict(list)


SQL_TYPES: dict[FieldKind, str] = {
    "string": "VARCHAR",
    "number": "DECIMAL(38,9)",
    "integer": "BIGINT",
    "datetime": "TIMESTAMPTZ",
    "object": "JSON",
}


def _through_duckdb(rows_by_name: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Store rows in typed DuckDB tables and read them back, JSON columns as text."""
    db = duckdb.connect()
    read_back: dict[str, list[Row]] = {}
    for name, rows in rows_by_name.items():
        spec = COLLECTIONS[name]
        columns = {f.name: SQL_TYPES[f.kind] for f in spec.fields}
        if spec.embedded:
            columns[spec.embedded] = "JSON"
        db.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        for row in rows:
            values = [_sql_value(columns[c], row.get(c)) for c in columns]
            db.execute(f"INSERT INTO {name} VALUES ({', '.join('?' * len(values))})", values)
        cursor = db.execute(f"SELECT * FROM {name}")
        names = [d[0] for d in cursor.description]
        read_back[name] = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return read_back


def _sql_value(sql_type: str, value: Any) -> Any:
    if sql_type == "JSON" and value is not None:
        return orjson.dumps(value, default=str).decode()
    return value


def _travel(
    rows_by_name: dict[str, list[Row]], pipelines_dir: Path, *, hinted: bool = False
) -> dict[str, list[Row]]:
    CAPTURED.clear()
    pipeline = dlt.pipeline("roundtrip", destination=capture(), pipelines_dir=str(pipelines_dir))
    pipeline.run(
        [
            dlt.resource(rows, name=name, columns=column_hints(name) if hinted else None)
            for name, rows in rows_by_name.items()
        ]
    )
    received = dict(CAPTURED)
    CAPTURED.clear()
    return received


@pytest.fixture(scope="module")
def travelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[Row]], ...]:
    """(sent, through dlt, through DuckDB then dlt, through dlt with `column_hints`)."""
    sent = _tricky(graph())
    via_dlt = _travel(sent, tmp_path_factory.mktemp("dlt"))
    via_duckdb = _travel(_through_duckdb(graph()), tmp_path_factory.mktemp("duckdb"))
    hinted = _travel(_timestamp_like(sent), tmp_path_factory.mktemp("hinted"), hinted=True)
    return sent, via_dlt, via_duckdb, hinted


def _timestamp_like(rows: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Text fields whose first value looks like a timestamp: dlt would retype the column."""
    rows = deepcopy(rows)
    rows["invoices"][0]["invoice_number"] = "2024-05-01T10:00:00+02:00"
    rows["invoices"][1]["invoice_number"] = "2024-05-01"
    return rows


def _by_id(rows: list[Row]) -> dict[str, Row]:
    return {str(row["id"]): row for row in rows}


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
def test_row_hash_survives_a_real_dlt_round_trip(
    travelled: tuple[dict[str, list[Row]], ...], name: str
) -> None:
    sent, via_dlt, _, _ = travelled
    _assert_same_hashes(name, sent, via_dlt)


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
def test_row_hash_survives_duckdb_then_dlt(
    travelled: tuple[dict[str, list[Row]], ...], name: str
) -> None:
    _, _, via_duckdb, _ = travelled
    _assert_same_hashes(name, graph(), via_duckdb)


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
def test_column_hints_keep_every_value_even_timestamp_like_text(
    travelled: tuple[dict[str, list[Row]], ...], name: str
) -> None:
    sent, _, _, hinted = travelled
    _assert_same_hashes(name, _timestamp_like(sent), hinted)


def test_without_hints_dlt_rewrites_timestamp_like_text(tmp_path: Path) -> None:
    """Why the hints exist: the same rows, unhinted, reach the destination altered."""
    received = _travel({"invoices": _timestamp_like(graph())["invoices"]}, tmp_path)
    numbers = [row["invoice_number"] for row in received["invoices"]]
    assert numbers == [datetime(2024, 5, 1, 8, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)]
    hinted = _travel({"invoices": _timestamp_like(graph())["invoices"]}, tmp_path, hinted=True)
    assert [row["invoice_number"] for row in hinted["invoices"]] == [
        "2024-05-01T10:00:00+02:00",
        "2024-05-01",
    ]


def test_dlt_really_changes_the_values_it_carries(
    travelled: tuple[dict[str, list[Row]], ...],
) -> None:
    """Guard: if dlt stopped altering rows, the tests above would prove nothing."""
    _, via_dlt, via_duckdb, _ = travelled
    assert "email" not in _by_id(via_dlt["customers"])["cus_1"]  # None keys are dropped
    price = _by_id(via_dlt["prices"])["price_tricky"]
    assert price["period_length"] == 12
    assert not isinstance(price["period_length"], Decimal)
    trial_start = _by_id(via_dlt["subscriptions"])["sub_tricky"]["trial_start"]
    assert trial_start.utcoffset() == timedelta(0)  # moved to UTC
    assert _by_id(via_duckdb["prices"])["price_seats"]["amount"] == Decimal("12.500000000")


def _assert_same_hashes(
    name: str, sent: dict[str, list[Row]], received: dict[str, list[Row]]
) -> None:
    before = dict(_pairs(sent, name))
    after = dict(_pairs(received, name))
    assert before, f"no {name} rows in the sample"
    assert after.keys() == before.keys()
    for row_id, row in before.items():
        assert body_hash(canonical_body(name, after[row_id])) == body_hash(
            canonical_body(name, row)
        ), row_id


def _pairs(rows_by_name: dict[str, list[Row]], name: str) -> Iterator[tuple[str, Row]]:
    """(id, row) of a collection, lines taken from their embedding parents."""
    for row in rows_by_name.get(name, []):
        yield str(row["id"]), row
    for parent, child in EMBEDDED_CHILD.items():
        if child.name == name:
            for row in rows_by_name.get(parent, []):
                yield from ((str(line["id"]), line) for line in embedded_rows(parent, row) or [])
