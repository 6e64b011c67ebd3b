"""A small Metronome HTTP client: bearer auth, pacing, retries, cursor pages, typed errors.

Pacing, retries and statistics come from `httpkit`, so all threads of one client share one
request rate and back off together on 429s. Bodies are parsed with `parse_float=Decimal`
(money stays exact) and NaN/Infinity become non-finite Decimals that record checks refuse.
The token only ever travels in the Authorization header: no error, log or repr shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from httpkit import (
    AdaptivePacer,
    CookielessClient,
    RequestStats,
    ResilientSender,
    RetryPolicy,
    check_base_url,
)
from sources.metronome.settings import MAX_PAGE_SIZE, MetronomeSettings

BASE_URL_KEY = "SOURCES__METRONOME__BASE_URL"
USER_AGENT = "billing-sync (metronome source)"


class MetronomeError(Exception):
    """Anything that stops a Metronome call from giving usable data."""


class MetronomeHTTPError(MetronomeError):
    """Metronome answered an error status (after retries, when it was retryable)."""

    def __init__(self, method: str, path: str, status_code: int, message: str) -> None:
        super().__init__(f"{method} {path} answered HTTP {status_code}: {message}")
        self.status_code = status_code


class MetronomeAuthError(MetronomeHTTPError):
    """401/403: the token is wrong, expired, or not allowed to read this endpoint."""


class MetronomeNotFoundError(MetronomeHTTPError):
    """404: the object is unknown to Metronome."""


class MetronomeConnectionError(MetronomeError):
    """The request never got an answer (refused, reset, timed out), retries included."""


class MetronomeResponseError(MetronomeError):
    """The answer is not what the API promises: not JSON, no envelope, or a cursor loop."""


_JSON = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)


def parse_json(content: bytes) -> Any:
    """JSON with every non-integer number as an exact Decimal (NaN/Infinity included)."""
    return _JSON.decode(content.decode("utf-8"))


class MetronomeClient:
    """Thread-safe: one instance serves every resource and worker thread of a run."""

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str,
        page_size: int = MAX_PAGE_SIZE,
        requests_per_second: float | None = 8.0,
        timeout_seconds: float = 60.0,
        max_attempts: int = 8,
        retry_budget_seconds: float = 120.0,
        max_connections: int = 10,
        allow_insecure_http: bool = False,
        stats: RequestStats | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """`transport` replaces the network and `sleep` every wait (tests)."""
        url = check_base_url(base_url, key=BASE_URL_KEY, allow_insecure_http=allow_insecure_http)
        self.page_size = page_size
        self._http = CookielessClient(
            base_url=url,
            headers={
                "Authorization": f"Bearer {api_token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)),
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )
        self._sender = ResilientSender(
            http=self._http,
            policy=RetryPolicy(max_attempts=max_attempts, budget_seconds=retry_budget_seconds),
            pacer=AdaptivePacer(rate=requests_per_second or None),
            attempt_seconds=timeout_seconds,
            stats=stats,
            sleep=sleep,
        )

    @classmethod
    def from_settings(
        cls,
        settings: MetronomeSettings,
        *,
        stats: RequestStats | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> MetronomeClient:
        return cls(
            base_url=settings.base_url,
            api_token=settings.api_token,
            page_size=settings.page_size,
            requests_per_second=settings.requests_per_second or None,
            timeout_seconds=settings.timeout_seconds,
            max_attempts=settings.max_attempts,
            retry_budget_seconds=settings.retry_budget_seconds,
            # the worker threads plus the main thread listing customers and plans
            max_connections=settings.max_concurrency + 2,
            allow_insecure_http=settings.allow_insecure_http,
            stats=stats,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"MetronomeClient(base_url={str(self._http.base_url)!r})"

    @property
    def stats(self) -> RequestStats:
        return self._sender.stats

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` and return the parsed body; raises a `MetronomeError` on failure."""
        try:
            response = self._sender.send("GET", path, params=params)
        except httpx.TransportError as exc:
            raise MetronomeConnectionError(
                f"GET {path}: no answer from Metronome ({type(exc).__name__}: {exc})"
            ) from None
        if response.status_code >= 400:
            raise _http_error("GET", path, response)
        try:
            return parse_json(response.content)
        except ValueError:
            raise MetronomeResponseError(f"GET {path}: the answer is not JSON") from None

    def get_object(self, path: str) -> dict[str, Any]:
        """GET a single object wrapped as `{"data": {...}}`."""
        body = self.get(path)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise MetronomeResponseError(f"GET {path}: expected {{'data': {{...}}}}")
        return data

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[Any]]:
        """Every page of a cursor-paginated list, following `next_page` until it is empty.

        The original params are repeated on every page (as Metronome's SDK does); a cursor
        seen before means the server is looping, which raises instead of spinning forever.
        """
        query: dict[str, Any] = {"limit": self.page_size, **(params or {})}
        seen: set[str] = set()
        while True:
            body = self.get(path, query)
            data = body.get("data") if isinstance(body, dict) else "no envelope"
            if data is not None and not isinstance(data, list):
                raise MetronomeResponseError(f"GET {path}: expected a page {{'data': [...]}}")
            yield data or []  # a last page of `"data": null` is an empty page
            cursor = body.get("next_page")
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise MetronomeResponseError(
                    f"GET {path}: next_page {cursor!r} was already followed; stopping a loop"
                )
            seen.add(cursor)
            query["next_page"] = cursor

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetronomeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _http_error(method: str, path: str, response: httpx.Response) -> MetronomeHTTPError:
    status = response.status_code
    message = _error_message(response)
    if status in (401, 403):
        return MetronomeAuthError(
            method, path, status, f"{message} (check SOURCES__METRONOME__API_TOKEN)"
        )
    if status == 404:
        return MetronomeNotFoundError(method, path, status, message)
    return MetronomeHTTPError(method, path, status, message)


def _error_message(response: httpx.Response) -> str:
    """Metronome's `{"message": ...}` when there is one, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text: str = body["message"]
    else:
        text = response.text or response.reason_phrase
    return " ".join(text.split())[:200]
