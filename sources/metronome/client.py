"""A small Metronome HTTP client: bearer auth, pacing, retries, cursor pages, typed errors.

Lists page by a query cursor (GET) or a body cursor (POST), one loop for both (`paging.py`).

Pacing, retries, deadlines and statistics come from `httpkit`, so all threads of one client
share one request rate and back off together on 429s, and no request outlasts its retry
budget. Bodies are parsed with `parse_float=Decimal` (money stays exact) and NaN/Infinity
become non-finite Decimals that record checks refuse. An answer whose body is not what the
endpoint promises (not JSON, a list without `{"data": [...]}`) is retried like a 5xx, then
raised: it is never read as "no records". The token only ever travels in the Authorization
header: no error, log or repr shows it. `StopRequested` (the process is stopping) passes
through unchanged.
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
    WaitBeyondBudget,
    check_base_url,
    redact,
    setup_fault,
)
from sources.metronome.listing import ANY_JSON, OBJECT, ListingProgress, Shape
from sources.metronome.paging import QUERY_CURSOR, PageRequest, Paging
from sources.metronome.settings import BASE_URL_KEY, MetronomeSettings

TOKEN_KEY = "SOURCES__METRONOME__API_TOKEN"
BUDGET_KEY = "SOURCES__METRONOME__RETRY_BUDGET_SECONDS"
# the setting to check for each kind of `httpkit.SetupFault`
SETUP_FAULT_KEYS = {
    "tls": BASE_URL_KEY,
    "certificate": BASE_URL_KEY,
    "protocol": BASE_URL_KEY,
    "header_name": TOKEN_KEY,
    "header_value": TOKEN_KEY,
    "request": TOKEN_KEY,
}
USER_AGENT = "billing-sync (metronome source)"
JSON_BODY = {"Content-Type": "application/json"}


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
    """The answer is not what the API promises (not JSON, no envelope, still after every
    retry), or a listing that makes no progress."""


class MetronomeRateLimitError(MetronomeError):
    """Metronome asked for a pause longer than what is left of the request's retry budget."""


