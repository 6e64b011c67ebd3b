"""Contract invoices: every invoice a contract sends, each a pure function of its slot.

A slot is one invoice a contract owes: the monthly USAGE invoice (usage in arrears,
ADVANCE subscription periods starting in the month, ARREARS ones ending with it, prorated
quantity changes of the month before, commits and credits applied, custom units converted),
the parent's USAGE_CONSOLIDATED copy of its own and its children's usage invoices, a
SCHEDULED invoice per scheduled charge item and per postpaid true-up, a CREDIT_PURCHASE
invoice paying for a prepaid commit, and a SEAT_PURCHASE invoice for seats added
mid-period. `build_contract_invoice(contract, slot, now, contracts)` depends on nothing
else, so the DRAFT of an open month and the FINALIZED invoice it becomes share id and draws.

Totals: `total` = `subtotal` = the sum of the lines in the invoice's credit type, applied
POSTPAID lines excluded (they are paid in arrears, by the true-up); custom-unit lines are
carried by their `cpu_conversion` line.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.metronome.contract_lines import (
    ZERO,
    Line,
    applied_lines,
    cpu_conversion_lines,
    fixed_line,
    subscription_line,
    usage_lines,
)
from sandbox.metronome.contracts import Contract, ContractCommit
from sandbox.metronome.lifecycle import settle_status, stripe_invoice
from sandbox.metronome.periods import Period, add_months
from sandbox.metronome.wire import iso, new_uuid

ISSUE_DELAY = timedelta(days=1)
DAY = timedelta(days=1)
Invoice = dict[str, Any]


@dataclass(frozen=True)
class Slot:
    kind: str  # usage | consolidated | scheduled | purchase | true_up | seats
    invoice_type: str
    period: Period
    ref: str = ""  # the scheduled charge item, commit or subscription it bills

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.ref}" if self.ref else self.kind


def contract_slots(contract: Contract, window_start: datetime, now: datetime) -> list[Slot]:
    """Every invoice of `contract` whose period began in the window by `now`."""
    if contract.archived_at is not None:
        return []
    months = contract.usage_periods(window_start, now)
    slots = [Slot("usage", "USAGE", period) for period in months]
    if contract.children:
        slots += [Slot("consolidated", "USAGE_CONSOLIDATED", period) for period in months]
    moments: list[tuple[str, str, datetime, str]] = []
    for charge in contract.scheduled_charges:
        moments += [("scheduled", "SCHEDULED", at, item) for item, at, _ in charge.items]
    for commit in contract.commits:
        if commit.kind == "PREPAID" and commit.price:
            moments.append(("purchase", "CREDIT_PURCHASE", commit.starting_at, commit.id))
        if commit.kind == "POSTPAID":
            moments.append(("true_up", "SCHEDULED", commit.ending_before, commit.id))
    for moment in moments:
        if window_start <= moment[2] <= now:
            slots.append(Slot(moment[0], moment[1], Period(moment[2], moment[2] + DAY), moment[3]))
    for subscription in contract.subscriptions:
        if subscription.seat_based and not subscription.prorate_on_next_invoice:
            for at, _, _ in subscription.changes():
                if window_start <= at <= now:
                    period = Period(at, subscription.period_of(at).end)
                    slots.append(Slot("seats", "SEAT_PURCHASE", period, subscription.id))
    return slots


def historical(contract: Contract, now: datetime) -> list[str]:
    """Ids of its historical commit invoices: those of a backdated contract dated before the
    contract was created (Metronome lists them only with
    `include_historical_commit_invoices=true`)."""
    return [
        contract.invoice_id(slot.key, slot.period.start)
        for slot in contract_slots(contract, contract.starting_at, now)
        if slot.kind in ("purchase", "true_up") and slot.period.start < contract.created_at
    ]


def slot_rng(contract: Contract, slot: Slot) -> random.Random:
    return contract.invoice_rng(slot.key, slot.period.start)


def build_contract_invoice(
    contract: Contract, slot: Slot, now: datetime, contracts: Mapping[str, Contract]
) -> Invoice:
    rng = slot_rng(contract, slot)
    invoice_id = new_uuid(rng)
    monthly = slot.kind in ("usage", "consolidated")
    final = slot.period.is_final(now) if monthly else True
    extra: dict[str, Any] = {}
    if slot.kind == "consolidated":
        lines, extra["constituent_invoices"] = _consolidated(contract, slot.period, now, contracts)
    else:
        lines = _LINES[slot.kind](contract, slot, 1.0 if final else slot.period.elapsed_share(now))
    total = sum((line["total"] for line in lines if _in_total(line, contract.credit_type.id)), ZERO)
    issued = slot.period.end + ISSUE_DELAY if monthly else slot.period.start
    billable = contract.billable_at(slot.period.start)
    invoice: Invoice = {
        "id": invoice_id,
        "customer_id": contract.customer_id,
        "contract_id": contract.id,
        "type": slot.invoice_type,
        "status": "FINALIZED" if final else "DRAFT",
        "billable_status": "billable" if billable else "unbillable",
        "credit_type": contract.credit_type.ref(),
        "start_timestamp": iso(slot.period.start),
        "end_timestamp": iso(slot.period.end),
        "issued_at": iso(issued),
        "net_payment_terms_days": contract.net_payment_terms_days,
        "contract_custom_fields": contract.custom_fields,
        "custom_fields": {},
        "line_items": lines,
        "subtotal": total,
        "total": total,
        **extra,
    }
    if contract.parent is not None:
        invoice["payer"] = {"contract_id": contract.parent[0], "customer_id": contract.parent[1]}
    if final and billable and contract.has_billing_provider and total != 0:
        due = issued + timedelta(days=contract.net_payment_terms_days)
        invoice["external_invoice"] = stripe_invoice(rng, iso(issued), settle_status(rng, due, now))
    return invoice


def _in_total(line: Line, fiat_id: str) -> bool:
    if line["credit_type"]["id"] != fiat_id:
        return False
    applied = line.get("applied_commit_or_credit")
    return applied is None or applied["type"] != "POSTPAID"


def _usage_lines(contract: Contract, slot: Slot, share: float) -> list[Line]:
    period = slot.period
    lines = _subscription_lines(contract, period)
    used = usage_lines(contract, period, share)
    lines += used
    lines += applied_lines(contract, period, used, _postpaid_used(contract, period.start))
    return lines + cpu_conversion_lines(lines, contract.credit_type, period)


def _subscription_lines(contract: Contract, period: Period) -> list[Line]:
    lines = []
    previous = Period(add_months(period.start, -1), period.start)
    for subscription in contract.subscriptions:
        for service in subscription.periods(period.end):
            advance = subscription.collection == "ADVANCE"
            billed_now = (service.start if advance else service.end - DAY) >= period.start
            if billed_now and (service.start if advance else service.end - DAY) < period.end:
                quantity = subscription.quantity_at(service.start)
                lines.append(subscription_line(subscription, service, quantity, prorated=False))
        if subscription.prorate_on_next_invoice:
            for at, before, after in subscription.changes():
                if previous.start <= at < previous.end:
                    service = Period(at, subscription.period_of(at).end)
                    line = subscription_line(subscription, service, after - before, prorated=True)
                    lines.append(line)
    return lines


def _postpaid_used(contract: Contract, before: datetime) -> Decimal:
    """What the postpaid commit covered in the finished months before `before`."""
    used = ZERO
    for commit in contract.commits:
        if commit.kind != "POSTPAID":
            continue
        for period in contract.usage_periods(commit.starting_at, before - DAY):
            if period.start >= before:
                break
            usage = usage_lines(contract, period, 1.0)
            for line in applied_lines(contract, period, usage, used):
                if line["applied_commit_or_credit"]["type"] == "POSTPAID":
                    used -= line["total"]
    return used


def applied_by_commit(contract: Contract, period: Period) -> dict[str, Decimal]:
    """What each commit and credit covered of a month's final usage (for ledgers)."""
    applied: dict[str, Decimal] = {}
    for line in _usage_lines(contract, Slot("usage", "USAGE", period), 1.0):
        if "commit_id" in line and line["type"] == "applied_commit_or_credit":
            applied[line["commit_id"]] = applied.get(line["commit_id"], ZERO) - line["total"]
    return applied


