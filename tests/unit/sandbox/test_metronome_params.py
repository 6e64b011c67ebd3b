"""Query-string rules of the Metronome emulator: limits, sorts, dates, list parameters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.datastructures import QueryParams

from sandbox.metronome.errors import BadRequest
from sandbox.metronome.params import DEFAULT_LIMIT, customer_query, invoice_query, page_request


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "2.5"])
def test_a_limit_outside_1_to_100_is_a_bad_request(limit: str) -> None:
    with pytest.raises(BadRequest, match="limit"):
        page_request(QueryParams({"limit": limit}))


def test_limit_defaults_and_bounds() -> None:
    assert page_request(QueryParams("")).limit == DEFAULT_LIMIT
    assert page_request(QueryParams("limit=1")).limit == 1
    assert page_request(QueryParams("limit=100&next_page=abc")).cursor == "abc"


@pytest.mark.parametrize(
    "query",
    [
        "sort=newest",
        "starting_on=yesterday",
        "ending_before=2026-13-01T00:00:00Z",
        "type=PLAN_ARREARS",
        "skip_zero_qty_line_items=maybe",
        "include_historical_commit_invoices=2",
    ],
)
def test_bad_sort_and_dates_are_bad_requests(query: str) -> None:
    with pytest.raises(BadRequest):
        invoice_query(QueryParams(query), "date_asc")


def test_invoice_query_reads_metronome_parameters() -> None:
    query = "status=draft,FINALIZED&status=VOID&starting_on=2026-03-01T00:00:00Z"
    query += (
        "&ending_before=2026-04-01&sort=date_desc&credit_type_id=ct&skip_zero_qty_line_items=true"
    )
    parsed = invoice_query(QueryParams(query), "date_asc")
    invoice_filter, request = parsed.filter, parsed.page
    assert parsed.skip_zero_qty_line_items
    assert invoice_filter.statuses == {"DRAFT", "FINALIZED", "VOID"}
    assert invoice_filter.starting_on == datetime(2026, 3, 1, tzinfo=UTC)
    assert invoice_filter.ending_before == datetime(2026, 4, 1, tzinfo=UTC)
    assert invoice_filter.credit_type_id == "ct"
    assert request.descending


def test_the_default_sort_is_the_store_setting() -> None:
    assert invoice_query(QueryParams(""), "date_desc").page.descending
    assert not invoice_query(QueryParams(""), "date_asc").page.descending


def test_customer_ids_may_be_comma_joined_or_repeated() -> None:
    customer_filter, _ = customer_query(QueryParams("customer_ids=a,b&customer_ids=c"))
    assert customer_filter.customer_ids == {"a", "b", "c"}
    with pytest.raises(BadRequest):
        customer_query(QueryParams("customer_ids=" + ",".join(str(i) for i in range(101))))


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("False", False), ("1", True)])
def test_only_archived_is_a_boolean(raw: str, expected: bool) -> None:
    assert customer_query(QueryParams({"only_archived": raw}))[0].only_archived is expected


def test_only_archived_refuses_other_words() -> None:
    with pytest.raises(BadRequest, match="only_archived"):
        customer_query(QueryParams("only_archived=maybe"))
