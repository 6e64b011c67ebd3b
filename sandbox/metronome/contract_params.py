"""The JSON bodies of `POST /v2/contracts/list` and `/v2/contracts/get`, validated, else 400.

As the SDK sends them (types/v2/contract_list_params.py, contract_retrieve_params.py):
`customer_id` required; `limit` 1-20 (default 20; the SDK types it a number, so an integral
float is accepted); `cursor` from the previous page; `covering_date` (contracts active then)
or `starting_at` (contracts starting then or later), not both; `include_archived`,
`include_balance`, `include_ledgers` booleans. `/get` takes `contract_id` and `as_of_date`
(the contract rendered at that moment; not with `include_ledgers`). Unknown fields are a
400 rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from sandbox.metronome.errors import BadRequest
from sandbox.metronome.wire import parse_timestamp

MAX_CONTRACTS_LIMIT = 20
_LIST_FIELDS = {
    "customer_id", "limit", "cursor", "covering_date", "starting_at", "include_archived",
    "include_balance", "include_ledgers",
}  # fmt: skip
_GET_FIELDS = {"customer_id", "contract_id", "as_of_date", "include_balance", "include_ledgers"}


@dataclass(frozen=True)
class ContractListQuery:
    customer_id: str
    limit: int = MAX_CONTRACTS_LIMIT
    cursor: str | None = None
    covering_date: datetime | None = None
    starting_at: datetime | None = None
    include_archived: bool = False
    include_balance: bool = False
    include_ledgers: bool = False


@dataclass(frozen=True)
class ContractGetQuery:
    customer_id: str
    contract_id: str
    as_of_date: datetime | None = None
    include_balance: bool = False
    include_ledgers: bool = False


def contract_list_query(raw: bytes) -> ContractListQuery:
    body = _body(raw, _LIST_FIELDS)
    covering, starting = _moment(body, "covering_date"), _moment(body, "starting_at")
    if covering is not None and starting is not None:
        raise BadRequest("covering_date and starting_at cannot be used together")
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise BadRequest("cursor must be a string")
    return ContractListQuery(
        customer_id=_required(body, "customer_id"),
        limit=_limit(body.get("limit", MAX_CONTRACTS_LIMIT)),
        cursor=cursor or None,
        covering_date=covering,
        starting_at=starting,
        include_archived=_flag(body, "include_archived"),
        include_balance=_flag(body, "include_balance"),
        include_ledgers=_flag(body, "include_ledgers"),
    )


def contract_get_query(raw: bytes) -> ContractGetQuery:
    body = _body(raw, _GET_FIELDS)
    query = ContractGetQuery(
        customer_id=_required(body, "customer_id"),
        contract_id=_required(body, "contract_id"),
        as_of_date=_moment(body, "as_of_date"),
        include_balance=_flag(body, "include_balance"),
        include_ledgers=_flag(body, "include_ledgers"),
    )
    if query.as_of_date is not None and query.include_ledgers:
        raise BadRequest("as_of_date cannot be used with include_ledgers")
    return query


def _body(raw: bytes, allowed: set[str]) -> dict[str, Any]:
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    return body


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required")
    return value


def _limit(value: Any) -> int:
    integral = (
        isinstance(value, int | float) and not isinstance(value, bool) and value == int(value)
    )
    if not integral or not 1 <= value <= MAX_CONTRACTS_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_CONTRACTS_LIMIT}, got {value!r}")
    return int(value)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false")
    return value


def _moment(body: dict[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise BadRequest(f"{name} must be an RFC 3339 timestamp, got {value!r}")
    return moment
