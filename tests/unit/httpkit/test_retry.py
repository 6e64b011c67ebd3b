"""The retry policy: what is retried, how long it waits, how Retry-After is read, and how
every wait fits in the request's budget."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpkit import RetryPolicy, WaitBeyondBudget, retry_after_seconds
from httpkit.retry import Pause

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def _response(status: int, **headers: str) -> httpx.Response:
    """Header values as the wire carries them: UTF-8 bytes, whatever they hold."""
    return httpx.Response(status, headers=[(k.encode(), v.encode()) for k, v in headers.items()])


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
        ({"retry-after": " 2 "}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "3600"}, 3600.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Sat, 21 Nov 2026 12:00:05 GMT"}, 5.0),
        ({"retry-after": "Sat, 21 Nov 2026 11:00:00 GMT"}, 0.0),  # in the past: now
        ({"retry-after": "Tue, 21 Nov 2034 12:00:00 GMT"}, 252_460_800.0),  # years ahead
    ],
)
def test_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(_response(429, **headers), now=NOW) == seconds


# the last two are digits, but not ASCII ones (Python's float() would take them)
JUNK = ["soon", "", "-5", "+5", "-0.5", "inf", "Infinity", "-inf", "nan", "NaN", "1e3",
        "0x10", "5s", "5, 5", "9" * 400, "Fri, 31 Dec 99999 23:59:59 GMT",
        "Mon, 32 Jan 2026 00:00:00 GMT", "Sat, 21 Nov 2026 25:00:00 GMT",
        "\u0661\u0662", "\uff15"]  # fmt: skip


@pytest.mark.parametrize("value", JUNK)
def test_junk_retry_after_is_ignored(value: str) -> None:
    assert retry_after_seconds(_response(429, **{"retry-after": value}), now=NOW) is None


@pytest.mark.parametrize("value", JUNK)
def test_junk_retry_after_ms_falls_back_to_retry_after(value: str) -> None:
    response = _response(429, **{"retry-after-ms": value, "retry-after": "3"})
    assert retry_after_seconds(response, now=NOW) == 3.0


@given(st.text(max_size=40))
def test_no_header_value_breaks_the_parser(value: str) -> None:
    response = _response(429, **{"retry-after": value, "retry-after-ms": value})
    seconds = retry_after_seconds(response, now=NOW)
    assert seconds is None or 0 <= seconds < float("inf")


def test_backoff_is_capped_exponential_with_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=random.Random(1))
    for retries_done, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 4.0)]:
        delay = policy.backoff(retries_done)
        assert ceiling * 0.75 <= delay <= ceiling


POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0, jitter=(1.0, 1.0))


@pytest.mark.parametrize(
    ("retries_done", "retry_after", "left", "pause"),
    [
        (0, None, 100.0, Pause(1.0, asked_by_server=False)),  # our backoff
        (2, None, 100.0, Pause(4.0, asked_by_server=False)),
        (2, None, 3.0, None),  # our backoff does not fit: give up with the last outcome
        (0, 0.0, 100.0, Pause(1.0, asked_by_server=False)),  # "retry now": our backoff
        (0, 90.0, 120.0, Pause(90.0, asked_by_server=True)),  # a long hint that fits
        (1, 3.0, 5.0, Pause(3.0, asked_by_server=True)),
        (3, 3.0, 100.0, None),  # the attempts are spent, whatever the server says
        (3, None, 100.0, None),
    ],
)
def test_next_pause(
    retries_done: int, retry_after: float | None, left: float, pause: Pause | None
) -> None:
    assert POLICY.next_pause(retries_done, retry_after=retry_after, left=left) == pause


@pytest.mark.parametrize(("retry_after", "left"), [(3600.0, 120.0), (5.0, 5.0), (1.0, -2.0)])
def test_a_retry_after_beyond_the_budget_fails_now(retry_after: float, left: float) -> None:
    with pytest.raises(WaitBeyondBudget) as raised:
        POLICY.next_pause(0, retry_after=retry_after, left=left)
    assert raised.value.asked_seconds == retry_after
    assert raised.value.left_seconds == left
    assert "Retry-After" in str(raised.value)
    assert "\n" not in str(raised.value)


@given(
    retries_done=st.integers(0, 20),
    retry_after=st.none() | st.floats(0, 1e12),
    left=st.floats(-10, 1e6),
)
def test_no_pause_ever_exceeds_what_is_left(
    retries_done: int, retry_after: float | None, left: float
) -> None:
    try:
        pause = RetryPolicy().next_pause(retries_done, retry_after=retry_after, left=left)
    except WaitBeyondBudget:
        assert retry_after is not None
        assert retry_after >= left
        return
    assert pause is None or 0 <= pause.seconds < left