def postpaid_shortfall(contract: Contract, commit: ContractCommit) -> Decimal:
    return max(commit.segments[0].amount - _postpaid_used(contract, commit.ending_before), ZERO)


def _scheduled_lines(contract: Contract, slot: Slot, share: float) -> list[Line]:
    for charge in contract.scheduled_charges:
        for item_id, _, amount in charge.items:
            if item_id == slot.ref:
                line = fixed_line(
                    charge.product.name, "scheduled", charge.product, amount, slot.period
                )
                line["scheduled_charge_id"] = charge.id
                return [line]
    raise KeyError(slot.ref)


def _commit_lines(contract: Contract, slot: Slot, share: float) -> list[Line]:
    commit = next(c for c in contract.commits if c.id == slot.ref)
    true_up = slot.kind == "true_up"
    amount = postpaid_shortfall(contract, commit) if true_up else commit.price
    name = f"{commit.name} true-up" if true_up else commit.name
    line = fixed_line(name, "commit_purchase", commit.product, amount, slot.period)
    line.update(commit_id=commit.id, commit_type="PostpaidCommit" if true_up else "PrepaidCommit")
    if true_up:
        line["postpaid_commit"] = {"id": commit.id}
    return [line]


def _seat_lines(contract: Contract, slot: Slot, share: float) -> list[Line]:
    subscription = next(s for s in contract.subscriptions if s.id == slot.ref)
    at = slot.period.start
    added = subscription.quantity_at(at) - subscription.quantity_at(at - DAY)
    return [subscription_line(subscription, slot.period, added, prorated=True)]


_LINES = {
    "usage": _usage_lines,
    "scheduled": _scheduled_lines,
    "purchase": _commit_lines,
    "true_up": _commit_lines,
    "seats": _seat_lines,
}


def _consolidated(
    parent: Contract, period: Period, now: datetime, contracts: Mapping[str, Contract]
) -> tuple[list[Line], list[dict[str, str]]]:
    """The parent's usage invoice and its children's, their lines copied with `origin`."""
    members = [parent] + [contracts[contract_id] for contract_id, _ in parent.children]
    lines: list[Line] = []
    constituents = []
    for member in members:
        if period not in member.usage_periods(period.start, period.start):
            continue
        source = build_contract_invoice(member, Slot("usage", "USAGE", period), now, contracts)
        ids = {"contract_id": member.id, "customer_id": member.customer_id}
        constituents.append({**ids, "invoice_id": source["id"]})
        for index, line in enumerate(source["line_items"]):
            line_id = new_uuid(random.Random(f"{source['id']}/{index}"))
            origin = {**ids, "invoice_id": source["id"], "line_item_id": line_id}
            lines.append({**line, "origin": origin})
    return lines, constituents
