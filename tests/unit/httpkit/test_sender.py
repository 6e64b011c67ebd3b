"""ResilientSender over a scripted transport: retries, give-up, stats, pacing feedback, the
budget, faults no retry can fix, answers the caller cannot use, and the stop switch."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from httpkit import (
    AdaptivePacer,
    RequestStats,
    ResilientSender,
    RetryPolicy,
    StopRequested,
    StopSwitch,
    WaitBeyondBudget,
)

Step = int | httpx.Response | type[Exception] | Exception


def _sender(
    steps: list[Step],
    *,
    stop: StopSwitch | None = None,
    sleep: Callable[[float], None] | None = None,
    real_waits: bool = False,
    **policy: float,
) -> tuple[ResilientSender, list[float]]:
    """A sender over `steps`; its waits are recorded (or given to `sleep`), or real ones on
    the stop switch with `real_waits`."""
    script: Iterator[Step] = iter(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(script)
        if isinstance(step, httpx.Response):
            return step
        if isinstance(step, int):
            headers = {"retry-after": "0.01"} if step == 429 else {}
            return httpx.Response(step, headers=headers, json={"ok": step < 400})
        if isinstance(step, Exception):
            raise step
        raise step("scripted", request=request)

    slept: list[float] = []
    options = {"base_delay": 0.001, "max_delay": 0.002, **policy}
    sender = ResilientSender(
        http=httpx.Client(transport=httpx.MockTransport(handler), base_url="http://api.test"),
        policy=RetryPolicy(**options),  # type: ignore[arg-type]
        pacer=AdaptivePacer(rate=None),
        attempt_seconds=5.0,
        stats=RequestStats(),
        stop=stop or StopSwitch(),
        sleep=None if real_waits else sleep or slept.append,
    )
    return sender, slept


def test_retries_throttles_server_errors_and_transport_errors_until_success() -> None:
    sender, slept = _sender([429, 503, httpx.ConnectError, httpx.ReadTimeout, 200])
    response = sender.send("GET", "/v1/things")
    assert response.status_code == 200
    stats = sender.stats.snapshot()
    assert stats["attempts"] == 5
    assert stats["retries"] == 4
    assert stats["throttled"] == 1
    assert stats["by_status"] == {"200": 1, "429": 1, "503": 1, "ConnectError": 1, "ReadTimeout": 1}
    assert 0.01 in slept  # the Retry-After of the 429 was honoured


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_client_errors_are_returned_at_once(status: int) -> None:
    sender, _ = _sender([status])
    assert sender.send("POST", "/things", content=b"{}").status_code == status
    assert sender.stats.attempts == 1


def test_gives_up_after_max_attempts_and_returns_the_last_response() -> None:
    sender, _ = _sender([500, 502, 503], max_attempts=3)
    assert sender.send("GET", "/things").status_code == 503
    assert sender.stats.attempts == 3


def test_gives_up_on_transport_errors_by_raising_the_last_one() -> None:
    sender, _ = _sender([httpx.ConnectError, httpx.ConnectError], max_attempts=2)
    with pytest.raises(httpx.ConnectError):
        sender.send("GET", "/things")


def _tls_error(error: ssl.SSLError) -> httpx.ConnectError:
    """A handshake failure as httpx raises it: wrapping httpcore's, wrapping OpenSSL's."""
    try:
        try:
            raise error
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc)) from exc
    except httpx.ConnectError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "fault",
    [
        _tls_error(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")),
        _tls_error(ssl.SSLCertVerificationError(1, "certificate verify failed")),
        httpx.LocalProtocolError("Illegal header value b'Bearer x\\n'"),
        httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."),
    ],
)
def test_faults_no_retry_can_fix_raise_at_once(fault: Exception) -> None:
    sender, slept = _sender([fault, 200])
    with pytest.raises(type(fault)):
        sender.send("GET", "/things")
    assert sender.stats.attempts == 1
    assert slept == []


def test_a_dropped_handshake_is_retried_like_any_dropped_connection() -> None:
    dropped = _tls_error(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"))
    sender, _ = _sender([dropped, 200])
    assert sender.send("GET", "/things").status_code == 200


def test_an_answer_the_caller_cannot_use_is_retried_then_returned() -> None:
    empty = httpx.Response(200, json={"data": None})
    full = httpx.Response(200, json={"data": []})

    def unusable(response: httpx.Response) -> bool:
        return response.json()["data"] is None

    sender, _ = _sender([empty, full], max_attempts=3)
    assert sender.send("GET", "/things", unusable=unusable) is full
    sender, _ = _sender([empty, empty, empty], max_attempts=3)
    assert sender.send("GET", "/things", unusable=unusable).json() == {"data": None}
    assert sender.stats.attempts == 3


def test_a_retry_after_beyond_the_budget_fails_now_and_pauses_nobody() -> None:
    hour = httpx.Response(429, headers={"retry-after": "3600"})
    sender, slept = _sender([hour, 200], budget_seconds=120)
    with pytest.raises(WaitBeyondBudget, match=r"asked to wait 3,600 s \(Retry-After\)"):
        sender.send("GET", "/things")
    assert slept == []
    assert sender.stats.attempts == 1
    assert sender.pacer.reserve() == 0.0  # the other threads were not put to sleep


def test_a_retry_after_that_fits_is_waited_and_shared_with_every_thread() -> None:
    ninety = httpx.Response(429, headers={"retry-after": "90"})
    sender, slept = _sender([ninety, 200], budget_seconds=120)
    assert sender.send("GET", "/things").status_code == 200
    assert slept[0] == 90.0
    assert sender.pacer.reserve() == pytest.approx(90.0, abs=1.0)  # held for everybody


def test_a_shared_pause_beyond_this_requests_budget_fails_it_now() -> None:
    sender, slept = _sender([200], budget_seconds=5)
    sender.pacer.hold(60.0)  # another thread's 429
    with pytest.raises(WaitBeyondBudget, match="the pause after a 429, shared"):
        sender.send("GET", "/things")
    assert slept == []
    assert sender.stats.attempts == 0


def test_nothing_is_sent_once_the_process_is_stopping() -> None:
    stop = StopSwitch()
    stop.request("SIGTERM")
    sender, _ = _sender([200], stop=stop)
    with pytest.raises(StopRequested, match="SIGTERM"):
        sender.send("GET", "/things")
    assert sender.stats.attempts == 0


def test_a_stop_during_the_wait_between_attempts_ends_the_request() -> None:
    stop = StopSwitch()

    def signal_arrives(seconds: float) -> None:
        stop.request("SIGINT")

    sender, _ = _sender([503, 200], stop=stop, sleep=signal_arrives)
    with pytest.raises(StopRequested, match="SIGINT"):
        sender.send("GET", "/things")
    assert sender.stats.attempts == 1


def test_the_stop_switch_wakes_a_real_wait_at_once() -> None:
    stop = StopSwitch()
    later = httpx.Response(503, headers={"retry-after": "30"})
    sender, _ = _sender([later, 200], stop=stop, real_waits=True)
    threading.Timer(0.2, stop.request, args=("SIGTERM",)).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        sender.send("GET", "/things")
    assert time.monotonic() - started < 5.0  # not the 30 s asked
