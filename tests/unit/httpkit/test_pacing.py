"""The adaptive pacer, on a fake clock: even spacing, halving on 429, pauses, recovery."""

from __future__ import annotations

import pytest

from httpkit import AdaptivePacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def _pacer(rate: float | None, clock: FakeClock, **kw: float) -> AdaptivePacer:
    return AdaptivePacer(rate=rate, clock=clock.time, sleep=clock.sleep, **kw)


def test_slots_are_evenly_spaced_at_the_configured_rate() -> None:
    clock = FakeClock()
    pacer = _pacer(4.0, clock)
    for _ in range(5):
        pacer.acquire()
    assert clock.slept == [0.25, 0.25, 0.25, 0.25]
    assert clock.now == pytest.approx(101.0)


def test_idle_time_is_not_banked_as_a_burst() -> None:
    clock = FakeClock()
    pacer = _pacer(2.0, clock)
    pacer.acquire()
    clock.now += 10
    pacer.acquire()
    pacer.acquire()
    assert clock.slept == [0.5]


def test_throttle_halves_the_rate_and_honours_retry_after_for_everyone() -> None:
    clock = FakeClock()
    pacer = _pacer(8.0, clock, min_rate=1.0)
    pacer.acquire()
    pacer.throttled(retry_after=2.0)
    assert pacer.current_rate == 4.0
    pacer.acquire()
    assert clock.slept[-1] == pytest.approx(2.0)
    for _ in range(5):
        pacer.throttled(None)
    assert pacer.current_rate == 1.0  # never below min_rate


def test_successes_win_back_the_configured_rate() -> None:
    clock = FakeClock()
    pacer = _pacer(10.0, clock, recovery=0.1)
    pacer.throttled(None)
    assert pacer.current_rate == 5.0
    for _ in range(100):
        pacer.succeeded()
    assert pacer.current_rate == 10.0


def test_unpaced_still_respects_a_server_pause() -> None:
    clock = FakeClock()
    pacer = _pacer(None, clock)
    pacer.acquire()
    pacer.acquire()
    assert clock.slept == []
    pacer.throttled(retry_after=1.5)
    pacer.acquire()
    assert clock.slept == [1.5]


def test_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptivePacer(rate=0)
