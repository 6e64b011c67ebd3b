"""The adaptive pacer, on a fake clock: even spacing, halving on 429, pauses, recovery, and
slots refused to a caller whose budget they exceed."""

from __future__ import annotations

import pytest

from httpkit import AdaptivePacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def time(self) -> float:
        return self.now


def _pacer(rate: float | None, clock: FakeClock, **kw: float) -> AdaptivePacer:
    return AdaptivePacer(rate=rate, clock=clock.time, **kw)


def _take(pacer: AdaptivePacer, clock: FakeClock) -> float:
    """Reserve a slot and wait for it, as the sender does."""
    wait = pacer.reserve()
    clock.now += wait
    return round(wait, 6)


def test_slots_are_evenly_spaced_at_the_configured_rate() -> None:
    clock = FakeClock()
    pacer = _pacer(4.0, clock)
    assert [_take(pacer, clock) for _ in range(5)] == [0.0, 0.25, 0.25, 0.25, 0.25]
    assert clock.now == pytest.approx(101.0)


def test_idle_time_is_not_banked_as_a_burst() -> None:
    clock = FakeClock()
    pacer = _pacer(2.0, clock)
    _take(pacer, clock)
    clock.now += 10
    assert [_take(pacer, clock), _take(pacer, clock)] == [0.0, 0.5]


def test_throttle_halves_the_rate_and_a_hold_applies_to_everyone() -> None:
    clock = FakeClock()
    pacer = _pacer(8.0, clock, min_rate=1.0)
    _take(pacer, clock)
    pacer.throttled()
    pacer.hold(2.0)
    assert pacer.current_rate == 4.0
    assert _take(pacer, clock) == pytest.approx(2.0)
    for _ in range(5):
        pacer.throttled()
    assert pacer.current_rate == 1.0  # never below min_rate


def test_successes_win_back_the_configured_rate() -> None:
    clock = FakeClock()
    pacer = _pacer(10.0, clock, recovery=0.1)
    pacer.throttled()
    assert pacer.current_rate == 5.0
    for _ in range(100):
        pacer.succeeded()
    assert pacer.current_rate == 10.0


def test_unpaced_still_respects_a_server_pause() -> None:
    clock = FakeClock()
    pacer = _pacer(None, clock)
    assert [_take(pacer, clock), _take(pacer, clock)] == [0.0, 0.0]
    pacer.throttled()
    assert pacer.current_rate is None
    pacer.hold(1.5)
    assert _take(pacer, clock) == 1.5


@pytest.mark.parametrize(
    ("held", "within", "wait", "taken"),
    [(0.0, 0.0, 0.0, True), (5.0, 10.0, 5.0, True), (5.0, 5.0, 5.0, True),
     (30.0, 5.0, 30.0, False)],
)  # fmt: skip
def test_a_slot_beyond_the_callers_budget_is_not_taken(
    held: float, within: float, wait: float, taken: bool
) -> None:
    clock = FakeClock()
    pacer = _pacer(1.0, clock)
    pacer.hold(held)
    assert pacer.reserve(within=within) == wait
    next_wait = held + 1.0 if taken else held  # a taken slot pushes the next one on
    assert pacer.reserve() == next_wait


def test_a_shorter_hold_never_shortens_a_longer_one() -> None:
    clock = FakeClock()
    pacer = _pacer(None, clock)
    pacer.hold(10.0)
    pacer.hold(1.0)
    assert pacer.reserve() == 10.0


def test_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptivePacer(rate=0)
