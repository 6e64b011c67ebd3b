"""Both paging strategies through the client's one loop: requests, limits, retries, stalls.

Each case runs once per strategy against a scripted transport that speaks that strategy's
wire format (the SDK's `SyncCursorPage` or `SyncBodyCursorPageCursorField`), so the GET
lists and the POST contract list are held to the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sources.metronome import MetronomeSettings
from sources.metronome.client import MetronomeClient, MetronomeResponseError
from sources.metronome.paging import BODY_CURSOR, QUERY_CURSOR, PageRequest, Paging

STRATEGIES = pytest.mark.parametrize("paging", [QUERY_CURSOR, BODY_CURSOR], ids=["query", "body"])
Handler = Callable[[httpx.Request], httpx.Response]


def sent_fields(paging: Paging, request: httpx.Request) -> dict[str, Any]:
    """What the request carries where `paging` puts its fields."""
    if paging.carrier == "query":
        return dict(request.url.params)
    assert request.headers["content-type"] == "application/json"
    fields: dict[str, Any] = json.loads(request.content)
    return fields


def answer(
    paging: Paging, page: list[Any], cursor: str | None, status: int = 200
) -> httpx.Response:
    return httpx.Response(status, json={"data": page, paging.cursor_field: cursor})


def client_for(handler: Handler, **options: Any) -> MetronomeClient:
    settings = MetronomeSettings(
        base_url="https://metronome.test", api_token="token", requests_per_second=0, **options
    )
    return MetronomeClient(
        settings, transport=httpx.MockTransport(handler), sleep=lambda seconds: None
    )


def serving(paging: Paging, items: list[dict[str, Any]], seen: list[httpx.Request]) -> Handler:
    """A list of `items` with opaque numeric cursors, in `paging`'s wire format."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        fields = sent_fields(paging, request)
        start, limit = int(fields.get(paging.cursor_field) or 0), int(fields["limit"])
        end = start + limit
        return answer(paging, items[start:end], str(end) if end < len(items) else None)

    return handle


@pytest.mark.parametrize(
    ("paging", "options", "first", "second"),
    [
        (QUERY_CURSOR, {"status": "DRAFT"},
         PageRequest("GET", {"limit": 2, "status": "DRAFT"}),
         PageRequest("GET", {"limit": 2, "status": "DRAFT", "next_page": "c1"})),
        (BODY_CURSOR, {"customer_id": "c", "include_archived": True},
         PageRequest("POST", {}, {"limit": 2, "customer_id": "c", "include_archived": True}),
         PageRequest("POST", {}, {"limit": 2, "customer_id": "c", "include_archived": True,
                                  "cursor": "c1"})),
    ],
)  # fmt: skip
def test_each_strategy_carries_options_limit_and_cursor_where_its_list_expects_them(
    paging: Paging, options: dict[str, Any], first: PageRequest, second: PageRequest
) -> None:
    request = paging.first(options, 2)
    assert request == first
    assert paging.following(request, "c1") == second
    assert request == first  # the first request is not changed by the next one


@pytest.mark.parametrize(
    ("paging", "page_size", "limit"),
    [(QUERY_CURSOR, 100, 100), (QUERY_CURSOR, 7, 7), (BODY_CURSOR, 100, 20), (BODY_CURSOR, 7, 7)],
)
def test_the_limit_is_the_page_size_capped_at_the_lists_own_maximum(
    paging: Paging, page_size: int, limit: int
) -> None:
    assert sent_limit(paging.first({}, page_size)) == limit


def sent_limit(request: PageRequest) -> Any:
    return (request.body or request.query)["limit"]


@pytest.mark.parametrize(
    ("paging", "body", "cursor"),
    [
        (QUERY_CURSOR, {"data": [], "next_page": "n"}, "n"),
        (QUERY_CURSOR, {"data": [], "next_page": ""}, None),
        (QUERY_CURSOR, {"data": [], "cursor": "n"}, None),
        (BODY_CURSOR, {"data": [], "cursor": "n"}, "n"),
        (BODY_CURSOR, {"data": [], "cursor": None}, None),
        (BODY_CURSOR, {"data": []}, None),
        (BODY_CURSOR, {"data": [], "next_page": "n"}, None),
    ],
)
def test_the_next_cursor_is_read_from_the_strategys_own_field(
    paging: Paging, body: dict[str, Any], cursor: str | None
) -> None:
    assert paging.cursor(body) == cursor


@STRATEGIES
def test_every_page_is_followed_with_the_same_method_and_options(paging: Paging) -> None:
    seen: list[httpx.Request] = []
    items = [{"id": str(i)} for i in range(5)]
    client = client_for(serving(paging, items, seen), page_size=2)

    pages = list(client.pages("/list", {"customer_id": "c"}, paging=paging))

    assert [[row["id"] for row in page] for page in pages] == [["0", "1"], ["2", "3"], ["4"]]
    assert {request.method for request in seen} == {paging.method}
    fields = [sent_fields(paging, request) for request in seen]
    assert [f.get(paging.cursor_field) for f in fields] == [None, "2", "4"]
    assert all(f["customer_id"] == "c" and int(f["limit"]) == 2 for f in fields)


@STRATEGIES
def test_a_5xx_and_a_429_are_retried_on_either_strategy(paging: Paging) -> None:
    sleeps: list[float] = []
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}, json={"message": "slow down"}),
            httpx.Response(503, json={"message": "busy"}),
            answer(paging, [{"id": "a"}], None),
        ]
    )
    client = MetronomeClient(
        MetronomeSettings(base_url="https://metronome.test", api_token="token"),
        transport=httpx.MockTransport(lambda request: next(answers)),
        sleep=sleeps.append,
    )
    assert list(client.pages("/list", paging=paging)) == [[{"id": "a"}]]
    assert (client.stats.attempts, client.stats.retries, client.stats.throttled) == (3, 2, 1)
    assert 2.0 in sleeps


@STRATEGIES
def test_a_cursor_of_the_wrong_type_is_a_malformed_page(paging: Paging) -> None:
    client = client_for(lambda request: answer(paging, [], 7), max_attempts=2)
    with pytest.raises(MetronomeResponseError, match=f"a {paging.cursor_field} of type int"):
        list(client.pages("/list", paging=paging))
    assert client.stats.attempts == 2


@pytest.mark.parametrize(
    ("pages", "stalled"),
    [
        ([([{"id": n}], "same") for n in "abc"], "{cursor} 'same' was already followed"),
        ([([{"id": "a"}], f"c{n}") for n in range(3)], "a page of 1 records all listed before"),
        ([([], f"c{n}") for n in range(5)], "3 empty pages in a row, each with a {cursor}"),
    ],
)
@STRATEGIES
def test_a_listing_that_makes_no_progress_stops_on_either_strategy(
    paging: Paging, pages: list[tuple[list[Any], str]], stalled: str
) -> None:
    answers = iter(answer(paging, page, cursor) for page, cursor in pages)
    client = client_for(lambda request: next(answers))
    message = stalled.format(cursor=paging.cursor_field)
    with pytest.raises(MetronomeResponseError, match=f"^{paging.method} /list: {message}"):
        list(client.pages("/list", paging=paging))
