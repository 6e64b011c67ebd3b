"""The retry policy: what is retried, how long it waits, and how Retry-After is read."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest

from httpkit import RetryPolicy, retry_after_seconds


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(200, False), (400, False), (404, False), (408, True), (409, False), (422, False),
     (429, True), (500, True), (502, True), (503, True), (599, True)],
)  # fmt: skip
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert RetryPolicy().is_retryable_status(status) is retryable


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Sat, 21 Nov 2026 12:00:05 GMT"}, 5.0),
        ({"retry-after": "Sat, 21 Nov 2026 11:00:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(_response(429, **headers), now=now) == seconds


def test_backoff_is_capped_exponential_with_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=random.Random(1))
    for retries_done, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 4.0)]:
        delay = policy.backoff(retries_done)
        assert ceiling * 0.75 <= delay <= ceiling


def test_server_hint_wins_only_when_sane() -> None:
    policy = RetryPolicy(max_retry_after=60, rng=random.Random(1))
    assert policy.delay(0, _response(429, **{"retry-after": "3"})) == 3.0
    # an absurd hint (or none) falls back to our own backoff
    assert policy.delay(0, _response(429, **{"retry-after": "3600"})) <= 0.5
    assert policy.delay(0, _response(503)) <= 0.5
