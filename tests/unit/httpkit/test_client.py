"""CookielessClient: a Set-Cookie from one answer never rides along on the next request."""

from __future__ import annotations

import httpx
import pytest

from httpkit import CookielessClient


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
