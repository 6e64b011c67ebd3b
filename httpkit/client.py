"""An `httpx.Client` for token-authenticated APIs: it keeps no cookies.

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


class _DiscardedCookies(httpx.Cookies):
    """Cookies that answers never add to: always empty unless set by hand."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class CookielessClient(httpx.Client):
    """`httpx.Client` that ignores `Set-Cookie`; everything else is httpx's own behaviour.
    httpx reads the jar through the `cookies` property only, so overriding it suffices."""

    def __init__(self, **options: Any) -> None:
        if "cookies" in options:
            raise TypeError("CookielessClient keeps no cookies; send them as a header")
        super().__init__(**options)
        self._no_cookies = _DiscardedCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("CookielessClient keeps no cookies; send them as a header")
