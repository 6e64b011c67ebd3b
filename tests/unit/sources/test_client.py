"""MetronomeClient against scripted transports: pages, retries, typed errors, no secrets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from httpkit import InsecureBaseURLError
from sources.metronome import MetronomeSettings
from sources.metronome.client import (
    MetronomeAuthError,
    MetronomeClient,
    MetronomeConnectionError,
    MetronomeHTTPError,
    MetronomeNotFoundError,
    MetronomeResponseError,
)

TOKEN = "sk-very-secret-token"
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler, *, sleeps: list[float] | None = None, **options: Any
) -> MetronomeClient:
    waits = sleeps if sleeps is not None else []
    settings = MetronomeSettings(
        base_url="https://metronome.test", api_token=TOKEN, requests_per_second=0, **options
    )
    return MetronomeClient(settings, transport=httpx.MockTransport(handler), sleep=waits.append)


def paged(items: list[dict[str, object]]) -> Handler:
    """A list endpoint serving `items` with opaque numeric cursors."""

    def handle(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        start = int(request.url.params.get("next_page", "0"))
        end = start + limit
        cursor = str(end) if end < len(items) else None
        return httpx.Response(200, json={"data": items[start:end], "next_page": cursor})

    return handle


def test_pages_follow_next_page_and_repeat_the_original_params() -> None:
    seen: list[httpx.URL] = []
    serve = paged([{"id": str(i)} for i in range(5)])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return serve(request)

    client = make_client(handler, page_size=2)
    pages = list(client.pages("/v1/customers", {"only_archived": "true"}))

    assert [[row["id"] for row in page] for page in pages] == [["0", "1"], ["2", "3"], ["4"]]
    assert [url.params.get("next_page") for url in seen] == [None, "2", "4"]
    assert all(url.params["only_archived"] == "true" for url in seen)
    assert all(url.params["limit"] == "2" for url in seen)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"data": null, "next_page": null}', "data: null"),
        (b'{"next_page": null}', "no data"),
        (b'{"data": {"id": "x"}}', "data of type dict"),
        (b'[{"id": "x"}]', "a JSON list, not an object"),
        (b"<html>maintenance</html>", "a body that is not JSON"),
        (b'{"data": [], "next_page": 7}', "a next_page of type int"),
    ],
)
def test_a_malformed_page_is_retried_then_an_error_never_no_records(
    body: bytes, problem: str
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=body)

    client = make_client(handler, max_attempts=3)
    with pytest.raises(MetronomeResponseError, match=rf"expected a page .*got {problem}"):
        list(client.pages("/v1/plans"))
    assert len(calls) == 3  # retried like a 5xx


def test_a_malformed_page_that_heals_on_retry_is_read() -> None:
    answers = iter([httpx.Response(200, json={"data": None}), *_pages([[{"id": "a"}]])])
    client = make_client(lambda r: next(answers))
    assert list(client.pages("/v1/plans")) == [[{"id": "a"}]]


def test_statuses_asked_for_are_retried_like_a_5xx() -> None:
    answers = iter([httpx.Response(404, json={"message": "not yet"}), *_pages([[{"id": "a"}]])])
    client = make_client(lambda r: next(answers))
    pages = client.pages("/v1/customers/c/invoices", retry_statuses=frozenset({404}))
    assert list(pages) == [[{"id": "a"}]]
    gone = make_client(lambda r: httpx.Response(404, json={"message": "gone"}), max_attempts=2)
    with pytest.raises(MetronomeNotFoundError, match="gone"):
        list(gone.pages("/v1/customers/c/invoices", retry_statuses=frozenset({404})))
    assert gone.stats.attempts == 2
    once = make_client(lambda r: httpx.Response(404, json={"message": "gone"}))
    with pytest.raises(MetronomeNotFoundError):
        list(once.pages("/v1/customers/c/invoices"))
    assert once.stats.attempts == 1  # not asked: a 404 is final


def _pages(pages: list[list[dict[str, object]]]) -> list[httpx.Response]:
    """Answers serving `pages` in order, each pointing to the next by a fresh cursor."""
    return [
        httpx.Response(200, json={"data": page, "next_page": f"c{n}" if n < len(pages) else None})
        for n, page in enumerate(pages, 1)
    ]


@pytest.mark.parametrize(
    ("bodies", "stalled"),
    [
        ([{"data": [{"id": n}], "next_page": "same"} for n in "abc"],
         "next_page 'same' was already followed"),
        ([{"data": [{"id": "a"}], "next_page": f"c{n}"} for n in range(3)],
         "a page of 1 records all listed before"),
        ([{"data": [{"id": "a"}, {"id": "b"}], "next_page": "c1"},
          {"data": [{"id": "b"}, {"id": "a"}], "next_page": "c2"}],
         "a page of 2 records all listed before"),
        ([{"data": [], "next_page": f"c{n}"} for n in range(5)],
         "3 empty pages in a row, each with a next_page"),
    ],
)  # fmt: skip
def test_a_listing_that_makes_no_progress_stops(
    bodies: list[dict[str, object]], stalled: str
) -> None:
    answers = iter(bodies)
    client = make_client(lambda r: httpx.Response(200, json=next(answers)))
    with pytest.raises(MetronomeResponseError, match=f"{stalled}.*no progress"):
        list(client.pages("/v1/plans"))


def test_pages_that_make_progress_are_all_read() -> None:
    pages: list[list[dict[str, object]]] = [
        [{"id": "a"}, {"id": "b"}], [], [{"id": "b"}, {"id": "c"}], [], [], [{"x": 1}]
    ]  # fmt: skip
    answers = iter(_pages(pages))
    client = make_client(lambda r: next(answers))
    assert list(client.pages("/v1/plans")) == pages


def test_an_object_that_is_not_an_object_is_retried_then_an_error() -> None:
    client = make_client(lambda r: httpx.Response(200, json={"data": []}), max_attempts=2)
    with pytest.raises(MetronomeResponseError, match=r"expected \{'data': \{...\}\}"):
        client.get_object("/v1/planDetails/p")
    assert client.stats.attempts == 2


def test_money_parses_as_exact_decimals_and_nan_as_non_finite() -> None:
    body = b'{"data": {"total": 0.1, "count": 3, "bad": NaN, "huge": Infinity}}'
    client = make_client(lambda r: httpx.Response(200, content=body))
    data = client.get_object("/v1/planDetails/p")
    assert data["total"] == Decimal("0.1")
    assert data["count"] == 3
    assert data["bad"].is_nan()
    assert not data["huge"].is_finite()


def test_429_waits_for_retry_after_then_500_backs_off_then_succeeds() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "1.5"}, json={"message": "slow down"}),
            httpx.Response(500, json={"message": "oops"}),
            httpx.Response(200, json={"data": [], "next_page": None}),
        ]
    )
    sleeps: list[float] = []
    client = make_client(lambda r: next(answers), sleeps=sleeps)

    assert list(client.pages("/v1/plans")) == [[]]
    assert client.stats.attempts == 3
    assert client.stats.retries == 2
    assert client.stats.throttled == 1
    assert 1.5 in sleeps  # the server's hint, as given
    assert any(0 < s < 1.5 for s in sleeps)  # then a short jittered backoff


def test_connection_errors_are_retried_then_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = make_client(refuse, max_attempts=3)
    with pytest.raises(MetronomeConnectionError, match="no answer"):
        client.get("/v1/plans")
    assert client.stats.attempts == 3


def test_error_statuses_map_to_typed_errors_without_the_token() -> None:
    statuses = {401: MetronomeAuthError, 403: MetronomeAuthError, 404: MetronomeNotFoundError}
    for status, error in {**statuses, 400: MetronomeHTTPError}.items():
        client = make_client(lambda r, s=status: httpx.Response(s, json={"message": "nope"}))
        with pytest.raises(error) as raised:
            client.get("/v1/customers/c1/invoices")
        assert raised.value.status_code == status
        assert "nope" in str(raised.value)
        assert TOKEN not in str(raised.value)


def test_the_token_is_sent_as_bearer_and_never_shown() -> None:
    headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers)
        return httpx.Response(200, json={"data": {"id": "p"}})

    client = make_client(handler)
    client.get_object("/v1/planDetails/p")
    assert headers[0]["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(client)


def test_plain_http_is_refused_for_remote_hosts() -> None:
    with pytest.raises(InsecureBaseURLError, match="SOURCES__METRONOME__BASE_URL"):
        MetronomeClient(MetronomeSettings(base_url="http://metronome.example", api_token=TOKEN))
    MetronomeClient(MetronomeSettings(base_url="http://127.0.0.1:9", api_token=TOKEN)).close()
