"""SDK-shaped contracts and a proxy that serves them by `POST /v2/contracts/list`.

`contract(...)` builds a ContractV2 as `metronome-sdk` 4.12.0 types it
(`metronome/types/shared/contract_v2.py`: every required field, a subscription with its
proration, quantity schedule and rate); `ContractsProxy` answers the contract list itself,
paging the way the SDK's `SyncBodyCursorPageCursorField` reads it (`limit` 1-20 and `cursor`
in the JSON body, the next `cursor` at the top of the answer, null on the last page), and
forwards everything else to the Metronome emulator. Tests use it to exercise the source's
contract paging whatever the emulator serves.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from metronome.types.shared.contract_v2 import ContractV2

from tests.hostile.servers import Reply, Request, ScriptedServer, forward, json_reply
from tests.unit.transform.contracts import EMPTY_CONTRACT_TERMS

CONTRACTS_PATH = "/v2/contracts/list"
Contract = dict[str, Any]


def contract(
    customer_id: str,
    number: int,
    *,
    starting_at: str = "2026-01-01T00:00:00Z",
    archived_at: str | None = None,
    **fields: Any,
) -> Contract:
    """A contract the SDK validates, with one ADVANCE monthly subscription."""
    contract_id = f"contract-{customer_id}-{number:02d}"
    record: Contract = {
        "id": contract_id,
        "customer_id": customer_id,
        "starting_at": starting_at,
        "created_at": "2025-12-20T10:00:00Z",
        "created_by": "billing@example.com",
        "name": f"Contract {number}",
        **EMPTY_CONTRACT_TERMS,
        "usage_statement_schedule": {
            "billing_anchor_date": starting_at,
            "frequency": "MONTHLY",
        },
        "total_contract_value": 12000.5,
        "subscriptions": [
            {
                "id": f"sub-{contract_id}",
                "billing_periods": {},
                "collection_schedule": "ADVANCE",
                "created_at": "2025-12-20T10:00:00Z",
                "proration": {"invoice_behavior": "BILL_IMMEDIATELY", "is_prorated": True},
                "quantity_management_mode": "QUANTITY_ONLY",
                "quantity_schedule": [{"quantity": 3, "starting_at": starting_at}],
                "starting_at": starting_at,
                "subscription_rate": {
                    "billing_frequency": "MONTHLY",
                    "product": {"id": "product-seats", "name": "Seats"},
                },
            }
        ],
        **fields,
    }
    if archived_at is not None:
        record["archived_at"] = archived_at
    return record


def sdk_valid(record: Contract) -> bool:
    ContractV2.model_validate(record)
    return True


def cursor_for(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def offset_of(cursor: str | None) -> int:
    return int(base64.urlsafe_b64decode(cursor).decode().split(":")[1]) if cursor else 0


Glitch = Callable[[Request], Reply | None]


class ContractsProxy:
    """The emulator, with `POST /v2/contracts/list` answered from `contracts` (by customer).

    `glitch(request)` may answer any request instead (None: answer normally).
    """

    def __init__(self, upstream: str, contracts: dict[str, list[Contract]]) -> None:
        self.upstream = upstream
        self.contracts = contracts
        self.glitch: Glitch = lambda request: None
        self.server = ScriptedServer(self._answer)

    def _answer(self, request: Request) -> Reply:
        if (reply := self.glitch(request)) is not None:
            return reply
        if request.path == CONTRACTS_PATH:
            return self.contract_page(request)
        return forward(request, self.upstream)

    def contract_page(self, request: Request) -> Reply:
        if request.method != "POST":
            return json_reply({"message": "Method Not Allowed"}, 405)
        body = request.json() or {}
        limit = body.get("limit", 20)
        if not isinstance(limit, int) or not 1 <= limit <= 20:
            return json_reply({"message": f"limit must be between 1 and 20, got {limit}"}, 400)
        if not isinstance(body.get("customer_id"), str):
            return json_reply({"message": "customer_id is required"}, 400)
        listed = [
            record
            for record in self.contracts.get(body["customer_id"], [])
            if body.get("include_archived") or not record.get("archived_at")
        ]
        start = offset_of(body.get("cursor"))
        end = start + limit
        following = cursor_for(end) if end < len(listed) else None
        return json_reply({"data": listed[start:end], "cursor": following})

    def contract_requests(self) -> list[Request]:
        return self.server.seen("POST", CONTRACTS_PATH)
