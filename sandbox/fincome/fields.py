"""Field types of Fincome bodies, stricter than pydantic's lax mode on purpose.

Bodies are parsed with `parse_float=Decimal` (see `wire.py`), so JSON numbers arrive as `int`
or `Decimal` and money keeps every digit. On top of what the real (FastAPI/pydantic) service
accepts, the emulator refuses what a sloppy client would get away with there: a numeric
string or a bool where a number is expected, a fractional number where an integer is expected,
a Unix timestamp (number or digit string) where an ISO 8601 date-time is expected. Error
`type`s and messages are pydantic's own for the same mistake.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

_ISO_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise PydanticCustomError("float_type", "Input should be a valid number")
    return Decimal(value)


def _integer(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        raise PydanticCustomError(
            "int_from_float", "Input should be a valid integer, got a number with a fractional part"
        )
    raise PydanticCustomError("int_type", "Input should be a valid integer")


def _iso_text(value: object) -> object:
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "Input should be a valid datetime")
    if not _ISO_DATE_PREFIX.match(value):
        raise PydanticCustomError(
            "datetime_parsing", "Input should be a valid datetime, expected an ISO 8601 date-time"
        )
    return value


def _as_utc(value: datetime) -> datetime:
    """Naive date-times are read as UTC, as the seed's 'date (UTC)' descriptions say."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = Annotated[str, StringConstraints(min_length=1)]
Money = Annotated[Decimal, PlainValidator(_number)]
Integer = Annotated[int, PlainValidator(_integer)]
DateTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_as_utc)]
Properties = dict[str, Any]
