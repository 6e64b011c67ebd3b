"""What happened to finalized invoices after they were issued, chosen by quota.

Each case gets a share of its candidates but at least one (corrections: two) when there are
candidates, so a small account still shows it: Stripe payments that failed (PAYMENT_FAILED)
or were written off (UNCOLLECTIBLE), voided Stripe-synced invoices (most regenerated under a
new id, the first always), and corrections of part of an invoice (mostly credits, the second
a debit).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.metronome.lifecycle import correction, mark_void, regenerated
from sandbox.metronome.wire import parse_timestamp

Invoice = dict[str, Any]

PAYMENT_FAILED_SHARE = 0.03
UNCOLLECTIBLE_SHARE = 0.01
VOID_SHARE = 0.02
REGENERATED_SHARE = 0.6
CORRECTION_SHARE = 0.015
DEBIT_SHARE = 0.15  # corrections that bill more rather than credit


@dataclass
class History:
    added: list[Invoice] = field(default_factory=list)  # replacements and corrections
    replacements: dict[str, str] = field(default_factory=dict)  # voided id -> new id


def apply_history(
    rng: random.Random,
    invoices: list[Invoice],
    now: datetime,
    voidable: Callable[[Invoice], bool] | None = None,
) -> History:
    """Mutate `invoices` (statuses, voids) and return what history added.

    Only invoices with priced sub-lines are corrected; `voidable` says which may be voided
    (by default the same ones; contract invoices carry no sub-lines but void too).
    """
    _collection_problems(rng, invoices)
    history = History()
    settled = [i for i in invoices if i["status"] == "FINALIZED" and i["total"]]
    in_stripe = [
        invoice
        for invoice in settled
        if "external_invoice" in invoice and (voidable or _priced_lines)(invoice)
    ]
    voided = quota(rng, _issued_before(in_stripe, now, days=3), VOID_SHARE)
    for position, invoice in enumerate(voided):
        at = _later(rng, invoice, now, max_days=12)
        mark_void(invoice)
        if position == 0 or rng.random() < REGENERATED_SHARE:
            replacement = regenerated(invoice, rng, at, now)
            history.added.append(replacement)
            history.replacements[invoice["id"]] = replacement["id"]
    untouched = [i for i in settled if i["status"] == "FINALIZED" and _priced_lines(i)]
    candidates = _issued_before(untouched, now, days=7)
    corrected = quota(rng, candidates, CORRECTION_SHARE, minimum=2)  # a credit and a debit
    for position, invoice in enumerate(corrected):
        debit = position == 1 or (position > 1 and rng.random() < DEBIT_SHARE)
        created_at = _later(rng, invoice, now, max_days=40)
        history.added.append(correction(invoice, rng, created_at, debit=debit))
    return history


def quota(
    rng: random.Random, candidates: list[Invoice], share: float, minimum: int = 1
) -> list[Invoice]:
    """A deterministic sample: `share` of the candidates, at least `minimum` of them."""
    count = min(len(candidates), max(minimum, round(len(candidates) * share)))
    return rng.sample(candidates, count)


def _collection_problems(rng: random.Random, invoices: list[Invoice]) -> None:
    paid = [
        invoice
        for invoice in invoices
        if invoice.get("external_invoice", {}).get("external_status") == "PAID"
    ]
    failed = quota(rng, paid, PAYMENT_FAILED_SHARE)
    for invoice in failed:
        invoice["external_invoice"]["external_status"] = "PAYMENT_FAILED"
    still_paid = [
        invoice for invoice in paid if invoice["external_invoice"]["external_status"] == "PAID"
    ]
    for invoice in quota(rng, still_paid, UNCOLLECTIBLE_SHARE):
        invoice["external_invoice"]["external_status"] = "UNCOLLECTIBLE"


def _priced_lines(invoice: Invoice) -> bool:
    return any(line["total"] and line.get("sub_line_items") for line in invoice["line_items"])


def _issued(invoice: Invoice) -> datetime:
    issued = parse_timestamp(invoice["issued_at"])
    assert issued is not None
    return issued


def _issued_before(invoices: list[Invoice], now: datetime, days: int) -> list[Invoice]:
    cutoff = now - timedelta(days=days)
    return [invoice for invoice in invoices if _issued(invoice) <= cutoff]


def _later(rng: random.Random, invoice: Invoice, now: datetime, max_days: int) -> datetime:
    """A moment 2 to `max_days` days after the invoice was issued, and before now."""
    issued = _issued(invoice)
    moment = issued + timedelta(days=rng.randint(2, max_days), seconds=rng.randrange(86400))
    return min(moment, now - timedelta(hours=1))
