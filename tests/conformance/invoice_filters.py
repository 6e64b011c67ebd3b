"""The filters the SDK offers on `GET /v1/customers/{id}/invoices`, each with its documented
meaning (SDK/resources/v1/customers/invoices.py, `list`), as a predicate over stored invoices.

The emulator either applies a filter exactly so or refuses it with a 400; a filter it
silently ignores shows up as a listing holding invoices the predicate rejects. The filters the
source sends (`starting_on`, `ending_before`) must be applied, never refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Invoice = dict[str, Any]
NO_CONTRACT = "00000000-0000-4000-8000-000000000000"  # matches no invoice


@dataclass(frozen=True)
class InvoiceFilter:
    name: str
    params: dict[str, Any]
    keeps: Callable[[Invoice], bool]
    refusable: bool = True  # a 400 is an honest answer, unless the source relies on it


def historical_commit_invoices(state: dict[str, Any]) -> set[str]:
    """Ids of the invoices Metronome lists only with `include_historical_commit_invoices`.

    A historical commit invoice pays for a commit (a `commit_purchase` line, or a postpaid
    commit's true-up) over a period that began before its contract was created: a contract
    signed backdated.
    """
    created = {contract["id"]: contract["created_at"] for contract in state.get("contracts", [])}
    return {
        invoice["id"]
        for invoice in state["invoices"]
        if invoice.get("contract_id") in created
        and invoice["line_items"]
        and all(_pays_a_commit(line) for line in invoice["line_items"])
        and _before(invoice.get("start_timestamp"), created[invoice["contract_id"]])
    }


def _pays_a_commit(line: dict[str, Any]) -> bool:
    return line["type"] == "commit_purchase" or line.get("postpaid_commit") is not None


def invoice_filters(state: dict[str, Any], customer_id: str) -> list[InvoiceFilter]:
    """Each documented filter, with values drawn from what the account holds (the contract
    filter with the customer's own contracts, and one that matches nothing)."""
    filters = [_equal("status", status) for status in ("DRAFT", "FINALIZED", "VOID")]
    filters += [_equal("type", kind) for kind in ("USAGE", "USAGE_CONSOLIDATED", "SCHEDULED")]
    credit_types = sorted({invoice["credit_type"]["id"] for invoice in state["invoices"]})
    filters += [
        InvoiceFilter(
            f"credit_type_id={unit}",
            {"credit_type_id": unit},
            lambda invoice, unit=unit: invoice["credit_type"]["id"] == unit,
        )
        for unit in credit_types
    ]
    contracts = [c["id"] for c in state.get("contracts", []) if c["customer_id"] == customer_id]
    filters += [
        InvoiceFilter(
            f"contract_id={contract}",
            {"contract_id": contract},
            lambda invoice, contract=contract: invoice.get("contract_id") == contract,
        )
        for contract in [*contracts, NO_CONTRACT]
    ]
    return filters + _period_filters(state)


def _equal(field: str, value: str) -> InvoiceFilter:
    return InvoiceFilter(
        f"{field}={value}", {field: value}, lambda invoice: invoice.get(field) == value
    )


def _period_filters(state: dict[str, Any]) -> list[InvoiceFilter]:
    """`starting_on` inclusive on the period start, `ending_before` exclusive on its end."""
    starts = sorted({i["start_timestamp"] for i in state["invoices"] if i.get("start_timestamp")})
    since, until = starts[len(starts) // 3], starts[2 * len(starts) // 3]
    return [
        InvoiceFilter(
            f"starting_on={since}",
            {"starting_on": since},
            lambda invoice: _on_or_after(invoice.get("start_timestamp"), since),
            refusable=False,
        ),
        InvoiceFilter(
            f"ending_before={until}",
            {"ending_before": until},
            lambda invoice: _on_or_after(until, invoice.get("end_timestamp")),
            refusable=False,
        ),
        InvoiceFilter(
            f"starting_on={since}&ending_before={until}",
            {"starting_on": since, "ending_before": until},
            lambda invoice: (
                _on_or_after(invoice.get("start_timestamp"), since)
                and _on_or_after(until, invoice.get("end_timestamp"))
            ),
            refusable=False,
        ),
    ]


def _on_or_after(moment: str | None, bound: str | None) -> bool:
    """An invoice without a period matches no date filter."""
    if moment is None or bound is None:
        return False
    return _instant(moment) >= _instant(bound)


def _before(moment: str | None, bound: str) -> bool:
    return moment is not None and _instant(moment) < _instant(bound)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
