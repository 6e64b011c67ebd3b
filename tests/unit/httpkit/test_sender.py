"""ResilientSender over a scripted transport: retries, give-up, stats, pacing feedback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from httpkit import AdaptivePacer, RequestStats, ResilientSender, RetryPolicy

Step = int | type[Exception]


def _sender(steps: list[Step], **policy: float) -> tuple[ResilientSender, list[float]]:
    script: Iterator[Step] = iter(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(script)
        if isinstance(step, int):
            headers = {"retry-after": "0.01"} if step == 429 else {}
            return httpx.Response(step, headers=headers, json={"ok": step < 400})
        raise step("scripted", request=request)

    slept: list[float] = []
    sender = ResilientSender(
        http=httpx.Client(transport=httpx.MockTransport(handler), base_url="http://api.test"),
        policy=RetryPolicy(base_delay=0.001, max_delay=0.002, **policy),  # type: ignore[arg-type]
        pacer=AdaptivePacer(rate=None, sleep=slept.append),
        stats=RequestStats(),
        sleep=slept.append,
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
