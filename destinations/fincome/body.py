"""Canonical Fincome bodies: the exact JSON we send, and the hash the ledger keeps of it.

Rows reach the destination after a round trip through DuckDB and dlt, which turn ISO strings
into datetimes, JSON numbers into Decimals and nested Decimals into strings, and drop keys
whose value is None. `canonical_body` undoes all of that by field kind, so the transform's
hash of a row equals the destination's hash of the same row however it travelled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Context, Decimal, InvalidOperation
from typing import Any

import orjson

from destinations.fincome.schema import Collection, FieldKind, collection

_ONE = Decimal(1)
# Room for every digit a number can bring (DuckDB's DECIMAL(38,9) holds 38; Python's default
# context keeps 28, rounding the rest away or failing to write a long integer out plainly).
_EXACT = Context(prec=200)


class BodyError(ValueError):
    """A value that cannot be expressed as the field's JSON type."""


def canonical_body(name: str | Collection, row: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a create, and of an update (the seed's updates take every create field):
    only the seed's fields, values normalised by kind, None for absent.

    Embedded line items are not part of the body; see `embedded_rows`.
    """
    spec = collection(name) if isinstance(name, str) else name
    return {field: normalize(kind, row.get(field), field) for field, kind in spec.body_kinds}


def embedded_rows(name: str | Collection, row: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The child rows embedded in `row` (invoice or credit note lines), None when not given."""
    spec = collection(name) if isinstance(name, str) else name
    if spec.embedded is None or spec.embedded not in row:
        return None
    children = row[spec.embedded]
    if isinstance(children, str | bytes):
        children = orjson.loads(children)
    # null means "not given", like an absent key: dlt drops None keys, so the two must agree
    return None if children is None else list(children)


def body_hash(body: Mapping[str, Any]) -> str:
    """Stable content hash of a canonical body (embedded lines excluded): the ledger's."""
    plain = body if type(body) is dict else dict(body)  # orjson takes exact dicts only
    canonical = orjson.dumps(plain, default=_decimal_text, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:32]


def to_json(body: Any) -> bytes:
    """Serialise a canonical body; Decimals become JSON numbers with their exact digits.

    Raises `BodyError` for a Decimal no JSON number can carry exactly.
    """
    try:
        return orjson.dumps(body, default=_decimal_number)
    except orjson.JSONEncodeError as exc:
        # orjson wraps what `default` raises in its own TypeError; surface ours as it is
        if isinstance(exc.__cause__, BodyError):
            raise exc.__cause__ from None
        raise


def normalize(kind: FieldKind, value: Any, field: str = "?") -> Any:
    return None if value is None else _BY_KIND[kind](value, field)


def _string(value: Any, field: str) -> str:
    if type(value) is str:  # the common case first: no isinstance chain
        return value
    return _iso(value) if isinstance(value, datetime) else str(value)


def _number(value: Any, field: str) -> Decimal:
    if type(value) is int:
        return Decimal(value)  # already plain: no exponent, no trailing zeros
    if type(value) is Decimal:  # the common case: no conversion, no isinstance chain
        return _plain(value, field, value)
    return _decimal(value, field)


def _integer(value: Any, field: str) -> int:
    if type(value) is int:
        return value
    number = _decimal(value, field)
    if number != number.to_integral_value():
        raise BodyError(f"{field}: {value!r} is not an integer")
    return int(number)


def _datetime_text(value: Any, field: str) -> str:
    return _iso(_datetime(value, field))


def _object(value: Any, field: str) -> Any:
    if isinstance(value, str | bytes):  # a JSON column read back from DuckDB
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise BodyError(f"{field}: {value!r} is not a JSON object") from None
    if not isinstance(value, Mapping):
        raise BodyError(f"{field}: {value!r} is not a JSON object")
    return _json_value(value)


_BY_KIND: dict[FieldKind, Callable[[Any, str], Any]] = {
    "string": _string,
    "number": _number,
    "integer": _integer,
    "datetime": _datetime_text,
    "object": _object,
}


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool):
        raise BodyError(f"{field}: {value!r} is not a number")
    try:
        number = Decimal(value) if isinstance(value, Decimal | int | str) else Decimal(repr(value))
    except (InvalidOperation, ValueError, TypeError):
        raise BodyError(f"{field}: {value!r} is not a number") from None
    return _plain(number, field, value)


def _plain(number: Decimal, field: str, given: Any) -> Decimal:
    if not number.is_finite():
        raise BodyError(f"{field}: {given!r} is not a finite number")
    # 12.30 and 12.3 are the same amount: strip trailing zeros, keep plain notation
    normalized = number.normalize(_EXACT)
    if normalized == normalized.to_integral():
        return normalized.quantize(_ONE, context=_EXACT)
    return normalized


def _datetime(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BodyError(f"{field}: {value!r} is not an ISO 8601 date-time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise BodyError(f"{field}: {value!r} is not a date-time")


def _iso(moment: datetime) -> str:
    """`2024-05-01T00:00:00Z`, with `.ffffff` only when there are microseconds."""
    # isoformat, not strftime: the same text, about a quarter faster, on every timestamp
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


_AS_THEY_ARE = (str, int)  # exact types: a bool (an int too) takes the general path


def _json_value(value: Any) -> Any:
    """Free-form JSON (custom properties): decimals and datetimes become strings, as dlt does."""
    if isinstance(value, Mapping):
        # the transform's custom properties hold only text and ints: kept as they are
        return {str(k): v if type(v) in _AS_THEY_ARE else _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return value


def _decimal_text(value: Any) -> str:
    """Decimals hash as their plain text (orjson asks only for the types it lacks)."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decimal_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 2**53:
            return int(value)
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise BodyError(f"{value} has more digits than a JSON number can carry exactly")
        return orjson.Fragment(repr(as_float))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
