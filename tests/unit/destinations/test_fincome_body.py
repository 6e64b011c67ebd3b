"""`normalize`: one value of a body field, by kind, as the ledger hashes and Fincome gets it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from destinations.fincome.body import BodyError, normalize
from destinations.fincome.schema import FieldKind

PARIS_SUMMER = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("string", "abc", "abc"),
        ("string", 12, "12"),
        ("string", datetime(2024, 5, 1, 2, tzinfo=PARIS_SUMMER), "2024-05-01T00:00:00Z"),
        ("number", Decimal("12.30"), Decimal("12.3")),
        ("number", Decimal("2.5E+3"), Decimal("2500")),
        ("number", Decimal("-0.00"), Decimal("-0")),
        ("number", 7, Decimal("7")),
        ("number", 10**30 + 1, Decimal(10**30 + 1)),  # an int stays exact, however long
        ("number", Decimal("10") ** 30, Decimal(10**30)),  # plain, not 1E+30
        (
            "number",
            Decimal("12345678901234567890123456789.123456789"),
            Decimal("12345678901234567890123456789.123456789"),
        ),
        ("number", "0.10", Decimal("0.1")),
        ("number", 0.1, Decimal("0.1")),
        ("integer", 3, 3),
        ("integer", Decimal("3.000"), 3),
        ("integer", "42", 42),
        ("datetime", "2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z"),
        ("datetime", "2024-05-01T12:00:00.250000+02:00", "2024-05-01T10:00:00.250000Z"),
        ("datetime", datetime(2024, 5, 1), "2024-05-01T00:00:00Z"),
        ("datetime", date(2024, 5, 1), "2024-05-01T00:00:00Z"),
        ("datetime", datetime(2024, 5, 1, tzinfo=UTC), "2024-05-01T00:00:00Z"),
        ("object", {"a": "x", "n": 1, "flag": True}, {"a": "x", "n": 1, "flag": True}),
        ("object", {"d": Decimal("1.50"), "f": 0.5}, {"d": "1.50", "f": "0.5"}),
        ("object", '{"nested": {"at": 1}}', {"nested": {"at": 1}}),
        ("object", {1: [datetime(2024, 5, 1, tzinfo=UTC)]}, {"1": ["2024-05-01T00:00:00Z"]}),
    ],
)
def test_values_are_normalized_by_kind(kind: FieldKind, value: Any, expected: Any) -> None:
    normalized = normalize(kind, value)
    assert normalized == expected
    assert type(normalized) is type(expected)
    if isinstance(expected, Decimal):
        assert str(normalized) == str(expected)  # the same digits: the hash sees the text


@pytest.mark.parametrize("kind", ["string", "number", "integer", "datetime", "object"])
def test_none_is_absent_whatever_the_kind(kind: FieldKind) -> None:
    assert normalize(kind, None) is None


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("number", True, "amount: True is not a number"),
        ("number", "ten", "amount: 'ten' is not a number"),
        ("number", Decimal("NaN"), "amount: Decimal('NaN') is not a finite number"),
        ("number", "Infinity", "amount: 'Infinity' is not a finite number"),
        ("integer", False, "amount: False is not a number"),
        ("integer", Decimal("2.5"), "amount: Decimal('2.5') is not an integer"),
        ("datetime", "tomorrow", "amount: 'tomorrow' is not an ISO 8601 date-time"),
        ("object", "[1]", "amount: [1] is not a JSON object"),
        ("object", "{", "amount: '{' is not a JSON object"),
    ],
)
def test_a_value_its_kind_cannot_carry_is_a_body_error(
    kind: FieldKind, value: Any, message: str
) -> None:
    with pytest.raises(BodyError) as raised:
        normalize(kind, value, "amount")
    assert str(raised.value) == message
