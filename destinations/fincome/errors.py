"""Typed Fincome errors: one class per failure class, so callers catch exactly what they mean.

```
FincomeError
├── AuthenticationFailed   401 / 403: the key is wrong or lacks rights
├── RequestRejected        any other 4xx: this request will never succeed as it is
│   ├── ValidationFailed   422, with Fincome's `detail` list
│   ├── NotFound           404
│   └── Conflict           409
├── RateLimited            429, still after every retry
├── ServerError            5xx, still after every retry
├── ConnectionFailed       transport errors (connect, timeout, dropped), after every retry
└── UnexpectedResponse     a status or body the API never gives (3xx, a read that is not JSON)
```

Messages name the method, path, status and a short excerpt of the body, never the API key:
the client redacts it from anything the server echoes back.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

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
    """An answer outside the API's contract: a redirect, or a read whose body is not JSON."""


def error_for_response(response: httpx.Response, *, path: str, secret: str) -> FincomeError:
    """Map a final non-2xx response to its typed error."""
    method = response.request.method
    status = response.status_code
    excerpt = body_excerpt(response, secret=secret)
    message = f"{method} {path} answered {status}: {excerpt}"
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
    return text.replace(secret, REDACTED) if secret else text


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
