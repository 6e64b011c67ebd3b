"""Reading untrusted staged values: one converter per kind, a reject reason for the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipelines.transform.values import (
    MappingError,
    custom_properties,
    decimal_text,
    identifier,
    records,
    to_datetime,
    to_decimal,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, D(12)),
        (D("12.345"), D("12.345")),
        ("12.345", D("12.345")),  # dlt writes nested Decimals as strings
        (" -3.50 ", D("-3.50")),
        ("1e3", D(1000)),
        (0.1, D("0.1")),  # a float is read by its shortest repr, not its binary value
        ("0E-50", D(0)),
    ],
)
def test_to_decimal_accepts_numbers_in_every_staged_form(value: object, expected: Decimal) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("NaN", "not a finite number"),
        (D("Infinity"), "not a finite number"),
        (float("nan"), "not a finite number"),
        ("-inf", "not a finite number"),
        ("12,5", "not a number"),
        ("", "not a number"),
        (True, "not a number"),
        (None, "not a number"),
        ([1], "not a number"),
        ({"value": 1}, "not a number"),
        ("1" * 101, "not a number"),
        ("1e31", "out of range"),
        ("1e-41", "out of range"),
    ],
)
def test_to_decimal_rejects_garbage_with_a_reason(value: object, reason: str) -> None:
    with pytest.raises(MappingError, match=reason):
        to_decimal(value, "total")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T00:00:00Z", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01T01:00:00+01:00", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
        (datetime(2024, 3, 1), datetime(2024, 3, 1, tzinfo=UTC)),  # naive is UTC
        (date(2024, 3, 1), datetime(2024, 3, 1, tzinfo=UTC)),
    ],
)
def test_to_datetime_reads_iso_strings_and_datetimes_as_utc(
    value: object, expected: datetime
) -> None:
    assert to_datetime(value, "issued_at") == expected


@pytest.mark.parametrize("value", ["yesterday", "", 20240301, None, "2024-13-01T00:00:00Z"])
def test_to_datetime_rejects_what_is_not_a_date_time(value: object) -> None:
    with pytest.raises(MappingError, match="issued_at is not an ISO 8601 date-time"):
        to_datetime(value, "issued_at")


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",  # found by fuzzing: its body said "1-01-01T00:00:00Z"
        "1899-12-31T23:59:59Z",
    ],
)
def test_to_datetime_rejects_moments_beyond_the_calendar_in_utc(value: str) -> None:
    with pytest.raises(MappingError, match="issued_at is out of range"):
        to_datetime(value, "issued_at")


def test_identifier_needs_a_non_empty_string() -> None:
    assert identifier("inv-1", "invoice id") == "inv-1"
    for bad in ("", "  ", None, 42, ["inv-1"]):
        with pytest.raises(MappingError, match="invoice id is missing"):
            identifier(bad, "invoice id")


def test_records_parse_json_text_and_refuse_other_shapes() -> None:
    assert records('[{"a": 1}]', "line_items") == [{"a": 1}]
    assert records(None, "line_items") == []
    with pytest.raises(MappingError, match=r"line_items\[1\] is not a JSON object"):
        records([{}, 5], "line_items")
    with pytest.raises(MappingError, match="line_items is not a JSON array"):
        records({"a": 1}, "line_items")


def test_custom_properties_keep_only_strings_and_safe_integers() -> None:
    merged = custom_properties(
        {"plan": "pro", "seats": 5, "rate": D("0.10"), "ratio": 0.5, "on": True},
        {"nested": {"b": [1, D("2.5")], "a": None}, "huge": 2**60, "gone": None},
        {"plan": "enterprise"},  # later sources win
    )
    assert merged == {
        "plan": "enterprise",
        "seats": 5,
        "rate": "0.1",
        "ratio": "0.5",
        "on": "true",
        "nested": '{"a":null,"b":[1,"2.5"]}',
        "huge": str(2**60),
    }


def test_text_with_lone_surrogates_survives_json() -> None:
    assert custom_properties({"k\ud800": "v\udfff"}) == {"k?": "v?"}


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("12.500"), "12.5"), (D("2.5E+3"), "2500"), (D("-0.001"), "-0.001"), (D(0), "0")],
)
def test_decimal_text_is_plain_and_exact(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text
