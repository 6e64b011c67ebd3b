"""One line per HTTP attempt, and the one hook whoever counts requests listens on.

Every attempt `ResilientSender` makes (retries included) passes through `attempted`: it
logs at DEBUG on `httpkit.requests` (shown with `billing-sync -v`)

    GET /v1/customers/3f0c.../invoices -> 200 in 41 ms

and calls each listener with the same `RequestLine`. Only the method, the URL's path, the
status (or the transport error's class name) and the milliseconds are ever kept: never the
query string (an API may take a key there), the host's userinfo, headers or bodies.
Listeners are called on the sending thread, so they must be quick and thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("httpkit.requests")

# a log record's structured fields go under this attribute (JSON log lines add them)
FIELDS_ATTRIBUTE = "fields"


@dataclass(frozen=True)
class RequestLine:
    method: str
    path: str  # the URL's path only
    status: str  # the HTTP status code, or the transport error's class name
    milliseconds: int


Listener = Callable[[RequestLine], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def attempted(method: str, url: str, status: str, seconds: float) -> None:
    """Log one attempt and tell the listeners (nothing to do, nothing parsed: the common
    case of a run without `-v` and without a snapshot costs a check)."""
    with _lock:
        listeners = tuple(_listeners)
    logged = log.isEnabledFor(logging.DEBUG)
    if not (listeners or logged):
        return
    line = RequestLine(method.upper(), _path_of(url), status, round(seconds * 1000))
    if logged:
        log.debug(
            "%s %s -> %s in %d ms",
            line.method,
            line.path,
            line.status,
            line.milliseconds,
            extra={FIELDS_ATTRIBUTE: {"method": line.method, "path": line.path,
                                      "http_status": line.status, "ms": line.milliseconds}},
        )  # fmt: skip
    for listener in listeners:
        listener(line)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener` for every attempt made while the block runs, on any thread."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def _path_of(url: str) -> str:
    """The path of `url` alone, as sent; a URL that does not parse is not quoted at all.

    `urlsplit`, not `httpx.URL`: 3 microseconds instead of 40, on every request of a run
    that keeps a progress snapshot."""
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "(unparsable URL)"
