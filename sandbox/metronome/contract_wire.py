"""A contract as `POST /v2/contracts/list` serves it: the SDK's ContractV2.

What depends on the clock is rendered at `now`: a subscription's `billing_periods`
(previous, current, next) and its `quantity_schedule` (the current quantity and future
changes only, as Metronome documents), the `invoice_id` of schedule items already invoiced,
and, when asked, commit and credit `balance` and `ledger` (segment starts, deductions by
finalized invoices, the postpaid true-up).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.metronome.contract_invoices import applied_by_commit, postpaid_shortfall
from sandbox.metronome.contracts import (
    Contract,
    ContractCommit,
    ContractSubscription,
    ScheduledCharge,
)
from sandbox.metronome.periods import Period, add_months
from sandbox.metronome.wire import iso

CREATED_BY = "revops@emulator.example.com"
ZERO = Decimal(0)


def contract_to_api(
    contract: Contract, now: datetime, *, balance: bool = False, ledgers: bool = False
) -> dict[str, Any]:
    commits = [c for c in contract.commits if c.kind != "CREDIT"]
    credits = [c for c in contract.commits if c.kind == "CREDIT"]
    body: dict[str, Any] = {
        "id": contract.id,
        "customer_id": contract.customer_id,
        "name": contract.name,
        "created_at": iso(contract.created_at),
        "created_by": CREATED_BY,
        "starting_at": iso(contract.starting_at),
        "rate_card_id": contract.rate_card_id,
        "net_payment_terms_days": contract.net_payment_terms_days,
        "custom_fields": contract.custom_fields,
        "usage_statement_schedule": {
            "billing_anchor_date": iso(contract.starting_at),
            "frequency": "MONTHLY",
        },
        "subscriptions": [_subscription(s, contract, now) for s in contract.subscriptions],
        "commits": [_commit(c, contract, now, balance, ledgers) for c in commits],
        "credits": [_commit(c, contract, now, balance, ledgers) for c in credits],
        "scheduled_charges": [
            _scheduled_charge(charge, contract, now) for charge in contract.scheduled_charges
        ],
        "overrides": [],
        "transitions": [],
        "usage_filter": [],
    }
    if contract.ending_before is not None:
        body["ending_before"] = iso(contract.ending_before)
    if contract.archived_at is not None:
        body["archived_at"] = iso(contract.archived_at)
    if contract.children:
        children = [{"contract_id": c, "customer_id": u} for c, u in contract.children]
        body["hierarchy_configuration"] = {
            "children": children,
            "parent_behavior": {"invoice_consolidation_type": "CONCATENATE"},
        }
    elif contract.parent is not None:
        body["hierarchy_configuration"] = {
            "parent": {"contract_id": contract.parent[0], "customer_id": contract.parent[1]},
            "payer": "PARENT",
            "usage_statement_behavior": "CONSOLIDATE",
        }
    return body


def _subscription(
    subscription: ContractSubscription, contract: Contract, now: datetime
) -> dict[str, Any]:
    product = subscription.product
    behavior = (
        "BILL_ON_NEXT_COLLECTION_DATE"
        if subscription.prorate_on_next_invoice
        else "BILL_IMMEDIATELY"
    )
    body: dict[str, Any] = {
        "id": subscription.id,
        "name": product.name,
        "created_at": iso(contract.created_at),
        "starting_at": iso(subscription.starting_at),
        "collection_schedule": subscription.collection,
        "proration": {
            "invoice_behavior": behavior,
            "is_prorated": True,
            "rounding": {"decimal_places": 2, "rounding_method": "HALF_UP"},
        },
        "quantity_management_mode": "SEAT_BASED" if subscription.seat_based else "QUANTITY_ONLY",
        "quantity_schedule": _quantity_schedule(subscription, now),
        "subscription_rate": {"billing_frequency": product.frequency, "product": product.ref()},
        "billing_periods": _billing_periods(subscription, now),
        "fiat_credit_type_id": product.credit_type.id,
        "custom_fields": {},
    }
    if subscription.seat_based:
        body["seat_config"] = {"seat_group_key": "user_id"}
    if subscription.ending_before is not None:
        body["ending_before"] = iso(subscription.ending_before)
    return body


def _quantity_schedule(subscription: ContractSubscription, now: datetime) -> list[dict[str, Any]]:
    entries = []
    ends = [start for start, _ in subscription.quantities[1:]] + [subscription.ending_before]
    for (start, quantity), end in zip(subscription.quantities, ends, strict=True):
        if end is not None and end <= now:
            continue  # past quantities are not listed
        entry: dict[str, Any] = {"quantity": quantity, "starting_at": iso(start)}
        if end is not None:
            entry["ending_before"] = iso(end)
        entries.append(entry)
    return entries


def _billing_periods(subscription: ContractSubscription, now: datetime) -> dict[str, Any]:
    horizon = add_months(max(now, subscription.starting_at), 2 * subscription.months)
    periods = subscription.periods(horizon)
    current = next((i for i, p in enumerate(periods) if p.start <= now < p.end), None)
    if current is None:  # not started yet, or ended
        return (
            {"next": _span(periods[0])}
            if now < periods[0].start
            else {"previous": _span(periods[-1])}
        )
    found = {"current": _span(periods[current])}
    if current > 0:
        found["previous"] = _span(periods[current - 1])
    if current + 1 < len(periods):
        found["next"] = _span(periods[current + 1])
    return found


def _span(period: Period) -> dict[str, str]:
    return {"starting_at": iso(period.start), "ending_before": iso(period.end)}


def _commit(
    commit: ContractCommit, contract: Contract, now: datetime, balance: bool, ledgers: bool
) -> dict[str, Any]:
    unit = commit.credit_type.ref()
    body: dict[str, Any] = {
        "id": commit.id,
        "type": commit.kind,
        "name": commit.name,
        "product": commit.product.ref(),
        "created_at": iso(contract.created_at),
        "contract": {"id": contract.id},
        "priority": commit.priority,
        "applicable_product_ids": [commit.applies_to.id],
        "access_schedule": {
            "credit_type": unit,
            "schedule_items": [
                {
                    "id": s.id,
                    "amount": s.amount,
                    "starting_at": iso(s.start),
                    "ending_before": iso(s.end),
                }
                for s in commit.segments
            ],
        },
    }
    if commit.kind != "CREDIT":  # the SDK's Credit has neither field
        body["rate_type"] = "COMMIT_RATE"
        body["invoice_contract"] = {"id": contract.id}
        body["invoice_schedule"] = _invoice_schedule(commit, contract, now)
    entries = _ledger(commit, contract, now)
    if balance:
        body["balance"] = _balance(commit, entries, now)
    if ledgers:
        body["ledger"] = entries
    return body


def _balance(commit: ContractCommit, entries: list[dict[str, Any]], now: datetime) -> Decimal:
    """What is left now: expired and upcoming segments count for nothing."""
    active = {s.id for s in commit.segments if s.start <= now < s.end}
    if not active:
        return ZERO
    if commit.kind == "POSTPAID":
        return sum((entry["amount"] for entry in entries), ZERO)
    return sum((e["amount"] for e in entries if e.get("segment_id") in active), ZERO)


def _invoice_schedule(commit: ContractCommit, contract: Contract, now: datetime) -> dict[str, Any]:
    true_up = commit.kind == "POSTPAID"
    at = commit.ending_before if true_up else commit.starting_at
    amount = commit.segments[0].amount if true_up else commit.price
    item: dict[str, Any] = {
        "id": commit.segments[0].id if true_up else commit.id,
        "amount": amount,
        "quantity": Decimal(1),
        "unit_price": amount,
        "timestamp": iso(at),
    }
    if at <= now:
        kind = "true_up" if true_up else "purchase"
        item["invoice_id"] = contract.invoice_id(f"{kind}/{commit.id}", at)
    return {"credit_type": commit.credit_type.ref(), "schedule_items": [item]}


def _ledger(commit: ContractCommit, contract: Contract, now: datetime) -> list[dict[str, Any]]:
    prefix = {"PREPAID": "PREPAID_COMMIT", "POSTPAID": "POSTPAID_COMMIT", "CREDIT": "CREDIT"}[
        commit.kind
    ]
    entries: list[dict[str, Any]] = []
    if commit.kind == "POSTPAID":
        if commit.starting_at <= now:
            entries.append(
                {
                    "type": "POSTPAID_COMMIT_INITIAL_BALANCE",
                    "amount": commit.segments[0].amount,
                    "timestamp": iso(commit.starting_at),
                }
            )
    else:
        entries += [
            {
                "type": f"{prefix}_SEGMENT_START",
                "amount": s.amount,
                "segment_id": s.id,
                "timestamp": iso(s.start),
            }
            for s in commit.segments
            if s.start <= now
        ]
    for period in contract.usage_periods(commit.starting_at, now):
        segment = commit.segment_for(period)
        applied = applied_by_commit(contract, period).get(commit.id, ZERO)
        if segment is None or not applied or not period.is_final(now):
            continue
        entries.append(
            {
                "type": f"{prefix}_AUTOMATED_INVOICE_DEDUCTION",
                "amount": -applied,
                "invoice_id": contract.invoice_id("usage", period.start),
                "segment_id": segment.id,
                "timestamp": iso(period.end),
                "contract_id": contract.id,
            }
        )
    if commit.kind == "POSTPAID" and commit.ending_before <= now:
        entries.append(
            {
                "type": "POSTPAID_COMMIT_TRUEUP",
                "amount": -postpaid_shortfall(contract, commit),
                "invoice_id": contract.invoice_id(f"true_up/{commit.id}", commit.ending_before),
                "timestamp": iso(commit.ending_before),
                "contract_id": contract.id,
            }
        )
    entries.sort(key=lambda entry: entry["timestamp"])
    return entries


def _scheduled_charge(charge: ScheduledCharge, contract: Contract, now: datetime) -> dict[str, Any]:
    items = []
    for item_id, at, amount in charge.items:
        item: dict[str, Any] = {
            "id": item_id,
            "amount": amount,
            "quantity": Decimal(1),
            "unit_price": amount,
            "timestamp": iso(at),
        }
        if at <= now:
            item["invoice_id"] = contract.invoice_id(f"scheduled/{item_id}", at)
        items.append(item)
    return {
        "id": charge.id,
        "name": charge.product.name,
        "product": charge.product.ref(),
        "schedule": {"credit_type": charge.product.credit_type.ref(), "schedule_items": items},
    }
