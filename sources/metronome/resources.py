"""The generators behind each resource: list calls, per-customer reads, record checks.

Each yields API objects exactly as Metronome sent them, plus the parent id on child rows
(`customer_plans.customer_id`, `plan_charges.plan_id`; contracts and invoices carry their
own `customer_id`, checked against the customer they were listed under). The per-customer
and per-plan ones run as parallelized transformers: each call runs on dlt's extract threads,
and the client is thread-safe and paces all of them together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import dlt

from sources.metronome.client import (
    MetronomeClient,
    MetronomeNotFoundError,
    MetronomeResponseError,
)
from sources.metronome.cursors import CustomerCursor, InvoiceReadPlan, PeriodTracker
from sources.metronome.customer_reads import CustomerReads
from sources.metronome.paging import BODY_CURSOR
from sources.metronome.progress import CustomerFilter, ExtractProgress, ProgressSink, no_progress
from sources.metronome.records import (
    RejectSink,
    check_record,
    make_reject,
    record_key,
    split_valid,
)
from sources.metronome.settings import (
    CONTRACT_LIST_OPTIONS,
    CONTRACTS_PATH,
    CREDIT_TYPES_PATH,
    CUSTOMER_IDS_PER_REQUEST,
    CUSTOMER_PLANS_PATH,
    CUSTOMERS_PATH,
    INVOICE_LIST_OPTIONS,
    INVOICES_PATH,
    PLAN_CHARGES_PATH,
    PLAN_DETAILS_PATH,
    PLANS_PATH,
)

Row = dict[str, Any]
log = logging.getLogger(__name__)
# A customer was just listed, so a 404 on one of its lists is a glitch, retried like a 5xx.
LISTED_PARENT = frozenset({404})
# What fails one customer's read for this run (after the request's retries); any other
# error (auth, outage, a refused TLS handshake) fails the whole run.
UNREADABLE = (MetronomeNotFoundError, MetronomeResponseError)
PLANS_LIST, INVOICES_LIST, CONTRACTS_LIST = "customer plans", "invoices", "contracts"


def list_customers(
    client: MetronomeClient,
    customer_ids: Sequence[str] | None,
    on_reject: RejectSink,
    keep: CustomerFilter | None = None,
    on_progress: ProgressSink = no_progress,
) -> Iterator[Row]:
    """Active customers, then archived ones (Metronome lists those only on request).

    Only those `keep` accepts (all without it) are staged, rejected or read further.
    Customers are yielded one by one so that each feeds its own transformer calls.
    """
    for archived in ({}, {"only_archived": "true"}):
        for filter_ in _customer_filters(customer_ids):
            for page in client.pages(CUSTOMERS_PATH, {**filter_, **archived}):
                kept = page if keep is None else [r for r in page if keep(record_key(r))]
                for customer in split_valid("customers", kept, on_reject)[0]:
                    on_progress(ExtractProgress("listed", customer["id"]))
                    yield customer


def _customer_filters(customer_ids: Sequence[str] | None) -> list[dict[str, str]]:
    if customer_ids is None:
        return [{}]
    ids = sorted(set(customer_ids))
    return [
        {"customer_ids": ",".join(ids[i : i + CUSTOMER_IDS_PER_REQUEST])}
        for i in range(0, len(ids), CUSTOMER_IDS_PER_REQUEST)
    ]


def list_customer_plans(
    customer: Row, client: MetronomeClient, on_reject: RejectSink, reads: CustomerReads
) -> Iterator[list[Row]]:
    path = CUSTOMER_PLANS_PATH.format(customer_id=quote(customer["id"], safe=""))
    try:
        for page in client.pages(path, retry_statuses=LISTED_PARENT):
            rows = [_with(record, customer_id=customer["id"]) for record in page]
            if valid := split_valid("customer_plans", rows, on_reject)[0]:
                yield valid
    except UNREADABLE as error:
        reads.failed(customer["id"], PLANS_LIST, error, on_reject)
        return
    reads.succeeded(PLANS_LIST)


def list_contracts(
    customer: Row, client: MetronomeClient, on_reject: RejectSink, reads: CustomerReads
) -> Iterator[list[Row]]:
    """One customer's contracts (`POST /v2/contracts/list`, paged by a body cursor), each
    whole: subscriptions, commits, credits and scheduled charges stay in its JSON columns.

    All of them, archived ones included, on every run (`settings.CONTRACT_LIST_OPTIONS`
    says why): a customer has a handful, so this costs one request per customer, and a
    plan customer answers an empty page. A contract naming another customer is refused.
    """
    customer_id = customer["id"]
    options = {"customer_id": customer_id, **CONTRACT_LIST_OPTIONS}
    pages = client.pages(CONTRACTS_PATH, options, paging=BODY_CURSOR, retry_statuses=LISTED_PARENT)
    try:
        for page in pages:
            if valid := split_valid("contracts", page, on_reject, listed_under=customer_id)[0]:
                yield valid
    except UNREADABLE as error:  # its staged contracts stay as they were
        reads.failed(customer_id, CONTRACTS_LIST, error, on_reject)
        return
    reads.succeeded(CONTRACTS_LIST)


def list_plans(client: MetronomeClient, on_reject: RejectSink) -> Iterator[Row]:
    """Every plan, its list entry completed by its details (minimums, credit grants...)."""
    for page in client.pages(PLANS_PATH):
        for summary in page:
            if problem := check_record("plans", summary):
                on_reject(make_reject("plans", summary, problem))
                continue
            path = PLAN_DETAILS_PATH.format(plan_id=quote(summary["id"], safe=""))
            yield from split_valid("plans", [{**summary, **client.get_object(path)}], on_reject)[0]


def list_plan_charges(
    plan: Row, client: MetronomeClient, on_reject: RejectSink
) -> Iterator[list[Row]]:
    path = PLAN_CHARGES_PATH.format(plan_id=quote(plan["id"], safe=""))
    for page in _pages_unless_gone(client, path):
        rows = [_with(record, plan_id=plan["id"]) for record in page]
        if valid := split_valid("plan_charges", rows, on_reject)[0]:
            yield valid


def list_credit_types(client: MetronomeClient, on_reject: RejectSink) -> Iterator[list[Row]]:
    for page in client.pages(CREDIT_TYPES_PATH):
        if valid := split_valid("credit_types", page, on_reject)[0]:
            yield valid


def list_invoices(
    customer: Row,
    client: MetronomeClient,
    plan: InvoiceReadPlan,
    on_reject: RejectSink,
    now: datetime,
    *,
    reads: CustomerReads,
    on_progress: ProgressSink = no_progress,
) -> Iterator[list[Row]]:
    """One customer's invoices in the window its cursor (or the run's mode) decides.

    Why resource state and not `dlt.sources.incremental`: an incremental holds one cursor per
    resource, but every customer has its own latest period and open drafts. The cursors live
    in this resource's state as `{"customers": {customer_id: CustomerCursor.to_state()}}`,
    stored by dlt with the load (and restored from DuckDB if the working folder is lost).
    Each call runs on an extract thread and writes only its own customer's key, and only
    after the whole window was read: a list that fails (see `CustomerReads`) leaves the
    cursor as it was, so a transient 404 never drops the pin on an old draft.
    """
    customer_id = customer["id"]
    cursors = dlt.current.resource_state("invoices").setdefault("customers", {})
    previous = CustomerCursor.from_state(cursors.get(customer_id))
    params = {**INVOICE_LIST_OPTIONS, **plan.window(previous, now=now).params()}
    path = INVOICES_PATH.format(customer_id=quote(customer_id, safe=""))
    seen = PeriodTracker()
    rejected = 0
    try:
        for page in client.pages(path, params, retry_statuses=LISTED_PARENT):
            valid, rejects = split_valid("invoices", page, on_reject, listed_under=customer_id)
            rejected += rejects
            for invoice in valid:
                seen.observe(invoice)
            if valid:
                yield valid
    except UNREADABLE as error:  # its cursor stays: the next run reads the same window
        reads.failed(customer_id, INVOICES_LIST, error, on_reject)
        on_progress(ExtractProgress("failed", customer_id))
        return
    reads.succeeded(INVOICES_LIST)
    # a customer with a rejected invoice keeps its old cursor: the record is read again
    if plan.moves_cursors and not rejected:
        cursor = plan.next_cursor(previous, seen)
        if cursor is None:
            cursors.pop(customer_id, None)
        else:
            cursors[customer_id] = cursor.to_state()
    on_progress(ExtractProgress("read", customer_id))


def _pages_unless_gone(client: MetronomeClient, path: str) -> Iterator[list[Any]]:
    """The pages under a plan that may vanish between listing it and reading its charges."""
    try:
        yield from client.pages(path)
    except MetronomeNotFoundError as exc:
        log.warning("skipped (the parent is gone): %s", exc)


def _with(record: Any, **parent: str) -> Any:
    return {**record, **parent} if isinstance(record, dict) else record
