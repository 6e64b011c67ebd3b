"""Quick, bounded reads for the pre-flight: one attempt each, a short timeout, no retries.

`check` must answer in seconds and `sync` must fail in seconds on a refused key, so these
reads do not go through the clients' retry budgets (two minutes per request by default):
one attempt of at most `QUICK_TIMEOUT_SECONDS` (or the API's own `timeout_seconds` if
shorter), paced at the API's `requests_per_second`, redirects not followed (they could carry
the key elsewhere). A read either reached the server (`Reached`: status and body, the secret
masked) or did not (`Unreached`: why, and whether no retry could fix it, a TLS fault).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from httpkit import (
    AdaptivePacer,
    CookielessClient,
    ResilientSender,
    RetryPolicy,
    WaitBeyondBudget,
    redact,
    setup_fault,
)
from pipelines.preflight.routes import Answer

QUICK_TIMEOUT_SECONDS = 5.0
USER_AGENT = "billing-sync-check"


@dataclass(frozen=True)
class Reached:
    status: int
    body: str  # the secret masked
    path: str

    def answer(self) -> Answer:
        return Answer.of(self.status, self.body, path=self.path)

    def json(self) -> Any:
        """The body parsed, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Unreached:
    reason: str  # one line, never the secret
    setup: bool  # a fault no retry fixes (TLS, certificate, an illegal header)


class QuickReader:
    """GETs under one base URL with the API's credential header; thread-safe."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secret: str,
        timeout_seconds: float,
        requests_per_second: float | None,
    ) -> None:
        self._secret = secret
        self._timeout = min(timeout_seconds, QUICK_TIMEOUT_SECONDS)
        self._http = CookielessClient(
            base_url=base_url,
            headers={**headers, "accept": "application/json", "user-agent": USER_AGENT},
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
        )
        self._sender = ResilientSender(
            http=self._http,
            policy=RetryPolicy(max_attempts=1, budget_seconds=self._timeout + 1),
            pacer=AdaptivePacer(rate=requests_per_second or None),
            attempt_seconds=self._timeout,
        )
        self._server = self._http.base_url.netloc.decode("ascii")

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Reached | Unreached:
        try:
            response = self._sender.send("GET", path, params=params)
        except WaitBeyondBudget as exc:
            return Unreached(f"not sent: {exc}", setup=False)
        except httpx.TransportError as exc:
            fault = setup_fault(exc, server=self._server)
            if fault is not None:
                return Unreached(fault.detail, setup=True)
            text = redact(str(exc) or "no detail", self._secret)
            return Unreached(f"no answer from {self._server} ({type(exc).__name__}: {text})", False)
        return Reached(response.status_code, redact(response.text, self._secret), path)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QuickReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
