"""Send one request with pacing, the retry policy, deadlines and the stop switch.

One request never outlasts its retry budget by more than a moment: each attempt (connect,
headers and whole body) ends by `attempt_seconds` after it starts and by the end of the
budget (`httpkit.deadline`); pacing waits and pauses between attempts must fit in what is
left, or the request ends at once. When the process is stopping (`httpkit.stopping`) no
attempt starts, every wait wakes, and an attempt on the wire is abandoned after the grace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from httpkit.deadline import attempt_deadline
from httpkit.faults import is_setup_fault
from httpkit.pacing import AdaptivePacer
from httpkit.requestlog import attempted
from httpkit.retry import Pause, RetryPolicy, WaitBeyondBudget, retry_after_seconds
from httpkit.stats import RequestStats
from httpkit.stopping import PROCESS_STOP, StopSwitch

log = logging.getLogger(__name__)

ResponseCheck = Callable[[httpx.Response], bool]


def _always_usable(response: httpx.Response) -> bool:
    return False


class ResilientSender:
    """Wraps an `httpx.Client`: every attempt waits for a pacing slot; retryable outcomes
    (429, 408, 5xx, transport errors other than setup faults, answers the caller cannot
    use) are retried per `policy`.

    `send` returns the last response, successful or not, so the caller maps statuses to its
    own typed errors; when the last attempt failed in transport, that exception propagates.
    Setup faults (`httpkit.faults`) propagate at once. `WaitBeyondBudget` and
    `StopRequested` end the request as they say. `sleep` replaces the stop switch's waits
    (tests).
    """

    def __init__(
        self,
        *,
        http: httpx.Client,
        policy: RetryPolicy,
        pacer: AdaptivePacer,
        attempt_seconds: float,
        stats: RequestStats | None = None,
        stop: StopSwitch = PROCESS_STOP,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.http = http
        self.policy = policy
        self.pacer = pacer
        self.attempt_seconds = attempt_seconds
        self.stats = stats or RequestStats()
        self.stop = stop
        self._sleep = sleep

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        unusable: ResponseCheck = _always_usable,
    ) -> httpx.Response:
        """`unusable(response)` True retries an answer like a 5xx (a malformed body)."""
        budget_ends = time.monotonic() + self.policy.budget_seconds
        retries = 0
        while True:
            try:
                response = self._attempt(
                    method, url, budget_ends, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if is_setup_fault(exc):
                    raise
                pause = self._pause_after(retries, None, budget_ends)
                if pause is None:
                    raise
                reason = type(exc).__name__
            else:
                retryable = self.policy.is_retryable_status(response.status_code)
                if not (retryable or unusable(response)):
                    return response
                pause = self._pause_after(retries, response, budget_ends)
                if pause is None:
                    return response
                reason = f"HTTP {response.status_code}" + ("" if retryable else ", unusable")
            retries += 1
            self.stats.count_retry()
            log.info("retrying after %s (attempt %d, waiting %.2fs)", reason, retries, pause)
            self._wait(pause)

    def _attempt(
        self,
        method: str,
        url: str,
        budget_ends: float,
        *,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        self.stop.raise_if_requested()
        self._wait_for_slot(budget_ends)
        began = time.monotonic()
        ends_at = min(began + self.attempt_seconds, budget_ends)
        with attempt_deadline(ends_at, self.stop):
            try:
                response = self.http.request(
                    method, url, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                self.stats.record(type(exc).__name__)
                attempted(method, url, type(exc).__name__, time.monotonic() - began)
                raise
        status = response.status_code
        attempted(method, url, str(status), time.monotonic() - began)
        self.stats.record(str(status), throttled=status == 429)
        if status == 429:
            self.pacer.throttled()
        elif status < 400:
            self.pacer.succeeded()
        return response

    def _wait_for_slot(self, budget_ends: float) -> None:
        left = budget_ends - time.monotonic()
        wait = self.pacer.reserve(within=left)
        if wait > left:
            raise WaitBeyondBudget(
                asked_seconds=wait, left_seconds=left, reason="the pause after a 429, shared"
            )
        if wait > 0:
            self._wait(wait)

    def _pause_after(
        self, retries: int, response: httpx.Response | None, budget_ends: float
    ) -> float | None:
        """Seconds to wait before the next attempt, None to give up; a 429's pause that
        is really taken is shared with every thread through the pacer."""
        hint = retry_after_seconds(response) if response is not None else None
        left = budget_ends - time.monotonic()
        pause: Pause | None = self.policy.next_pause(retries, retry_after=hint, left=left)
        if pause is None:
            return None
        if pause.asked_by_server and response is not None and response.status_code == 429:
            self.pacer.hold(pause.seconds)
        return pause.seconds

    def _wait(self, seconds: float) -> None:
        if self._sleep is None:
            self.stop.wait(seconds)
        else:
            self._sleep(seconds)
        self.stop.raise_if_requested()
