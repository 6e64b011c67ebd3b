"""Fincome's documents read one by one, when no view of them fits (`pipelines/readback.py`).

Fincome has no listing of its imported documents, so without a view reconcile asks for the
ones it knows of: every invoice or credit note Metronome counts or the ledger holds, or with
`--sample N` N of them. The sample is the N ids first by their SHA-256 (the same N on every
run, spread across customers and months). A document read back by id is worth its embedded
lines (`amount_excluding_tax_after_discount`, a credit note line's `amount`, as a view adds
them up); a 404 is a document Fincome does not hold. Documents Fincome holds that billing-sync
never knew of cannot be found this way: reconcile says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from destinations.fincome import FincomeClient
from pipelines.readback import read_back
from pipelines.reconcile.documents import VOID, DocumentKind, Documents, Held, month_of, to_amount

# a document's collection, its embedded lines and the line field that adds up to its worth
READ: dict[DocumentKind, tuple[str, str, str]] = {
    "invoice": ("invoices", "invoice_line_items", "amount_excluding_tax_after_discount"),
    "credit_note": ("credit_notes", "credit_note_line_items", "amount"),
}


@dataclass(frozen=True)
class ReadById:
    """What reading one kind of document by id gave: the documents found, how many were
    asked for and how many Fincome does not hold."""

    documents: Documents
    asked: int
    absent: int


def sample(ids: Iterable[str], size: int | None) -> list[str]:
    """Every id (sorted), or the `size` first by their SHA-256."""
    if size is None:
        return sorted(ids)
    return sorted(ids, key=lambda i: hashlib.sha256(i.encode()).hexdigest())[:size]


def read_by_id(client: FincomeClient, kind: DocumentKind, ids: Iterable[str]) -> ReadById:
    """Fincome's copy of each of these documents, read by id."""
    collection = READ[kind][0]
    documents: Documents = {}
    asked = absent = 0
    for document_id, body in read_back(client, collection, ids):
        asked += 1
        if body is None:
            absent += 1
        else:
            documents[document_id] = held_of(kind, document_id, body)
    return ReadById(documents, asked, absent)


def held_of(kind: DocumentKind, document_id: str, body: Mapping[str, Any]) -> Held:
    """A document as Fincome answers it by id, worth its embedded lines."""
    _, embedded, field = READ[kind]
    lines = [line for line in body.get(embedded) or [] if isinstance(line, Mapping)]
    total = sum((to_amount(line.get(field)) for line in lines), Decimal(0))
    currencies = sorted({str(line["currency_code"]) for line in lines if line.get("currency_code")})
    status = str(body.get("status") or "")
    return Held(
        kind=kind,
        id=document_id,
        customer_id=body.get("customer_id"),
        currency=",".join(currencies) or None,
        month=month_of(body.get("date")),
        amount=total if kind == "invoice" else abs(total),
        status=status,
        counted=status != VOID,
    )
