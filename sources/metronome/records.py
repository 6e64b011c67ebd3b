"""Record checks: what a staged row must hold, and the rejects for those that do not.

A record that cannot be staged faithfully (an invoice without its id, customer, status,
credit type or line items; a field of the wrong type; a value dlt or DuckDB cannot hold, such
as NaN or a 100-digit integer, see `stageable.py`) is set aside as an `ExtractReject` instead
of failing the run or landing half-typed in DuckDB. The checks are plain type tests, driven
by the column hints, and one walk over each record.
Fields nobody declared are not checked: a newer API may add whatever it likes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dlt.common.schema.typing import TColumnSchema

from sources.metronome.settings import (
    CONTRACT_COLUMNS,
    CREDIT_TYPE_COLUMNS,
    CUSTOMER_COLUMNS,
    CUSTOMER_PLAN_COLUMNS,
    INVOICE_COLUMNS,
    PLAN_CHARGE_COLUMNS,
    PLAN_COLUMNS,
)
from sources.metronome.stageable import (
    column_clash,
    first_unstageable,
    fitted_to_columns,
    is_timestamp,
    is_unicode,
    number_text_clash,
    storable,
)


@dataclass(frozen=True)
class ExtractReject:
    """A Metronome record that was not staged, and why."""

    collection: str  # the staged table it belongs to, e.g. "invoices"
    record_id: str  # its id, or a stable `no-id:<hash>` when it has none
    reason: str  # one line a person can act on
    payload: Any  # the record as Metronome sent it


RejectSink = Callable[[ExtractReject], None]

COLUMNS: dict[str, Mapping[str, TColumnSchema]] = {
    "customers": CUSTOMER_COLUMNS,
    "customer_plans": CUSTOMER_PLAN_COLUMNS,
    "plans": PLAN_COLUMNS,
    "plan_charges": PLAN_CHARGE_COLUMNS,
    "credit_types": CREDIT_TYPE_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "contracts": CONTRACT_COLUMNS,
}

# Fields without which a record means nothing downstream, with the type each must have.
REQUIRED: dict[str, dict[str, str]] = {
    "customers": {"id": "text", "name": "text"},
    "customer_plans": {"id": "text", "plan_id": "text"},
    "plans": {"id": "text"},
    "plan_charges": {"id": "text"},
    "credit_types": {"id": "text"},
    "invoices": {
        "id": "text",
        "customer_id": "text",
        "status": "text",
        "credit_type": "credit_type",
        "line_items": "line_items",
        "total": "decimal",
    },
    # the bundles file contracts by customer and order them by start
    "contracts": {"id": "text", "customer_id": "text", "starting_at": "timestamp"},
}


def _is_number(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, Decimal) and value.is_finite()
    )


def _is_credit_type(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("id"), str)
        and isinstance(value.get("name"), str)
    )


def _is_line_items(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(line, dict) and _is_number(line.get("total")) for line in value
    )


_TYPE_TESTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "decimal": (_is_number, "a finite number"),
    "timestamp": (is_timestamp, "an RFC 3339 timestamp from 1900 on"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    # a scalar in a JSON column would land in a variant column, and read back as null
    "json": (lambda v: isinstance(v, dict | list), "an object or a list"),
    "credit_type": (_is_credit_type, "an object with string id and name"),
    "line_items": (_is_line_items, "a list of objects with a numeric total"),
}


def check_record(collection: str, record: Any) -> str | None:
    """Why `record` cannot be staged in `collection`, or None when it can."""
    if not isinstance(record, dict):
        return f"expected an object, got {type(record).__name__}"
    for name, kind in REQUIRED[collection].items():
        if record.get(name) is None:
            return f"missing {name}"
        if problem := _type_problem(name, record[name], kind):
            return problem
    for name, hint in COLUMNS[collection].items():
        value = record.get(name)
        kind = hint.get("data_type") or "json"
        if kind == "text":  # may be empty (a plan without description), unlike a required one
            kind = "string"
        if value is not None and (problem := _type_problem(name, value, kind)):
            return problem
    typed = COLUMNS[collection].keys() | REQUIRED[collection].keys()
    return column_clash(record) or first_unstageable(record) or number_text_clash(record, typed)


def _type_problem(name: str, value: Any, kind: str) -> str | None:
    test, expected = _TYPE_TESTS[kind]
    if test(value):
        return None
    return f"{name} is {_shown(value)}, expected {expected}"


def _shown(value: Any) -> str:
    """A value for a reason: JSON (ASCII, one line), at most 60 characters."""
    shown = str(value) if isinstance(value, Decimal) else json.dumps(storable(value), default=str)
    return shown[:60]


def make_reject(collection: str, record: Any, reason: str) -> ExtractReject:
    """The reject, its payload as JSON can hold it (see `stageable.storable`)."""
    return ExtractReject(collection, record_key(record), reason, storable(record))


def record_key(record: Any) -> str:
    """The record's id, or a stable `no-id:<hash>` of its content when it has none
    (or one that is blank or not valid Unicode)."""
    record_id = record.get("id") if isinstance(record, dict) else None
    if isinstance(record_id, str) and record_id.strip() and is_unicode(record_id):
        return record_id
    content = json.dumps(storable(record), sort_keys=True, default=str)
    return f"no-id:{hashlib.sha256(content.encode()).hexdigest()[:16]}"


def split_valid(
    collection: str, records: list[Any], on_reject: RejectSink, *, listed_under: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The records that can be staged (as `fitted_to_columns` stages them), and how many
    were handed to `on_reject` instead.

    `listed_under`: the customer whose list the records came from; a record naming another
    customer is refused (staging files invoices by their `customer_id`, so one naming a
    customer that is not staged would be neither mapped nor rejected).
    """
    valid: list[dict[str, Any]] = []
    rejected = 0
    for record in records:
        problem = check_record(collection, record) or _owner_problem(record, listed_under)
        if problem is None:
            valid.append(fitted_to_columns(record))
        else:
            on_reject(make_reject(collection, record, problem))
            rejected += 1
    return valid, rejected


def _owner_problem(record: dict[str, Any], listed_under: str | None) -> str | None:
    owner = record.get("customer_id")
    if listed_under is None or owner == listed_under:
        return None
    return f"customer_id is {_shown(owner)}, but it was listed under {_shown(listed_under)}"
