"""The invoice book: every stored invoice by id and, per customer, in `issued_at` order.

Each invoice keeps its JSON bytes once serialised, so pages are assembled from bytes; any
change goes through `put`, which re-indexes the invoice and drops its cached bytes. Injected
invoices keep the exact bytes they were sent with, whatever their content.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.metronome.wire import iso, parse_timestamp, to_json


@dataclass(eq=False)  # compared by identity: bodies are large
class StoredInvoice:
    key: str  # the invoice id (or a made-up key for an injected invoice without one)
    body: dict[str, Any]
    listed_under: str  # the customer whose list serves it
    raw: bytes | None = None
    sort_key: tuple[str, str] = ("", "")
    status: str = ""
    start: datetime | None = None
    end: datetime | None = None
    credit_type_id: str | None = None

    def __post_init__(self) -> None:
        body = self.body
        issued = _moment(body.get("issued_at"))
        self.sort_key = (iso(issued) if issued else "", self.key)
        status = body.get("status")
        self.status = status.upper() if isinstance(status, str) else ""
        self.start = _moment(body.get("start_timestamp"))
        self.end = _moment(body.get("end_timestamp"))
        credit_type = body.get("credit_type")
        type_id = credit_type.get("id") if isinstance(credit_type, dict) else None
        self.credit_type_id = type_id if isinstance(type_id, str) else None

    def json(self) -> bytes:
        if self.raw is None:
            self.raw = to_json(self.body)
        return self.raw


def invoice_sort_key(stored: StoredInvoice) -> tuple[str, str]:
    return stored.sort_key


@dataclass
class InvoiceBook:
    by_key: dict[str, StoredInvoice] = field(default_factory=dict)
    by_customer: dict[str, list[StoredInvoice]] = field(default_factory=dict)

    def put(self, stored: StoredInvoice) -> None:
        """Add or replace the invoice stored under `stored.key`."""
        self.remove(stored.key)
        self.by_key[stored.key] = stored
        listed = self.by_customer.setdefault(stored.listed_under, [])
        bisect.insort(listed, stored, key=invoice_sort_key)

    def remove(self, key: str) -> None:
        old = self.by_key.pop(key, None)
        if old is not None:
            self.by_customer[old.listed_under].remove(old)

    def get(self, key: str) -> StoredInvoice | None:
        return self.by_key.get(key)

    def of_customer(self, customer_id: str) -> list[StoredInvoice]:
        return self.by_customer.get(customer_id, [])

    def __iter__(self) -> Iterator[StoredInvoice]:
        return iter(self.by_key.values())

    def __len__(self) -> int:
        return len(self.by_key)


def _moment(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None
