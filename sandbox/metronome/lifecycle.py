"""What happens to invoices after rating: the Stripe copy, void, regenerate, corrections.

Void keeps the id and sets `status` VOID (its Stripe copy turns VOID too). Regenerate makes a
new FINALIZED invoice with a new id for the same period, naming the voided one in
`regenerated_from_invoice_id`; rates and usage are unchanged, so its amounts repeat the
voided one. A correction (`type` CORRECTION) credits part of one line of a
finalized invoice (negative total) or, now and then, bills a missed part (positive total);
its `correction_record` names the corrected invoice and it carries `created_at`.
"""

from __future__ import annotations

import copy
import random
import string
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.metronome.wire import iso, new_uuid

_ALPHABET = string.ascii_letters + string.digits
_OPEN_STATUSES = ("PAID", "SENT", "FINALIZED")  # an invoice still within its payment terms
_OPEN_WEIGHTS = (40, 45, 15)
_CREDIT_REASONS = (
    ("Usage overcount", "Metering double-counted events during an ingestion retry"),
    ("Service credit", "SLA breach credit agreed in support ticket #{ticket}"),
    ("Goodwill credit", "Approved by the account manager after onboarding delays"),
)
_DEBIT_REASONS = (("Underbilled usage", "Late-arriving usage events replayed for the period"),)
_INHERITED_FIELDS = (
    "customer_id",
    "credit_type",
    "start_timestamp",
    "end_timestamp",
    "net_payment_terms_days",
    "plan_id",
    "plan_name",
    "plan_custom_fields",
)
_SHARES = (Decimal("0.1"), Decimal("0.25"), Decimal("0.5"), Decimal(1))


def settle_status(rng: random.Random, due: datetime, now: datetime) -> str:
    """Stripe's status of a fresh invoice: open or paid before `due`, paid after."""
    if now >= due:
        return "PAID"
    return rng.choices(_OPEN_STATUSES, _OPEN_WEIGHTS)[0]


def stripe_invoice(
    rng: random.Random, issued_at: str, status: str, prefix: str = "in_"
) -> dict[str, Any]:
    return {
        "billing_provider_type": "stripe",
        "invoice_id": prefix + "".join(rng.choices(_ALPHABET, k=24)),
        "issued_at_timestamp": issued_at,
        "external_status": status,
    }


def mark_void(invoice: dict[str, Any]) -> None:
    invoice["status"] = "VOID"
    external = invoice.get("external_invoice")
    if isinstance(external, dict):
        external["external_status"] = "VOID"


def regenerated(
    voided: dict[str, Any], rng: random.Random, at: datetime, now: datetime
) -> dict[str, Any]:
    """The replacement of a voided invoice: same period and amounts, new id, FINALIZED."""
    replacement = copy.deepcopy(voided)
    replacement["id"] = new_uuid(rng)
    replacement["regenerated_from_invoice_id"] = voided["id"]
    replacement["status"] = "FINALIZED"
    replacement["issued_at"] = iso(at)
    if "external_invoice" in voided:
        terms = timedelta(days=int(voided.get("net_payment_terms_days") or 30))
        replacement["external_invoice"] = stripe_invoice(
            rng, iso(at), settle_status(rng, at + terms, now)
        )
    return replacement


def correction(
    original: dict[str, Any], rng: random.Random, created_at: datetime, *, debit: bool
) -> dict[str, Any]:
    """A CORRECTION invoice for part of one priced line of `original`: a credit, or a debit
    for usage billed short."""
    sign = Decimal(1) if debit else Decimal(-1)
    share = rng.choice(_SHARES) if not debit else Decimal("0.1")
    priced = [
        line for line in original["line_items"] if line["total"] and line.get("sub_line_items")
    ]
    line = _corrected_line(rng.choice(priced), sign * share)
    reason, memo = rng.choice(_DEBIT_REASONS if debit else _CREDIT_REASONS)
    record: dict[str, Any] = {
        "corrected_invoice_id": original["id"],
        "reason": reason,
        "memo": memo.format(ticket=rng.randrange(1000, 99999)),
    }
    if "external_invoice" in original:
        record["corrected_external_invoice"] = copy.deepcopy(original["external_invoice"])
    invoice: dict[str, Any] = {"id": new_uuid(rng), "type": "CORRECTION", "status": "FINALIZED"}
    invoice.update((key, original[key]) for key in _INHERITED_FIELDS if key in original)
    invoice.update(
        issued_at=iso(created_at.replace(hour=0, minute=0, second=0)),
        created_at=iso(created_at),
        custom_fields={},
        line_items=[line],
        invoice_adjustments=[],
        subtotal=line["total"],
        total=line["total"],
        correction_record=record,
    )
    if "payer" in original:
        invoice["payer"] = copy.deepcopy(original["payer"])
    if "external_invoice" in original:
        prefix = "in_" if debit else "cn_"
        status = "PAID" if rng.random() < 0.7 else "FINALIZED"
        invoice["external_invoice"] = stripe_invoice(rng, invoice["issued_at"], status, prefix)
    return invoice


def _corrected_line(line: dict[str, Any], factor: Decimal) -> dict[str, Any]:
    """`factor` of each sub-line of `line` (tiers dropped: a correction is not re-tiered)."""
    sub_lines = []
    for sub_line in line["sub_line_items"]:
        corrected = {
            "name": sub_line["name"],
            "charge_id": sub_line["charge_id"],
            "quantity": sub_line["quantity"] * factor,
            "subtotal": sub_line["subtotal"] * factor,
            "custom_fields": sub_line["custom_fields"],
        }
        if "price" in sub_line:
            corrected["price"] = sub_line["price"]
        sub_lines.append(corrected)
    kept = ("name", "type", "credit_type", "product_id", "custom_fields")
    return {
        **{key: line[key] for key in kept},
        "total": sum((sub_line["subtotal"] for sub_line in sub_lines), Decimal(0)),
        "quantity": line["quantity"] * factor,
        "starting_at": line["starting_at"],
        "ending_before": line["ending_before"],
        "sub_line_items": sub_lines,
    }
