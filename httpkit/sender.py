"""Send one request with pacing and the retry policy; return the final response."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
)

from httpkit.pacing import AdaptivePacer
from httpkit.retry import RetryPolicy, retry_after_seconds
from httpkit.stats import RequestStats

log = logging.getLogger(__name__)


class ResilientSender:
    """Wraps an `httpx.Client`: every attempt waits for a pacing slot; retryable outcomes
    (429, 408, 5xx, transport errors) are retried per `policy`.

    `send` returns the last response, successful or not, so the caller maps statuses to its
    own typed errors; when the last attempt failed in transport, that exception propagates.
    """

    def __init__(
        self,
        *,
        http: httpx.Client,
        policy: RetryPolicy,
        pacer: AdaptivePacer,
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.policy = policy
        self.pacer = pacer
        self.stats = stats or RequestStats()
        self._sleep = sleep

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        retrying = Retrying(
            retry=(
                retry_if_exception_type(httpx.TransportError)
                | retry_if_result(lambda r: self.policy.is_retryable_status(r.status_code))
            ),
            stop=stop_after_attempt(self.policy.max_attempts)
            | stop_after_delay(self.policy.budget_seconds),
            wait=self._wait,
            before_sleep=_log_retry,
            retry_error_callback=_last_outcome,
            sleep=self._sleep,
        )
        result: httpx.Response = retrying(
            self._attempt, method, url, params=params, content=content, headers=headers
        )
        return result

    def _attempt(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        self.pacer.acquire()
        try:
            response = self.http.request(
                method, url, params=params, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            self.stats.record(type(exc).__name__)
            raise
        status = response.status_code
        self.stats.record(str(status), throttled=status == 429)
        if status == 429:
            self.pacer.throttled(retry_after_seconds(response))
        elif status < 400:
            self.pacer.succeeded()
        return response

    def _wait(self, state: RetryCallState) -> float:
        self.stats.count_retry()
        response = None
        if state.outcome is not None and not state.outcome.failed:
            response = state.outcome.result()
        return self.policy.delay(state.attempt_number - 1, response)


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    if outcome is None:
        return
    reason = (
        type(outcome.exception()).__name__
        if outcome.failed
        else f"HTTP {outcome.result().status_code}"
    )
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying after %s (attempt %d, waiting %.2fs)", reason, state.attempt_number, wait)


def _last_outcome(state: RetryCallState) -> httpx.Response:
    """Give up: hand back the last response, or re-raise the last transport error."""
    assert state.outcome is not None
    result: httpx.Response = state.outcome.result()  # re-raises a stored exception
    return result