class MetronomeSetupError(MetronomeError):
    """A fault no retry can fix (TLS, certificate, an illegal header); `key` is the
    environment variable to check."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


_JSON = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)


def parse_json(content: bytes) -> Any:
    """JSON with every non-integer number as an exact Decimal (NaN/Infinity included)."""
    return _JSON.decode(content.decode("utf-8"))


class MetronomeClient:
    """Thread-safe: one instance serves every resource and worker thread of a run."""

    def __init__(
        self,
        settings: MetronomeSettings,
        *,
        stats: RequestStats | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """A client with `settings`, whole; `stats` counts its requests with others'.

        `transport` replaces the network and `sleep` every wait (tests).
        """
        url = check_base_url(
            settings.base_url, key=BASE_URL_KEY, allow_insecure_http=settings.allow_insecure_http
        )
        self.page_size = settings.page_size
        self._token = settings.api_token
        timeout = settings.timeout_seconds
        self._http = CookielessClient(
            base_url=url,
            headers={
                "Authorization": f"Bearer {settings.api_token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            # the worker threads plus the main thread listing customers and plans
            limits=httpx.Limits(max_connections=settings.max_concurrency + 2),
            transport=transport,
        )
        self._sender = ResilientSender(
            http=self._http,
            policy=RetryPolicy(
                max_attempts=settings.max_attempts, budget_seconds=settings.retry_budget_seconds
            ),
            pacer=AdaptivePacer(rate=settings.requests_per_second or None),
            attempt_seconds=timeout,
            stats=stats,
            sleep=sleep,
        )
        self._server = self._http.base_url.netloc.decode("ascii")  # host[:port], for messages

    def __repr__(self) -> str:
        return f"MetronomeClient(base_url={str(self._http.base_url)!r})"

    @property
    def stats(self) -> RequestStats:
        return self._sender.stats

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` and return the parsed body; raises a `MetronomeError` on failure."""
        return self._read(path, PageRequest("GET", params or {}), _Reading(ANY_JSON))

    def get_object(self, path: str) -> dict[str, Any]:
        """GET a single object wrapped as `{"data": {...}}`."""
        data: dict[str, Any] = self._read(path, PageRequest("GET", {}), _Reading(OBJECT))["data"]
        return data

    def pages(
        self,
        path: str,
        options: Mapping[str, Any] | None = None,
        *,
        paging: Paging = QUERY_CURSOR,
        retry_statuses: frozenset[int] = frozenset(),
    ) -> Iterator[list[Any]]:
        """Every page of a cursor-paginated list, following its cursor until it is empty.

        `paging` says where the options, `limit` and cursor travel (`paging.py`): the query
        of a GET (`next_page`, the default) or the JSON body of a POST (`cursor`). The
        options are repeated on every page (as Metronome's SDK does). A page that is not
        `{"data": [...]}`, or answered one of `retry_statuses`, is retried like a 5xx, then
        raised. A listing that makes no progress (`listing.ListingProgress`) raises
        `MetronomeResponseError` instead of spinning forever.
        """
        request = paging.first(options or {}, self.page_size)
        progress = ListingProgress(paging.cursor_field)
        while True:
            body = self._read(path, request, _Reading(paging.shape, retry_statuses))
            page: list[Any] = body["data"]
            cursor = paging.cursor(body)
            if stalled := progress.stalled(page, cursor):
                raise MetronomeResponseError(
                    f"{request.method} {path}: {stalled}; stopping a listing that makes no progress"
                )
            yield page
            if cursor is None:
                return
            request = paging.following(request, cursor)

    def _read(self, path: str, request: PageRequest, reading: _Reading) -> Any:
        """The body of an answer that `reading` accepts; a typed error otherwise."""
        method = request.method
        try:
            response = self._sender.send(
                method,
                path,
                params=request.query or None,
                content=None if request.body is None else json.dumps(request.body).encode(),
                headers=None if request.body is None else JSON_BODY,
                unusable=reading.unusable,
            )
        except WaitBeyondBudget as exc:
            raise MetronomeRateLimitError(
                f"{method} {path}: Metronome {exc}; raise {BUDGET_KEY} to wait that long"
            ) from None
        except httpx.TransportError as exc:
            failure = self._transport_failure(f"{method} {path}", exc)
        else:
            if reading.accepted:
                return reading.body
            if response.status_code >= 400:
                raise _http_error(method, path, response)
            failure = MetronomeResponseError(
                f"{method} {path}: expected {reading.shape.expected}, got {reading.trouble}"
            )
        raise failure  # outside `except`: the transport error may quote the token

    def _transport_failure(self, call: str, exc: httpx.TransportError) -> MetronomeError:
        fault = setup_fault(exc, server=self._server)
        if fault is not None:
            key = SETUP_FAULT_KEYS[fault.kind]
            return MetronomeSetupError(key, f"{call}: {fault.detail}; check {key}")
        text = redact(str(exc), self._token)
        return MetronomeConnectionError(
            f"{call}: no answer from Metronome ({type(exc).__name__}: {text})"
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetronomeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reading:
    """One answer's body, parsed once while the sender asks whether to retry the answer."""

    def __init__(self, shape: Shape, retry_statuses: frozenset[int] = frozenset()) -> None:
        self.shape = shape
        self.retry_statuses = retry_statuses
        self.accepted = False
        self.body: Any = None
        self.trouble = ""

    def unusable(self, response: httpx.Response) -> bool:
        if response.status_code in self.retry_statuses:
            return True
        if response.is_error:
            return False  # mapped to its typed error by the client
        try:
            body = parse_json(response.content)
        except (ValueError, RecursionError):
            self.trouble = "a body that is not JSON"
            return True
        self.trouble = self.shape.problem(body) or ""
        if self.trouble:
            return True
        self.accepted, self.body = True, body
        return False


def _http_error(method: str, path: str, response: httpx.Response) -> MetronomeHTTPError:
    status = response.status_code
    message = _error_message(response)
    if status in (401, 403):
        return MetronomeAuthError(method, path, status, f"{message} (check {TOKEN_KEY})")
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
