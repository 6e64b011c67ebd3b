"""Small builders of API-shaped Metronome records for the transform tests.

Each builder returns the minimal valid record and takes overrides as keyword arguments, so a
test states only what it is about.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from destinations.fincome.ledger import Reject
from pipelines.transform.engine import DesiredState, desired_state
from pipelines.transform.inputs import StagedCatalog, StagedCustomer
from pipelines.transform.options import MappingOptions

Record = dict[str, Any]

USD_ID = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"
USD = {"id": USD_ID, "name": "USD (cents)"}
EUR = {"id": "ct-eur", "name": "EUR"}
JPY = {"id": "ct-jpy", "name": "JPY"}
KWD = {"id": "ct-kwd", "name": "KWD"}
CREDITS = {"id": "ct-credits", "name": "Cloud credits"}
AS_OF = datetime(2024, 6, 15, tzinfo=UTC)
D = Decimal


def customer(customer_id: str = "cus-1", **overrides: Any) -> Record:
    return {
        "id": customer_id,
        "name": "Acme",
        "external_id": "acme",
        "ingest_aliases": ["acme"],
        "custom_fields": {},
        "archived_at": None,
        **overrides,
    }


def customer_plan(plan_id: str = "plan-pro", **overrides: Any) -> Record:
    return {
        "id": "cp-1",
        "plan_id": plan_id,
        "plan_name": "Pro",
        "plan_description": "",
        "starting_on": "2024-01-01T00:00:00Z",
        "custom_fields": {},
        **overrides,
    }


def charge(charge_id: str = "ch-api", **overrides: Any) -> Record:
    return {
        "id": charge_id,
        "name": "API calls",
        "charge_type": "usage",
        "product_id": "prod-api",
        "product_name": "API",
        "credit_type": USD,
        "custom_fields": {},
        "prices": [{"tier": 0, "value": 2}],
        "plan_id": "plan-pro",
        **overrides,
    }


def catalog(*charges: Record, **plans: Record) -> StagedCatalog:
    charges = charges or (charge(),)
    all_plans = {"plan-pro": {"id": "plan-pro", "name": "Pro", "custom_fields": {}}, **plans}
    return StagedCatalog(
        plans=all_plans,
        plan_charges={c["id"]: c for c in charges},
        credit_types={
            USD_ID: {**USD, "is_currency": True},
            CREDITS["id"]: {**CREDITS, "is_currency": False},
        },
    )


def sub_line(subtotal: Any = 1000, **overrides: Any) -> Record:
    return {
        "name": "API calls",
        "charge_id": "ch-api",
        "quantity": 500,
        "subtotal": subtotal,
        "custom_fields": {},
        **overrides,
    }


def line(total: Any = 1000, subs: list[Record] | None = None, **overrides: Any) -> Record:
    item: Record = {
        "name": "API calls",
        "type": "usage",
        "total": total,
        "product_id": "prod-api",
        "credit_type": overrides.get("credit_type", USD),
        "custom_fields": {},
        "sub_line_items": [sub_line(total)] if subs is None else subs,
        **overrides,
    }
    return item


def invoice(
    invoice_id: str = "inv-1", lines: list[Record] | None = None, **overrides: Any
) -> Record:
    items = [line()] if lines is None else lines
    total = sum((D(str(item["total"])) for item in items), D(0))
    adjustments = overrides.get("invoice_adjustments", [])
    total += sum((D(str(a["total"])) for a in adjustments), D(0))
    return {
        "id": invoice_id,
        "customer_id": "cus-1",
        "type": "PLAN_ARREARS",
        "status": "FINALIZED",
        "credit_type": USD,
        "start_timestamp": "2024-03-01T00:00:00Z",
        "end_timestamp": "2024-04-01T00:00:00Z",
        "issued_at": "2024-04-02T00:00:00Z",
        "plan_id": "plan-pro",
        "plan_name": "Pro",
        "plan_custom_fields": {},
        "custom_fields": {},
        "line_items": items,
        "invoice_adjustments": adjustments,
        "total": total,
        **overrides,
    }


def run(
    *invoices: Record,
    plans: list[Record] | None = None,
    cat: StagedCatalog | None = None,
    options: MappingOptions | None = None,
    as_of: datetime = AS_OF,
    cust: Record | None = None,
) -> DesiredState:
    """Map one customer (with a customer plan on `plan-pro` unless told otherwise)."""
    bundle = StagedCustomer(
        cust or customer(), [customer_plan()] if plans is None else plans, list(invoices)
    )
    return desired_state(cat or catalog(), [bundle], options or MappingOptions(), as_of)


def rows(state: DesiredState, collection: str) -> list[Record]:
    return state.rows[collection]


def by_id(state: DesiredState, collection: str) -> dict[str, Record]:
    return {row["id"]: row for row in state.rows[collection]}


def reasons(state: DesiredState) -> list[str]:
    return [reject.reason for reject in state.rejects]


def only_reject(state: DesiredState) -> Reject:
    assert len(state.rejects) == 1, state.rejects
    return state.rejects[0]
