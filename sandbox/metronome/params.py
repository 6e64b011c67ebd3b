"""Query-string parsing for the API routes: Metronome's parameters, validated, else a 400.

List parameters are accepted both comma-joined (`customer_ids=a,b`, as the Stainless SDKs
send them) and repeated (`customer_ids=a&customer_ids=b`, the OpenAPI default). Every
invoice list parameter of the SDK (types/v1/customers/invoice_list_params.py) is honoured:
`skip_zero_qty_line_items` drops zero-quantity lines from the bodies served,
`include_historical_commit_invoices` (default false) lists historical commit invoices too;
`webhook_notification_id` only tells why the call was made. Unknown parameters are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import QueryParams

from sandbox.metronome.errors import BadRequest
from sandbox.metronome.filters import CustomerFilter, InvoiceFilter
from sandbox.metronome.paging import PageRequest
from sandbox.metronome.wire import parse_timestamp

DEFAULT_LIMIT = 25  # Metronome documents no default; this one still makes callers page
MAX_LIMIT = 100
MAX_CUSTOMER_IDS = 100
SORTS = ("date_asc", "date_desc")
INVOICE_TYPES = ("USAGE", "USAGE_CONSOLIDATED", "SCHEDULED")  # what the SDK's `type` accepts


@dataclass(frozen=True)
class InvoiceQuery:
    filter: InvoiceFilter
    page: PageRequest
    skip_zero_qty_line_items: bool = False
    include_historical_commit_invoices: bool = False


def page_request(params: QueryParams, *, descending: bool = False) -> PageRequest:
    raw_limit = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise BadRequest(f"limit must be an integer, got {raw_limit!r}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    cursor = params.get("next_page") or None
    return PageRequest(limit=limit, cursor=cursor, descending=descending)


def invoice_query(params: QueryParams, default_sort: str) -> InvoiceQuery:
    sort = params.get("sort") or default_sort
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    invoice_type = params.get("type") or None
    if invoice_type is not None and invoice_type not in INVOICE_TYPES:
        raise BadRequest(f"type must be one of {', '.join(INVOICE_TYPES)}, got {invoice_type!r}")
    invoice_filter = InvoiceFilter(
        statuses=frozenset(status.upper() for status in list_param(params, "status")),
        starting_on=timestamp_param(params, "starting_on"),
        ending_before=timestamp_param(params, "ending_before"),
        credit_type_id=params.get("credit_type_id") or None,
        invoice_type=invoice_type,
        contract_id=params.get("contract_id") or None,
    )
    return InvoiceQuery(
        invoice_filter,
        page_request(params, descending=sort == "date_desc"),
        skip_zero_qty_line_items=bool_param(params, "skip_zero_qty_line_items", default=False),
        include_historical_commit_invoices=bool_param(
            params, "include_historical_commit_invoices", default=False
        ),
    )


def customer_query(params: QueryParams) -> tuple[CustomerFilter, PageRequest]:
    customer_ids = list_param(params, "customer_ids")
    if len(customer_ids) > MAX_CUSTOMER_IDS:
        raise BadRequest(f"customer_ids accepts at most {MAX_CUSTOMER_IDS} ids")
    customer_filter = CustomerFilter(
        only_archived=bool_param(params, "only_archived", default=False),
        customer_ids=frozenset(customer_ids),
        ingest_alias=params.get("ingest_alias") or None,
    )
    return customer_filter, page_request(params)


def list_param(params: QueryParams, name: str) -> list[str]:
    values = []
    for raw in params.getlist(name):
        values += [value.strip() for value in raw.split(",") if value.strip()]
    return values


def bool_param(params: QueryParams, name: str, *, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"true", "1"}:
        return True
    if raw.lower() in {"false", "0"}:
        return False
    raise BadRequest(f"{name} must be true or false, got {raw!r}")


def timestamp_param(params: QueryParams, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    moment = parse_timestamp(raw)
    if moment is None:
        raise BadRequest(f"{name} must be an RFC 3339 timestamp, got {raw!r}")
    return moment
