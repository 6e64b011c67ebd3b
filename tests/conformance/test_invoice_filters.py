"""Each filter the SDK offers on the invoice list does what it documents, or is refused."""

from __future__ import annotations

from typing import Any

import metronome

from tests.conformance.census import Census, Ledger
from tests.conformance.conftest import Account, record
from tests.conformance.invoice_filters import historical_commit_invoices, invoice_filters

PAGE = 4


def test_each_filter_is_applied_or_refused(
    account: Account, sdk: metronome.Metronome, ledger: Ledger
) -> None:
    state = account.state()
    hidden = historical_commit_invoices(state)  # listed only on request
    problems = []
    for customer in state["customers"]:
        stored = [
            i
            for i in state["invoices"]
            if i["customer_id"] == customer["id"] and i["id"] not in hidden
        ]
        for check in invoice_filters(state, customer["id"]):
            where = f"customer {customer['id']} {check.name}"
            try:
                listed = _ids(sdk, customer["id"], **check.params)
            except metronome.BadRequestError as error:
                if not check.refusable:
                    problems.append(f"{where}: refused ({error.message})")
                continue
            expected = sorted(i["id"] for i in stored if check.keeps(i))
            if listed != expected:
                problems.append(f"{where}: listed {len(listed)}, documented {len(expected)}")
    _recorded(ledger, account, problems)
    assert problems == [], "\n".join(problems)


def test_sort_orders_by_issue_date(
    account: Account, sdk: metronome.Metronome, ledger: Ledger
) -> None:
    state = account.state()
    problems = []
    for customer in state["customers"]:
        stored = sorted(i["id"] for i in state["invoices"] if i["customer_id"] == customer["id"])
        for sort, descending in (("date_asc", False), ("date_desc", True)):
            invoices = list(
                sdk.v1.customers.invoices.list(
                    customer_id=customer["id"],
                    sort=sort,
                    limit=PAGE,
                    include_historical_commit_invoices=True,
                )
            )
            issued = [i.issued_at for i in invoices if i.issued_at is not None]
            if issued != sorted(issued, reverse=descending):
                problems.append(f"customer {customer['id']} sort={sort}: not in issue order")
            if sorted(i.id for i in invoices) != stored:
                problems.append(f"customer {customer['id']} sort={sort}: not every invoice")
    _recorded(ledger, account, problems)
    assert problems == [], "\n".join(problems)


def test_skip_zero_quantity_lines(
    account: Account, sdk: metronome.Metronome, ledger: Ledger
) -> None:
    state = account.state()
    problems = []
    for invoice in state["invoices"]:
        kept = [line for line in invoice["line_items"] if line.get("quantity") != 0]
        if len(kept) == len(invoice["line_items"]):
            continue  # nothing to skip: the list walk already read it whole
        read = sdk.v1.customers.invoices.retrieve(
            customer_id=invoice["customer_id"],
            invoice_id=invoice["id"],
            skip_zero_qty_line_items=True,
        ).data
        if len(read.line_items) != len(kept):
            shown = f"{len(read.line_items)} lines, {len(kept)} of non-zero quantity"
            problems.append(f"invoice {invoice['id']}: {shown}")
    _recorded(ledger, account, problems)
    assert problems == [], "\n".join(problems)


def test_historical_commit_invoices_only_on_request(
    account: Account, sdk: metronome.Metronome, ledger: Ledger
) -> None:
    """Off by default; asked for, the customer's historical commit invoices join the list."""
    state = account.state()
    hidden = historical_commit_invoices(state)
    problems = []
    for customer in state["customers"]:
        stored = {i["id"] for i in state["invoices"] if i["customer_id"] == customer["id"]}
        default = set(_ids(sdk, customer["id"]))
        without = set(_ids(sdk, customer["id"], include_historical_commit_invoices=False))
        if not default == without == stored - hidden:
            problems.append(f"customer {customer['id']}: the default list is not without them")
        if set(_ids(sdk, customer["id"], include_historical_commit_invoices=True)) != stored:
            problems.append(f"customer {customer['id']}: asked for, they are not all listed")
    _recorded(ledger, account, problems)
    assert problems == [], "\n".join(problems)


def _ids(sdk: metronome.Metronome, customer_id: str, **params: Any) -> list[str]:
    pages = sdk.v1.customers.invoices.list(customer_id=customer_id, limit=PAGE, **params)
    return sorted(invoice.id for invoice in pages)


def _recorded(ledger: Ledger, account: Account, problems: list[str]) -> None:
    """The filter checks' requests and problems join the run's counts."""
    census = Census(problems=list(problems))
    census.requests_by_route.update(account.emulator.requests()["by_route"])
    record(ledger, account, "invoice filters", census)
