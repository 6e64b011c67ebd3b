"""The emulator's error answers, in FastAPI's exact shapes.

422: `{"detail": [{"type", "loc", "msg", "input", "ctx"?}]}`, the body FastAPI builds from a
pydantic `ValidationError` (loc starts with "body", "query" or "path"); the emulator's own
checks use the same shape with their own `type`s:

| type | meaning |
|---|---|
| `reference_not_found` | a reference field names a parent that is not stored |
| `parent_mismatch` | an embedded line's `invoice_id`/`credit_note_id` is not its parent's id |
| `duplicate_id` | two embedded lines of one request share an id |
| `null_not_allowed` | an update sets null on a field the create requires |
| `id_mismatch` | an update body's `id` differs from the id in the path |
| `invalid_period` | a `subscription` line without `period_start < period_end` |
| `unknown_dimension`, `unknown_column` | read API: a dimension / column that does not exist |
| `invalid_filter` | read API: a filter that is not a JSON array of `{field, op, value}` |
| `fx_rate_not_found` | read API: a total across currencies needs a rate the table lacks |
| `date_range` | read API: `date_end` falls in a period before `date_start`'s |

404, 409 and 401 answer `{"detail": "<sentence>"}`, like FastAPI's `HTTPException`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

ErrorItem = dict[str, Any]
Loc = Sequence[str | int]


def error_item(loc: Loc, msg: str, type_: str, input_: Any = None) -> ErrorItem:
    return {"type": type_, "loc": list(loc), "msg": msg, "input": input_}


def from_validation_error(exc: ValidationError, prefix: Loc) -> list[ErrorItem]:
    """pydantic's errors as FastAPI reports them: loc prefixed, no documentation URL."""
    items = []
    for raw in exc.errors(include_url=False):
        item: ErrorItem = {
            "type": raw["type"],
            "loc": [*prefix, *raw["loc"]],
            "msg": raw["msg"],
            "input": raw.get("input"),
        }
        if "ctx" in raw:
            item["ctx"] = {key: _json_safe(value) for key, value in raw["ctx"].items()}
        items.append(item)
    return items


def _json_safe(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


class ApiError(Exception):
    """An answer other than success; `detail` is the JSON `detail` member."""

    status_code = 400

    def __init__(self, detail: str | list[ErrorItem]) -> None:
        super().__init__(detail)
        self.detail = detail


class Invalid(ApiError):
    status_code = 422

    def __init__(self, errors: list[ErrorItem]) -> None:
        super().__init__(errors)


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409
