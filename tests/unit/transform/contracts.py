"""Builders of contract-era Metronome records, checked against the official SDK's models.

Every invoice and contract built here passes `metronome.types.v1.customers.invoice.Invoice`
(or `metronome.types.shared.contract_v2.ContractV2`) `model_validate`, so the transform tests
feed it what Metronome really sends. Money stays Decimal (the SDK parses it as float; the
check sees it as text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from metronome.types.shared.contract_v2 import ContractV2
from metronome.types.v1.customers.invoice import Invoice

from pipelines.transform.engine import DesiredState, desired_state
from pipelines.transform.inputs import StagedCustomer
from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import CREDITS, USD, catalog, customer

Record = dict[str, Any]
D = Decimal
AS_OF = datetime(2024, 6, 15, tzinfo=UTC)
MARCH = ("2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z")
# Lists ContractV2 requires (`metronome/types/shared/contract_v2.py`), empty.
EMPTY_CONTRACT_TERMS: Record = {
    "commits": [],
    "overrides": [],
    "scheduled_charges": [],
    "transitions": [],
    "usage_filter": [],
}


def _wire(value: Record) -> Record:
    """The record as JSON would carry it (Decimals as numbers, datetimes as text)."""
    return orjson.loads(orjson.dumps(value, default=float))  # type: ignore[no-any-return]


def checked_invoice(value: Record) -> Record:
    Invoice.model_validate(_wire(value), strict=False)
    return value


def checked_contract(value: Record) -> Record:
    ContractV2.model_validate(_wire(value), strict=False)
    return value


def item(kind: str, total: Any, period: tuple[str, str] | None = MARCH, **fields: Any) -> Record:
    """A line item of Metronome type `kind` (in USD cents unless told)."""
    line: Record = {
        "name": fields.pop("name", kind.replace("_", " ").title()),
        "type": kind,
        "total": D(str(total)),
        "credit_type": fields.pop("credit_type", USD),
        "product_id": fields.pop("product_id", f"prod-{kind}"),
    }
    if period is not None:
        line["starting_at"], line["ending_before"] = period
    return {**line, **fields}


def usage(total: Any, period: tuple[str, str] | None = MARCH, **fields: Any) -> Record:
    return item("usage", total, period, quantity=D(100), **fields)


def subscription(
    total: Any,
    period: tuple[str, str] | None = MARCH,
    subscription_id: str = "sub-1",
    *,
    prorated: bool = False,
    **fields: Any,
) -> Record:
    return item(
        "subscription",
        total,
        period,
        subscription_id=subscription_id,
        is_prorated=prorated,
        quantity=D(1),
        product_id="prod-seat",
        **fields,
    )


def scheduled(total: Any, **fields: Any) -> Record:
    return item("scheduled", total, None, scheduled_charge_id="sc-1", **fields)


def commit_purchase(total: Any, **fields: Any) -> Record:
    return item("commit_purchase", total, None, commit_id="commit-1", **fields)


def applied(total: Any, kind: str = "PREPAID", **fields: Any) -> Record:
    detail = {"id": f"{kind.lower()}-1", "type": kind, "access_type": "SPEND"}
    return item("applied_commit_or_credit", total, MARCH, applied_commit_or_credit=detail, **fields)


def cpu_conversion(total: Any, **fields: Any) -> Record:
    return item("cpu_conversion", total, MARCH, **fields)


def custom_unit_usage(total: Any, **fields: Any) -> Record:
    """Usage priced in a custom pricing unit (CREDITS), on a fiat invoice."""
    return usage(total, credit_type=CREDITS, **fields)


def _counts_in_total(line: Record, invoice_credit_type: Record) -> bool:
    detail = line.get("applied_commit_or_credit") or {}
    same_unit = line["credit_type"]["id"] == invoice_credit_type["id"]
    return same_unit and detail.get("type") != "POSTPAID"


def contract_invoice(
    invoice_id: str = "inv-1", lines: list[Record] | None = None, **overrides: Any
) -> Record:
    """A FINALIZED USAGE invoice of contract `k-1` for March 2024, total = its fiat lines."""
    items = [usage(1000)] if lines is None else lines
    credit_type = overrides.get("credit_type", USD)
    total = sum((x["total"] for x in items if _counts_in_total(x, credit_type)), D(0))
    return checked_invoice(
        {
            "id": invoice_id,
            "customer_id": "cus-1",
            "contract_id": "k-1",
            "type": "USAGE",
            "status": "FINALIZED",
            "credit_type": USD,
            "start_timestamp": MARCH[0],
            "end_timestamp": MARCH[1],
            "issued_at": MARCH[1],
            "line_items": items,
            "total": total,
            "subtotal": total,
            **overrides,
        }
    )


def contract_subscription(
    subscription_id: str = "sub-1",
    starting_at: str = "2024-01-01T00:00:00Z",
    ending_before: str | None = None,
    frequency: str = "MONTHLY",
    **fields: Any,
) -> Record:
    return {
        "id": subscription_id,
        "name": "Seats",
        "starting_at": starting_at,
        "ending_before": ending_before,
        "collection_schedule": "ADVANCE",
        "created_at": starting_at,
        "proration": {"invoice_behavior": "BILL_IMMEDIATELY", "is_prorated": True},
        "quantity_management_mode": "QUANTITY_ONLY",
        "quantity_schedule": [{"quantity": 1, "starting_at": starting_at}],
        "subscription_rate": {
            "billing_frequency": frequency,
            "product": {"id": "prod-seat", "name": "Seat"},
        },
        "billing_periods": {},
        "custom_fields": {},
        **fields,
    }


def contract(
    contract_id: str = "k-1", subscriptions: list[Record] | None = None, **fields: Any
) -> Record:
    return checked_contract(
        {
            "id": contract_id,
            "customer_id": "cus-1",
            "starting_at": "2024-01-01T00:00:00Z",
            "created_at": "2024-01-01T00:00:00Z",
            "created_by": "tests",
            **EMPTY_CONTRACT_TERMS,
            "usage_statement_schedule": {
                "frequency": "MONTHLY",
                "billing_anchor_date": "2024-01-01T00:00:00Z",
            },
            "subscriptions": subscriptions if subscriptions is not None else [],
            "custom_fields": {},
            **fields,
        }
    )


def run_contracts(
    *invoices: Record,
    contracts: list[Record] | None = None,
    options: MappingOptions | None = None,
    as_of: datetime = AS_OF,
    cust: Record | None = None,
) -> DesiredState:
    """Map one contract customer (contract `k-1` with subscription `sub-1` unless told)."""
    staged = [contract(subscriptions=[contract_subscription()])] if contracts is None else contracts
    bundle = StagedCustomer(cust or customer(), (), list(invoices), staged)
    return desired_state(catalog(), [bundle], options or MappingOptions(), as_of)


def lines_of(state: DesiredState, invoice_id: str = "inv-1") -> list[Record]:
    return [row for row in state.rows["invoice_line_items"] if row["invoice_id"] == invoice_id]


def subscription_row(state: DesiredState, subscription_id: str) -> Record:
    [row] = [row for row in state.rows["subscriptions"] if row["id"] == subscription_id]
    return row
