"""JSON in and out with exact money.

Bodies are parsed with the standard library and `parse_float=Decimal`, so `12.345678901234567`
stays that number (pydantic's and orjson's parsers go through a binary float). Responses are
written with orjson; Decimals become JSON numbers with their exact digits and date-times are
UTC with a `Z`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

from sandbox.fincome.errors import Invalid, error_item


def parse_body(raw: bytes) -> Any:
    """The request body as Python values, or the 422 FastAPI gives for a missing or bad body."""
    if not raw.strip():
        raise Invalid([error_item(["body"], "Field required", "missing")])
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise _json_invalid(exc.pos, exc.msg) from None
    except ValueError as exc:  # NaN/Infinity, or bytes that are not UTF-8/16/32
        raise _json_invalid(0, str(exc)) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_invalid(position: int, reason: str) -> Invalid:
    item = error_item(["body", position], "JSON decode error", "json_invalid", {})
    item["ctx"] = {"error": reason}
    return Invalid([item])


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_exact_number, option=orjson.OPT_UTC_Z)


def _exact_number(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"cannot serialise {type(value).__name__}")
