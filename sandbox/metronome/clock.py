"""Moving the emulator's clock (`POST /_emulator/advance`) and what happens on the way.

In order: periods that have begun get their invoice, plan and contract ones alike (a DRAFT,
or FINALIZED straight away when the period ended more than the 24 h grace ago); DRAFTs whose
period ended past the grace FINALIZE with their final amounts, the others are re-rated with
the usage so far; open Stripe invoices past their due date are settled (mostly PAID, a few
PAYMENT_FAILED); then, if asked,
`void` finalized invoices (chosen by the store's seeded RNG) are voided and regenerated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sandbox.metronome.book import StoredInvoice
from sandbox.metronome.contract_invoices import build_contract_invoice, contract_slots, slot_rng
from sandbox.metronome.invoices import build_plan_invoice, period_rng
from sandbox.metronome.store import MetronomeStore
from sandbox.metronome.wire import iso, new_uuid, parse_timestamp

OPEN_EXTERNAL_STATUSES = {"SENT", "FINALIZED"}
PAYMENT_FAILURE_SHARE = 0.1


def advance(
    store: MetronomeStore, *, days: int, void: int = 0, regenerate: bool = False
) -> dict[str, Any]:
    """Move the clock `days` forward; answers the ids of everything that changed."""
    previous = store.now
    store.now = previous + timedelta(days=days)
    report: dict[str, Any] = {
        "now": iso(store.now),
        "created": [],
        "updated": [],
        "finalized": [],
        "settled": {},
        "voided": [],
        "regenerated": {},
    }
    _bill_open_periods(store, previous, report)
    _settle_open_invoices(store, report)
    for invoice_id in _choose_voids(store, void):
        report["voided"].append(store.void(invoice_id))
        if regenerate:
            report["regenerated"][invoice_id] = store.regenerate(invoice_id)
    return report


def _bill_open_periods(store: MetronomeStore, previous: datetime, report: dict[str, Any]) -> None:
    seed, start = store.settings.seed, store.settings.window_start
    for subscription in store.subscriptions():
        for period in subscription.periods(start, store.now):
            if period.is_final(previous):
                continue  # settled before this move: its invoice exists already
            planned_id = new_uuid(period_rng(seed, subscription.id, period))
            _bill(
                store,
                planned_id,
                partial(build_plan_invoice, subscription, period, store.now, seed),
                report,
            )
    contracts = {contract.id: contract for contract in store.contracts()}
    for contract in contracts.values():
        for slot in contract_slots(contract, start, store.now):
            if slot.period.is_final(previous):
                continue
            _bill(
                store,
                new_uuid(slot_rng(contract, slot)),
                partial(build_contract_invoice, contract, slot, store.now, contracts),
                report,
            )


def _bill(
    store: MetronomeStore,
    planned_id: str,
    build: Callable[[], dict[str, Any]],
    report: dict[str, Any],
) -> None:
    """Create the invoice of a period that began, or bring its DRAFT up to now."""
    stored = store.book.get(planned_id)
    if stored is not None and stored.status != "DRAFT":
        return
    invoice = build()
    if stored is None:
        store.book.put(StoredInvoice(planned_id, invoice, invoice["customer_id"]))
        report["created"].append(planned_id)
    elif invoice != stored.body:
        store.replace_body(stored, invoice)
        changed = "finalized" if invoice["status"] == "FINALIZED" else "updated"
        report[changed].append(planned_id)


def _settle_open_invoices(store: MetronomeStore, report: dict[str, Any]) -> None:
    for stored in list(store.book):
        external = stored.body.get("external_invoice")
        if stored.status != "FINALIZED" or not isinstance(external, dict):
            continue
        if external.get("external_status") not in OPEN_EXTERNAL_STATUSES:
            continue
        issued = parse_timestamp(stored.sort_key[0])
        terms = stored.body.get("net_payment_terms_days")
        if issued is None or not isinstance(terms, int):
            continue
        if issued + timedelta(days=terms) <= store.now:
            failed = store.rng.random() < PAYMENT_FAILURE_SHARE
            status = "PAYMENT_FAILED" if failed else "PAID"
            store.replace_body(
                stored, {**stored.body, "external_invoice": {**external, "external_status": status}}
            )
            report["settled"][stored.key] = status


def _choose_voids(store: MetronomeStore, count: int) -> list[str]:
    candidates = sorted(
        stored.key
        for stored in store.book
        if stored.status == "FINALIZED" and stored.body.get("type") == "PLAN_ARREARS"
    )
    return store.rng.sample(candidates, min(count, len(candidates)))
