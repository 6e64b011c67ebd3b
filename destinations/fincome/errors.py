"""Typed Fincome errors: one class per failure class, so callers catch exactly what they mean.

```
FincomeError
├── AuthenticationFailed   401 / 403: the key is wrong or lacks rights
├── RequestRejected        any other 4xx: this request will never succeed as it is
│   ├── ValidationFailed   422, with Fincome's `detail` list
│   ├── NotFound           404
│   └── Conflict           409
├── RateLimited            429 after every retry, or a Retry-After beyond the retry budget
├── ServerError            5xx, still after every retry
├── ConnectionFailed       transport errors (connect, timeout, dropped), after every retry
├── UnexpectedResponse     a status or body the API never gives (3xx, a read that is not JSON)
├── EndpointMissing        a write's endpoint does not exist (405, or 404 on a create)
└── SetupFailed            a fault no retry can fix (TLS, certificate, an illegal header)
```

`EndpointMissing` and `SetupFailed` carry `key`, the setting to fix (dotted, e.g.
`destination.fincome.base_url`): they are configuration faults, not refusals of a record.
Messages name the method, path, status and a short excerpt of the body, never the API key:
the client redacts it from anything the server echoes back.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

import httpkit
from destinations.fincome.settings import CONFIG_SECTION

EXCERPT_CHARS = 300
REDACTED = "[redacted]"


class FincomeError(Exception):
    """Base of every error the Fincome client raises."""

    def __init__(
        self, message: str, *, method: str, path: str, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status_code = status_code


class AuthenticationFailed(FincomeError):
    """401/403: the API key is missing, wrong or not allowed to do this."""


class RequestRejected(FincomeError):
    """A 4xx other than auth and rate limiting: the request itself is refused."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status_code: int | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status_code=status_code)
        self.detail = detail


class ValidationFailed(RequestRejected):
    """422: a bad body or a reference to a missing parent; `detail` lists what is wrong."""

    @property
    def reason(self) -> str:
        """One line a person can act on, from the first entry of `detail`."""
        entries = self.detail if isinstance(self.detail, list) else []
        if not entries:
            return str(self)
        first = entries[0]
        text = _describe_detail(first) if isinstance(first, dict) else str(first)
        more = f" (+{len(entries) - 1} more)" if len(entries) > 1 else ""
        return f"Fincome refused the body: {text}{more}"


class NotFound(RequestRejected):
    """404: no such item (or no such endpoint)."""


class Conflict(RequestRejected):
    """409: an item with this id already exists."""


class RateLimited(FincomeError):
    """429 on every attempt the retry policy allowed."""


class ServerError(FincomeError):
    """5xx on every attempt the retry policy allowed."""


class ConnectionFailed(FincomeError):
    """The request never got an answer (connect error, timeout, dropped connection)."""


class UnexpectedResponse(FincomeError):
    """An answer outside the API's contract: a redirect, a read whose body is not JSON, or a
    listing that makes no progress."""


class _KeyedError(FincomeError):
    def __init__(
        self, message: str, *, key: str, method: str, path: str, status_code: int | None = None
    ) -> None:
        super().__init__(message, method=method, path=path, status_code=status_code)
        self.key = key


class EndpointMissing(_KeyedError):
    """The endpoint of a write does not exist: a wrong base URL or collection path (or a
    proxy refusing the method). Every write of that collection would fail the same way, so
    this is not a refusal of one record."""


class SetupFailed(_KeyedError):
    """A transport fault no retry can fix: TLS, a certificate, an illegal header name or
    value. `key` names the setting to check."""


def error_for_response(
    response: httpx.Response, *, path: str, secret: str, collection: str | None = None
) -> FincomeError:
    """Map a final non-2xx response to its typed error; `collection` names a write's."""
    method = response.request.method
    status = response.status_code
    excerpt = body_excerpt(response, secret=secret)
    message = f"{method} {path} answered {status}: {excerpt}"
    if collection is not None and (status == 405 or (status == 404 and method == "POST")):
        return endpoint_missing(method, path, status, collection)
    if status in (401, 403):
        return AuthenticationFailed(message, method=method, path=path, status_code=status)
    if status == 429:
        return RateLimited(message, method=method, path=path, status_code=status)
    if status >= 500:
        return ServerError(message, method=method, path=path, status_code=status)
    if 400 <= status < 500:
        cls = {422: ValidationFailed, 404: NotFound, 409: Conflict}.get(status, RequestRejected)
        detail = _detail(response, secret=secret)
        return cls(message, method=method, path=path, status_code=status, detail=detail)
    return UnexpectedResponse(message, method=method, path=path, status_code=status)


def endpoint_missing(method: str, path: str, status: int, collection: str) -> EndpointMissing:
    key = f"{CONFIG_SECTION}.paths.{collection}"
    message = (
        f"{method} {path} answered {status}: Fincome has no such endpoint; check "
        f"{CONFIG_SECTION}.base_url and [{CONFIG_SECTION}.paths] ({collection})"
    )
    return EndpointMissing(message, key=key, method=method, path=path, status_code=status)


def setup_failed(fault: httpkit.SetupFault, *, method: str, path: str) -> SetupFailed:
    key = f"{CONFIG_SECTION}.{SETUP_FAULT_SETTINGS[fault.kind]}"
    message = f"{method} {path} failed: {fault.detail}; check {key}"
    return SetupFailed(message, key=key, method=method, path=path)


# the setting to check for each kind of `httpkit.SetupFault`
SETUP_FAULT_SETTINGS = {
    "tls": "base_url",
    "certificate": "base_url",
    "protocol": "base_url",
    "header_name": "api_key_header",
    "header_value": "api_key",
    "request": "api_key",
}


def connection_failed(
    exc: httpx.TransportError, *, method: str, path: str, secret: str
) -> ConnectionFailed:
    text = redact(str(exc) or "no detail", secret)
    message = f"{method} {path} failed: {type(exc).__name__}: {text}"
    return ConnectionFailed(message, method=method, path=path)


def body_excerpt(response: httpx.Response, *, secret: str) -> str:
    text = redact(response.text.strip(), secret) or "(empty body)"
    if len(text) > EXCERPT_CHARS:
        return text[:EXCERPT_CHARS] + "..."
    return text


def redact(text: str, secret: str) -> str:
    return httpkit.redact(text, secret, REDACTED)


def _detail(response: httpx.Response, *, secret: str) -> Any:
    """Fincome's `detail`, parsed from the redacted text so no echoed key survives in it."""
    try:
        payload = orjson.loads(redact(response.text, secret))
    except orjson.JSONDecodeError:
        return None
    return payload.get("detail") if isinstance(payload, dict) else None


def _describe_detail(entry: dict[str, Any]) -> str:
    loc = entry.get("loc")
    where = ".".join(str(part) for part in loc) if isinstance(loc, list) else str(loc or "")
    message = str(entry.get("msg") or entry.get("type") or "invalid")
    return f"{where}: {message}" if where else message
