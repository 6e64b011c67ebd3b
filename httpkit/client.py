"""An `httpx.Client` for token-authenticated APIs: it keeps no cookies, and every connection
it opens honours the deadline of the attempt in flight (`httpkit.deadline`).

httpx stores every `Set-Cookie` it is answered with and sends it back on the next request,
with no switch to turn that off (encode/httpx#2992). An API client authenticated by a header
wants neither half: a cookie one answer sets must not ride along on later requests, least of
all across the threads sharing the client. The jar is also costly: httpx wraps every
response and its request in `urllib` adaptors before the jar looks for `Set-Cookie`, 0.06 of
the 0.52 ms of CPU a request took against the emulator (`benchmarks/notes.md`, 16).
"""

from __future__ import annotations

from typing import Any

import httpx

from httpkit.deadline import DeadlineBackend


class _DiscardedCookies(httpx.Cookies):
    """Cookies that answers never add to: always empty unless set by hand."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class CookielessClient(httpx.Client):
    """`httpx.Client` that ignores `Set-Cookie` and bounds each attempt by its deadline;
    everything else is httpx's own behaviour (environment proxies included).

    httpx reads the jar through the `cookies` property only, so overriding it suffices. A
    caller's own `transport=` (a test's `MockTransport`) is used as given.
    """

    def __init__(self, **options: Any) -> None:
        if "cookies" in options:
            raise TypeError("CookielessClient keeps no cookies; send them as a header")
        super().__init__(**options)
        self._no_cookies = _DiscardedCookies()
        _bound_by_deadlines(self, caller_transport=options.get("transport") is not None)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("CookielessClient keeps no cookies; send them as a header")


def _bound_by_deadlines(client: httpx.Client, *, caller_transport: bool) -> None:
    """Put `DeadlineBackend` under the transports httpx built: the default one and the
    proxies it read from the environment.

    This reaches into private attributes of the pinned httpx 0.28.1 and httpcore 1.0.9
    (httpx offers no way to pass a network backend while keeping its proxy handling):
    `Client._transport` and `Client._mounts` hold the transports, `HTTPTransport._pool` is
    an httpcore `ConnectionPool` (its proxy pools subclass it), and the pool opens every
    connection through `_network_backend`. Reading the attribute first makes a renamed one
    fail loudly here, and tests/unit/httpkit/test_client.py checks the backend is in place.
    """
    built = [*client._mounts.values()] + ([] if caller_transport else [client._transport])
    for transport in built:
        if isinstance(transport, httpx.HTTPTransport):
            pool = transport._pool
            pool._network_backend = DeadlineBackend(pool._network_backend)
