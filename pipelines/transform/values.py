"""Reading untrusted staged values: numbers, timestamps, text, custom properties.

Staging hands the mapping API-shaped dicts whose leaves may be `int`, `Decimal`, numeric
strings (dlt writes nested Decimals as strings), ISO strings or `datetime`s, and in bad data
anything else. Every reader here either returns a clean value or raises `MappingError`, whose
message becomes the reject reason, so the mapping never fails on a value it did not expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Context, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

import orjson

Row = dict[str, Any]

# Integers beyond this lose precision as JSON numbers read back by the destination.
MAX_EXACT_INT = 2**53
# Staged numbers must lie within 1e-40 .. 1e31: far beyond any real amount or quantity, and
# small enough that money arithmetic (see money.MONEY_CONTEXT) stays exact.
MIN_ADJUSTED = -40
MAX_ADJUSTED = 30
# No billing date lies before this; it also keeps every year at four digits, which ISO 8601
# needs (strftime("%Y") writes year 1 as "1" on Linux, and Fincome refuses that).
MIN_YEAR = 1900
_EMPTY: Mapping[str, Any] = MappingProxyType({})
# Enough digits to write any staged number out exactly.
_EXACT = Context(prec=200)


class MappingError(ValueError):
    """A record the mapping cannot represent; the message is the reject reason."""


def to_decimal(value: object, what: str = "value") -> Decimal:
    """An exact, finite Decimal from an int, Decimal, numeric string or float."""
    if isinstance(value, bool):
        raise MappingError(f"{what} is not a number: {value!r}")
    number: Decimal
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str) and len(value) <= 100:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise MappingError(f"{what} is not a number: {preview(value)}") from None
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise MappingError(f"{what} is not a number: {preview(value)}")
    if not number.is_finite():
        raise MappingError(f"{what} is not a finite number: {preview(value)}")
    if number and not MIN_ADJUSTED <= number.adjusted() <= MAX_ADJUSTED:
        raise MappingError(f"{what} is out of range: {preview(value)}")
    return number


def optional_decimal(value: object, what: str) -> Decimal | None:
    return None if value is None else to_decimal(value, what)


def to_datetime(value: object, what: str) -> datetime:
    """A UTC-aware datetime from a datetime, a date or an ISO 8601 string."""
    moment = _as_datetime(value)
    if moment is None:
        raise MappingError(f"{what} is not an ISO 8601 date-time: {preview(value)}")
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 lies beyond year 9999 in UTC
        utc = None
    if utc is None or utc.year < MIN_YEAR:
        raise MappingError(f"{what} is out of range: {preview(value)}")
    return utc


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str) and len(value) <= 64:
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def optional_datetime(value: object, what: str) -> datetime | None:
    return None if value is None else to_datetime(value, what)


def record(value: object, what: str) -> Mapping[str, Any]:
    """The value as a JSON object; a JSON string is parsed (a column read back as text)."""
    if type(value) is dict:  # the common case, without the slower ABC check below
        return value
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise MappingError(f"{what} is not a JSON object: {preview(value)}") from None
    if not isinstance(value, Mapping):
        raise MappingError(f"{what} is not a JSON object: {preview(value)}")
    return value


def optional_record(value: object, what: str) -> Mapping[str, Any]:
    """Like `record`, but None (absent) is an empty object."""
    return _EMPTY if value is None else record(value, what)


def records(value: object, what: str) -> list[Mapping[str, Any]]:
    """A JSON array of objects (None is empty); a JSON string is parsed."""
    if value is None:
        return []
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise MappingError(f"{what} is not a JSON array: {preview(value)}") from None
    if not isinstance(value, list | tuple):
        raise MappingError(f"{what} is not a JSON array: {preview(value)}")
    return [record(item, f"{what}[{index}]") for index, item in enumerate(value)]


def identifier(value: object, what: str) -> str:
    """A required id: a non-empty string."""
    if isinstance(value, str) and value.strip():
        return clean_text(value)
    raise MappingError(f"{what} is missing or not a non-empty string: {preview(value)}")


def optional_identifier(value: object) -> str | None:
    """An optional id: a non-empty string, else None."""
    return clean_text(value) if isinstance(value, str) and value.strip() else None


def text(value: object) -> str | None:
    """Descriptive text: strings as they are, numbers written out, anything else None."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    return None


def int_text(value: int) -> str:
    """Digits of an int of any size (str() refuses ints beyond 4,300 digits)."""
    return str(value) if value.bit_length() <= 1000 else str(Decimal(value))


def clean_text(value: str) -> str:
    """Text that survives JSON and DuckDB: lone surrogates become '?'."""
    if value.isascii():
        return value
    return value.encode("utf-8", "replace").decode("utf-8")


def custom_properties(*sources: Mapping[str, Any]) -> Row:
    """Merge custom field maps into Fincome custom properties (later sources win).

    Values become strings or safe integers only: Decimals, floats and nested structures do not
    survive dlt's JSON round trip identically, so the hash would drift between runs.
    """
    merged: Row = {}
    for source in sources:
        for key, value in source.items():
            flat = property_value(value)
            if flat is not None:
                merged[clean_text(key) if isinstance(key, str) else safe_repr(key)] = flat
    return merged


def custom_fields(value: object, what: str) -> Mapping[str, Any]:
    """A custom field map from staging; a malformed one is a reject (it carries user data)."""
    return optional_record(value, what)


def property_value(value: object) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value if abs(value) < MAX_EXACT_INT else int_text(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Decimal | float):
        return decimal_text(Decimal(repr(value)) if isinstance(value, float) else value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        nested = orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # ints beyond 64 bits, non-string keys, nesting deeper than 254
        return safe_repr(value)
    return clean_text(nested.decode("utf-8"))


def decimal_text(value: Decimal) -> str:
    """Plain text of a Decimal without exponent or trailing zeros: `12.5`, `-3`, `NaN`."""
    if not value.is_finite() or abs(value.adjusted()) > MAX_ADJUSTED + 10:
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.normalize(_EXACT):f}"


def safe_repr(value: object) -> str:
    """repr() that cannot fail (huge ints and deep nesting make the builtin raise)."""
    try:
        return clean_text(repr(value))
    except (ValueError, RecursionError):
        return f"<unprintable {type(value).__name__}>"


def shown(value: str) -> str:
    """Text for a reject reason: as it is when short and printable, else an escaped preview."""
    return value if len(value) <= 60 and value.isprintable() else preview(value)


def preview(value: object) -> str:
    """repr() for a reject reason: escaped, one line, at most 60 characters."""
    escaped = safe_repr(value)
    return escaped if len(escaped) <= 60 else escaped[:57] + "..."
