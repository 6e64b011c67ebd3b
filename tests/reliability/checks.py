"""What the fuzz tests assert about a transform's output, whatever its input was.

- every reject is complete: stage, collection, a record id, the payload, and a reason a
  person can act on (one printable line, no repr or traceback debris, no internal error);
- every invoice of the input is accounted for: mapped, rejected, or one of the documented
  skips (a DRAFT, a consolidated invoice under `consolidated_invoices = "skip"`, a voided
  correction, an invoice whose customer was rejected);
- every mapped invoice's (and credit note's) lines add up exactly to its converted total;
- every row is a body the Fincome emulator accepts, created parents first into an empty
  emulator store: canonical body, exact JSON, the emulator's own JSON parser and rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from destinations.fincome.body import canonical_body, to_json
from destinations.fincome.ledger import Reject
from destinations.fincome.schema import EMBEDDED_CHILD, PUSH_ORDER
from pipelines.transform.bundle import raw_id
from pipelines.transform.catalog import catalog_view
from pipelines.transform.customer_mapping import INTERNAL_ERROR
from pipelines.transform.engine import DesiredState
from pipelines.transform.header import CONSOLIDATED
from pipelines.transform.money import resolve_currency
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import MappingError, record, text, to_decimal
from sandbox.fincome.errors import ApiError
from sandbox.fincome.store import FincomeStore
from sandbox.fincome.wire import parse_body
from tests.reliability.strategies import Account

REJECTABLE = {"customers", "customer_plans", "invoices"}
DEBRIS = ("Traceback", " object at 0x", "<unprintable", 'File "')
MAX_REASON = 400


def reason_problem(reason: object) -> str | None:
    """Why a reject reason would not help a person, or None when it is fine."""
    if not isinstance(reason, str) or not reason.strip():
        return "empty reason"
    if not reason.isprintable():
        return "reason holds line breaks or control characters"
    if len(reason) > MAX_REASON:
        return f"reason longer than {MAX_REASON} characters"
    if any(debris in reason for debris in DEBRIS):
        return "reason holds Python debris"
    if reason.startswith(INTERNAL_ERROR):
        return "a failure the mapping did not foresee"
    return None


def assert_rejects_are_complete(rejects: Iterable[Reject]) -> None:
    for reject in rejects:
        assert reject.stage == "transform", reject
        assert reject.collection in REJECTABLE, reject
        assert isinstance(reject.record_id, str), reject
        assert reject.record_id.strip(), reject
        assert reject.payload is not None, reject
        problem = reason_problem(reject.reason)
        assert problem is None, f"{problem}: {reject.reason!r} ({reject.record_id!r})"


def mapped_documents(state: DesiredState) -> set[str]:
    return {row["id"] for row in state.rows["invoices"] + state.rows["credit_notes"]}


def unaccounted_invoices(
    account: Account, mapped: set[str], rejects: Iterable[Reject]
) -> list[str]:
    """Keys of the input invoices that are neither mapped (an invoice or credit note id in
    `mapped`), rejected, nor a documented skip."""
    rejected = {(r.collection, r.record_id) for r in rejects}
    missing = []
    for bundle in account.customers:
        customer_key = raw_id(bundle.customer, "")
        if not customer_key or ("customers", customer_key) in rejected:
            continue  # a rejected customer takes its plans and invoices with it
        for n, raw in enumerate(bundle.invoices):
            key = raw_id(raw, f"{customer_key}:invoices[{n}]")
            if key in mapped or ("invoices", key) in rejected:
                continue
            if not _documented_skip(raw, account.options):
                missing.append(key)
    return missing


def _documented_skip(raw: object, options: MappingOptions) -> bool:
    try:
        invoice = record(raw, "invoice")
    except MappingError:
        return False
    status = (text(invoice.get("status")) or "").upper()
    kind = (text(invoice.get("type")) or "").upper()
    is_correction = bool(invoice.get("correction_record")) or kind == "CORRECTION"
    unbillable = (text(invoice.get("billable_status")) or "").lower() == "unbillable"
    return (
        status == "DRAFT"
        or (kind == CONSOLIDATED and options.consolidated_invoices == "skip")
        or (unbillable and not options.keep_unbillable_invoices)
        or (status == "VOID" and is_correction)
    )


def assert_lines_add_up(account: Account, state: DesiredState) -> None:
    """Each document's lines sum to the rounded, converted total of an input with its id."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in state.rows["invoice_line_items"]:
        sums[line["invoice_id"]] += line["amount_excluding_tax_after_discount"]
    sign = Decimal(-1) if account.options.credit_note_sign == "positive" else Decimal(1)
    for line in state.rows["credit_note_line_items"]:
        sums[line["credit_note_id"]] += line["amount"] * sign
    for document in state.rows["invoices"] + state.rows["credit_notes"]:
        totals = _converted_totals(account, document["id"])
        assert sums[document["id"]] in totals, (document["id"], sums[document["id"]], totals)


def _converted_totals(account: Account, invoice_id: str) -> set[Decimal]:
    """The rounded converted total of every input invoice with that id (ids may repeat)."""
    found = set()
    credit_types = catalog_view(account.catalog).credit_types
    for bundle in account.customers:
        for raw in bundle.invoices:
            try:
                invoice = record(raw, "invoice")
                if invoice.get("id") != invoice_id:
                    continue
                currency = resolve_currency(
                    invoice.get("credit_type"), account.options, credit_types
                )
                found.add(currency.round(currency.convert(to_decimal(invoice.get("total")))))
            except MappingError:
                continue
    return found


def assert_fincome_accepts(state: DesiredState) -> None:
    """Create every row in an empty Fincome emulator store, parents first, lines embedded."""
    store = FincomeStore(clock=lambda: datetime(2025, 1, 1, tzinfo=UTC))
    lines_of = _embedded_lines(state)
    for spec in PUSH_ORDER:
        if spec.name in {child.name for child in EMBEDDED_CHILD.values()}:
            continue  # created with the invoice or credit note that embeds them
        for row in state.rows[spec.name]:
            body: dict[str, Any] = canonical_body(spec, row)
            if spec.embedded:
                body[spec.embedded] = lines_of[spec.name].get(row["id"], [])
            try:
                store.create(spec.name, parse_body(to_json(body)))
            except ApiError as refusal:
                raise AssertionError(f"Fincome refuses {spec.name} {body}: {refusal}") from None


def _embedded_lines(state: DesiredState) -> dict[str, dict[str, list[dict[str, Any]]]]:
    lines: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for parent, child in EMBEDDED_CHILD.items():
        parent_field = "invoice_id" if parent == "invoices" else "credit_note_id"
        by_parent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in state.rows[child.name]:
            by_parent[row[parent_field]].append(canonical_body(child, row))
        lines[parent] = by_parent
    return lines
