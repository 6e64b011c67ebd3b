"""Structured filters of the read API: a JSON array of `{field, op, value}` (no raw SQL).

| op | keeps a row when its value ... |
|---|---|
| `eq` / `neq` | equals / differs from `value` (null equals only null) |
| `gt` `gte` `lt` `lte` | compares so with `value` (a null never matches) |
| `in` / `not_in` | is / is not one of `value` (a JSON array) |
| `contains` | text containing `value`, or an object having the key `value` |
| `is_null` | is null when `value` is true (the default), is not null when false |

The caller says which fields exist and turns each `value` into the field's type, so a view
compares numbers as numbers and date-times as date-times. A bad filter answers 422 with a loc
under `["query", "filters", i]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from sandbox.fincome.errors import Invalid, error_item, from_validation_error

Op = Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "is_null"]
LIST_OPS = frozenset({"in", "not_in"})


class _Clause(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    op: Op
    value: Any = None


_CLAUSES: TypeAdapter[list[_Clause]] = TypeAdapter(list[_Clause])


@dataclass(frozen=True)
class Filter:
    field: str
    op: Op
    value: Any

    def keeps(self, actual: Any) -> bool:
        return _TESTS[self.op](actual, self.value)


Coerce = Callable[[str, Any], Any]  # (field, JSON value) -> typed value; ValueError if not


def parse_filters(raw: str | None, fields: set[str], coerce: Coerce) -> list[Filter]:
    if raw is None or not raw.strip():
        return []
    try:
        clauses = _CLAUSES.validate_python(json.loads(raw, parse_float=Decimal))
    except json.JSONDecodeError as exc:
        msg = f"Filters must be a JSON array of {{field, op, value}}: {exc.msg}"
        raise Invalid([error_item(["query", "filters"], msg, "invalid_filter", raw)]) from None
    except ValidationError as exc:
        raise Invalid(from_validation_error(exc, ["query", "filters"])) from None
    return [_typed(index, clause, fields, coerce) for index, clause in enumerate(clauses)]


def _typed(index: int, clause: _Clause, fields: set[str], coerce: Coerce) -> Filter:
    loc: list[str | int] = ["query", "filters", index]
    if clause.field not in fields:
        msg = f"Unknown field {clause.field!r}; one of: {', '.join(sorted(fields))}"
        raise Invalid([error_item([*loc, "field"], msg, "invalid_filter", clause.field)])
    value = clause.value
    try:
        if clause.op == "is_null":
            value = _flag(value)
        elif clause.op in LIST_OPS:
            if not isinstance(value, list):
                raise ValueError(f"{clause.op} needs a JSON array")
            value = [coerce(clause.field, item) for item in value]
        else:
            value = coerce(clause.field, value)
    except (ValueError, TypeError) as exc:
        raise Invalid(
            [error_item([*loc, "value"], str(exc), "invalid_filter", clause.value)]
        ) from None
    return Filter(clause.field, clause.op, value)


def _flag(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError("is_null takes true or false")
    return value


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def keeps(actual: Any, expected: Any) -> bool:
        return actual is not None and expected is not None and test(actual, expected)

    return keeps


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str | dict | list):
        return expected in actual
    return False


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda actual, expected: actual == expected,
    "neq": lambda actual, expected: actual != expected,
    "gt": _compare(lambda actual, expected: actual > expected),
    "gte": _compare(lambda actual, expected: actual >= expected),
    "lt": _compare(lambda actual, expected: actual < expected),
    "lte": _compare(lambda actual, expected: actual <= expected),
    "in": lambda actual, expected: actual in expected,
    "not_in": lambda actual, expected: actual not in expected,
    "contains": _contains,
    "is_null": lambda actual, expected: (actual is None) == expected,
}
