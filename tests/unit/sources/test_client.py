"""MetronomeClient against scripted transports: pages, retries, typed errors, no secrets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from httpkit import InsecureBaseURLError
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
    return MetronomeClient(
        base_url="https://metronome.test",
        api_token=TOKEN,
        requests_per_second=None,
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
        **options,
    )


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


def test_last_page_with_null_data_is_empty() -> None:
    client = make_client(lambda r: httpx.Response(200, json={"data": None, "next_page": None}))
    assert list(client.pages("/v1/plans")) == [[]]


def test_a_repeated_cursor_stops_the_walk() -> None:
    client = make_client(lambda r: httpx.Response(200, json={"data": [{}], "next_page": "same"}))
    with pytest.raises(MetronomeResponseError, match="already followed"):
        list(client.pages("/v1/plans"))


def test_a_page_without_an_envelope_is_refused() -> None:
    client = make_client(lambda r: httpx.Response(200, json=[{"id": "x"}]))
    with pytest.raises(MetronomeResponseError, match="expected a page"):
        list(client.pages("/v1/plans"))


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
        MetronomeClient(base_url="http://metronome.example", api_token=TOKEN)
    MetronomeClient(base_url="http://127.0.0.1:9", api_token=TOKEN).close()
