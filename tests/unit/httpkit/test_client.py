"""CookielessClient: no cookie rides along on the next request, and every connection httpx
opens itself honours the attempt deadline."""

from __future__ import annotations

import httpx
import pytest

from httpkit import CookielessClient
from httpkit.deadline import DeadlineBackend


def _client(seen: list[httpx.Request]) -> CookielessClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"set-cookie": "session=abc; Path=/"}, json={})

    return CookielessClient(transport=httpx.MockTransport(handler), base_url="http://api.test")


def test_cookies_set_by_answers_are_neither_kept_nor_sent() -> None:
    seen: list[httpx.Request] = []
    with _client(seen) as client:
        first = client.get("/v1/things")
        client.post("/v1/things", json={"a": 1})
        assert first.cookies["session"] == "abc"  # the answer still shows what it set
        assert not client.cookies
    assert [request.headers.get("cookie") for request in seen] == [None, None]


def test_a_plain_httpx_client_would_have_sent_the_cookie_back() -> None:
    """The behaviour CookielessClient exists to remove (guards against a vacuous test above)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"set-cookie": "session=abc; Path=/"})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://api.test") as plain:
        plain.get("/a")
        plain.get("/b")
    assert seen[1].headers.get("cookie") == "session=abc"


def test_cookies_cannot_be_configured() -> None:
    with pytest.raises(TypeError, match="keeps no cookies"):
        CookielessClient(cookies={"session": "abc"})
    with CookielessClient() as client, pytest.raises(TypeError, match="keeps no cookies"):
        client.cookies = {"session": "abc"}


def _backends(client: httpx.Client) -> list[object]:
    """The network backend under each transport httpx built (private to httpx 0.28.1 and
    httpcore 1.0.9: if they move, this fails, and so would the deadlines)."""
    transports = [client._transport, *client._mounts.values()]
    return [t._pool._network_backend for t in transports if isinstance(t, httpx.HTTPTransport)]


def test_every_connection_httpx_opens_honours_the_attempt_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")  # a proxy from the environment
    with CookielessClient(base_url="https://api.test") as client:
        backends = _backends(client)
        assert len(backends) == 2  # the direct transport and the proxy's
        assert all(isinstance(backend, DeadlineBackend) for backend in backends)


def test_a_callers_own_transport_is_left_as_given() -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(204))
    with CookielessClient(transport=mock, base_url="http://api.test") as client:
        assert client._transport is mock
        assert client.get("/x").status_code == 204
