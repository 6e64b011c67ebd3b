"""How `pipelines.staging` turns staged column values back into API-shaped ones."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from pipelines.staging import read_catalog


@pytest.fixture
def db() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'Europe/Paris'")  # not UTC: the text must not depend on it
    connection.execute("CREATE SCHEMA metronome_raw")
    connection.execute(
        "CREATE TABLE metronome_raw.plans (id VARCHAR, moment TIMESTAMPTZ, naive TIMESTAMP, "
        "amount DECIMAL(38, 9), body JSON, _dlt_id VARCHAR)"
    )
    return connection


@pytest.mark.parametrize(
    ("staged", "text"),
    [
        ("2024-05-01 00:00:00+00", "2024-05-01T00:00:00Z"),
        ("2024-05-01 02:00:00+02", "2024-05-01T00:00:00Z"),
        ("2024-05-01 12:34:56.123456+00", "2024-05-01T12:34:56.123456Z"),
        ("2024-05-01 12:34:56.5+00", "2024-05-01T12:34:56.500000Z"),
        ("1969-12-31 23:59:59.75+00", "1969-12-31T23:59:59.750000Z"),
        ("0999-01-01 00:00:00+00", "0999-01-01T00:00:00Z"),
        ("9999-12-31 23:59:59.999999+00", "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_timestamps_read_back_as_utc_iso_text(
    db: duckdb.DuckDBPyConnection, staged: str, text: str
) -> None:
    db.execute("INSERT INTO metronome_raw.plans (id, moment) VALUES ('p', ?)", [staged])
    assert read_catalog(db).plans["p"]["moment"] == text


def test_a_timestamp_without_zone_is_taken_as_utc(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("INSERT INTO metronome_raw.plans (id, naive) VALUES ('p', '2024-05-01 12:00:00')")
    assert read_catalog(db).plans["p"]["naive"] == "2024-05-01T12:00:00Z"


def test_nulls_stay_null_and_dlt_columns_are_dropped(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("INSERT INTO metronome_raw.plans (id, _dlt_id) VALUES ('p', 'x')")
    assert read_catalog(db).plans["p"] == {
        "id": "p",
        "moment": None,
        "naive": None,
        "amount": None,
        "body": None,
    }


def test_decimals_lose_dlt_padding_and_json_numbers_stay_exact(
    db: duckdb.DuckDBPyConnection,
) -> None:
    db.execute(
        "INSERT INTO metronome_raw.plans (id, amount, body) VALUES ('p', 2500, ?)",
        ['{"price": 0.1, "tiers": [{"up_to": 12.50}]}'],
    )
    plan = read_catalog(db).plans["p"]
    assert str(plan["amount"]) == "2500"
    assert plan["body"] == {"price": Decimal("0.1"), "tiers": [{"up_to": Decimal("12.50")}]}
