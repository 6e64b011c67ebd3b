"""The list filters of `GET /v1/customers` and `GET /v1/customers/{id}/invoices`.

Invoice dates filter on the billing period, not the issue date. `starting_on` is inclusive
(`start_timestamp >= starting_on`) and `ending_before` exclusive: the period [start, end)
must end by then, i.e. `end_timestamp <= ending_before` (an end timestamp is itself
exclusive, so March [03-01, 04-01) ends before 04-01). With both, the whole period lies in
[starting_on, ending_before). Invoices without a parseable period match no date filter.
`invoice_type` is one of the SDK's USAGE, USAGE_CONSOLIDATED, SCHEDULED; `contract_id` keeps
a contract's invoices; `hidden` are historical commit invoices, listed only when the caller
passes `include_historical_commit_invoices=true` (see `contract_invoices.historical`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.metronome.book import StoredInvoice


@dataclass(frozen=True)
class InvoiceFilter:
    statuses: frozenset[str] = frozenset()  # upper case; any of them matches
    starting_on: datetime | None = None
    ending_before: datetime | None = None
    credit_type_id: str | None = None
    invoice_type: str | None = None
    contract_id: str | None = None
    hidden: frozenset[str] = frozenset()

    @property
    def is_open(self) -> bool:
        """True when it lets every invoice through."""
        return self == InvoiceFilter()

    def matches(self, invoice: StoredInvoice) -> bool:
        if self.statuses and invoice.status not in self.statuses:
            return False
        if self.starting_on is not None and (
            invoice.start is None or invoice.start < self.starting_on
        ):
            return False
        if self.ending_before is not None and (
            invoice.end is None or invoice.end > self.ending_before
        ):
            return False
        if self.credit_type_id is not None and invoice.credit_type_id != self.credit_type_id:
            return False
        if self.invoice_type is not None and invoice.body.get("type") != self.invoice_type:
            return False
        if self.contract_id is not None and invoice.body.get("contract_id") != self.contract_id:
            return False
        return invoice.key not in self.hidden


@dataclass(frozen=True)
class CustomerFilter:
    """Default lists active customers only; `only_archived` lists archived ones only."""

    only_archived: bool = False
    customer_ids: frozenset[str] = frozenset()
    ingest_alias: str | None = None

    def matches(self, detail: dict[str, Any]) -> bool:
        if (detail.get("archived_at") is not None) != self.only_archived:
            return False
        if self.customer_ids and detail["id"] not in self.customer_ids:
            return False
        return self.ingest_alias is None or self.ingest_alias in detail["ingest_aliases"]
