"""Plan invoices (`type` PLAN_ARREARS): one per subscription and billing period.

An invoice is a pure function of (seed, subscription, period, now): the period's own RNG
draws its id, usage and credit grant id, so the DRAFT of an open period and the FINALIZED
invoice it later becomes share the id and every draw. Totals: lines sum to `subtotal`;
`subtotal` plus `invoice_adjustments` (minimum true-up >= 0, credit grant <= 0, free trial
<= 0) is `total`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.metronome.catalog import Charge, Plan
from sandbox.metronome.lifecycle import settle_status, stripe_invoice
from sandbox.metronome.periods import Period
from sandbox.metronome.rating import product_lines
from sandbox.metronome.stories import Subscription
from sandbox.metronome.wire import iso, new_uuid

ISSUE_DELAY = timedelta(days=1)  # plan invoices are issued the day after their period ends
ZERO = Decimal(0)


def period_rng(seed: int, subscription_id: str, period: Period) -> random.Random:
    return random.Random(f"{seed}/{subscription_id}/{period.start:%Y-%m}")


def build_plan_invoice(
    subscription: Subscription, period: Period, now: datetime, seed: int
) -> dict[str, Any]:
    rng = period_rng(seed, subscription.id, period)
    invoice_id = new_uuid(rng)
    final = period.is_final(now)
    usage = subscription.usage.quantities(
        subscription.period_index(period), rng, 1.0 if final else period.elapsed_share(now)
    )
    plan = subscription.plan
    charges = plan.billed_charges()
    lines = product_lines(
        charges,
        {charge.id: _quantity(charge, usage) for charge in charges},
        period,
        round_totals=subscription.outline.rounds_line_totals,
    )
    if plan.onboarding_fee is not None and period.start == subscription.starting_on:
        lines.append(_onboarding_line(plan, period))
    subtotal = sum((line["total"] for line in lines), ZERO)
    adjustments = _adjustments(subscription, period, subtotal, rng)
    total = subtotal + sum((adjustment["total"] for adjustment in adjustments), ZERO)
    issued = period.end + ISSUE_DELAY
    invoice: dict[str, Any] = {
        "id": invoice_id,
        "customer_id": subscription.customer_id,
        "type": "PLAN_ARREARS",
        "status": "FINALIZED" if final else "DRAFT",
        "credit_type": plan.credit_type.ref(),
        "start_timestamp": iso(period.start),
        "end_timestamp": iso(period.end),
        "issued_at": iso(issued),
        "net_payment_terms_days": subscription.net_payment_terms_days,
        "plan_id": plan.id,
        "plan_name": plan.name,
        "plan_custom_fields": plan.custom_fields,
        "custom_fields": {},
        "line_items": lines,
        "invoice_adjustments": adjustments,
        "subtotal": subtotal,
        "total": total,
    }
    if final and subscription.outline.has_billing_provider and total != 0:
        terms = timedelta(days=subscription.net_payment_terms_days)
        invoice["external_invoice"] = stripe_invoice(
            rng, invoice["issued_at"], settle_status(rng, issued + terms, now)
        )
    return invoice


def _quantity(charge: Charge, usage: dict[str, Decimal]) -> Decimal:
    if charge.charge_type == "fixed":
        return Decimal(1)
    if charge.charge_type == "seat":
        return usage["seats"]
    metric = charge.product.metric
    assert metric is not None, f"usage charge {charge.name} meters no metric"
    return usage[metric]


def _onboarding_line(plan: Plan, period: Period) -> dict[str, Any]:
    """A one-off fee on a plan's first invoice: a line item with no sub-line items."""
    assert plan.onboarding_fee is not None
    product, fee = plan.onboarding_fee
    return {
        "name": "Onboarding services",
        "type": "fixed",
        "total": fee,
        "quantity": Decimal(1),
        "unit_price": fee,
        "credit_type": plan.credit_type.ref(),
        "product_id": product.id,
        "custom_fields": {},
        "starting_at": iso(period.start),
        "ending_before": iso(period.end),
    }


def _adjustments(
    subscription: Subscription, period: Period, subtotal: Decimal, rng: random.Random
) -> list[dict[str, Any]]:
    plan = subscription.plan
    unit = plan.credit_type.ref()
    if subscription.in_trial(period):
        return [{"name": "Free trial", "total": -subtotal, "credit_type": unit}]
    adjustments = []
    due = subtotal
    if plan.minimum is not None:
        true_up = max(plan.minimum.unit_price - subtotal, ZERO)
        adjustments.append({"name": plan.minimum.name, "total": true_up, "credit_type": unit})
        due += true_up
    if plan.recurring_credit is not None:
        applied = min(plan.recurring_credit, due)
        adjustments.append(
            {
                "name": "Monthly platform credit",
                "total": -applied,
                "credit_type": unit,
                "credit_grant_id": new_uuid(rng),
                "credit_grant_custom_fields": {"grant_kind": "recurring"},
            }
        )
    return adjustments
