"""Metronome's wire conventions: exact JSON numbers, RFC 3339 timestamps, UUIDs, cursors.

Money and quantities are `Decimal` everywhere inside the emulator; `to_json` writes each one
as a JSON number with its exact digits (an integer when integral, else its plain decimal
text), so 1234.5 cents or 12.75 GB reach the client without a float round trip.
"""

from __future__ import annotations

import base64
import binascii
import functools
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

USD_CENTS_ID = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"
_CURSOR_PREFIX = "mcur1:"
_CURSOR_SEPARATOR = "\x1f"


def _exact_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(decimal_text(value))
    raise TypeError(f"cannot serialise {type(value).__name__}")


def decimal_text(value: Decimal) -> str:
    """The shortest exact JSON number text of a Decimal: `1234.5`, `-300`, `0`."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def to_json(payload: Any) -> bytes:
    return orjson.dumps(payload, default=_exact_number)


@functools.lru_cache(maxsize=8192)  # the same period boundaries recur on every invoice
def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, second precision, as Metronome's examples write it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime | None:
    """Parse RFC 3339 (a bare date counts as midnight UTC); None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng`, so a seed fixes every id."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def encode_cursor(*parts: str) -> str:
    """An opaque `next_page` token carrying the sort key of the last item served."""
    raw = (_CURSOR_PREFIX + _CURSOR_SEPARATOR.join(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, parts: int) -> list[str] | None:
    """The sort key inside a token made by `encode_cursor`; None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith(_CURSOR_PREFIX):
        return None
    fields = raw[len(_CURSOR_PREFIX) :].split(_CURSOR_SEPARATOR)
    return fields if len(fields) == parts else None
