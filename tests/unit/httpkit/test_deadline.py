"""DeadlineStream over a fake stream: reads go in slices bounded by the attempt's deadline,
writes get the time left in one piece, and a stopping process abandons the attempt."""

from __future__ import annotations

import time

import httpcore
import pytest

from httpkit.deadline import READ_SLICE_SECONDS, DeadlineStream, attempt_deadline
from httpkit.stopping import IN_FLIGHT_GRACE_SECONDS, StopRequested, StopSwitch


class FakeStream(httpcore.NetworkStream):
    """Answers `chunks` one per read (then stays silent), recording every timeout asked."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.read_timeouts: list[float | None] = []
        self.write_timeouts: list[float | None] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.read_timeouts.append(timeout)
        if self.chunks:
            return self.chunks.pop(0)
        time.sleep(timeout or 0)
        raise httpcore.ReadTimeout("timed out")

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.write_timeouts.append(timeout)


def test_outside_an_attempt_the_stream_is_httpcores_own() -> None:
    fake = FakeStream(b"a")
    stream = DeadlineStream(fake)
    assert stream.read(10, 60.0) == b"a"
    stream.write(b"x", 60.0)
    assert fake.read_timeouts == [60.0]
    assert fake.write_timeouts == [60.0]


def test_reads_go_in_slices_bounded_by_the_deadline() -> None:
    fake = FakeStream(b"a", b"b")
    stream = DeadlineStream(fake)
    with attempt_deadline(time.monotonic() + 0.5, StopSwitch()):
        assert stream.read(10, 60.0) + stream.read(10, 60.0) == b"ab"
        stream.write(b"x", 60.0)
    assert all(t is not None and t <= 0.5 for t in fake.read_timeouts)
    [write_timeout] = fake.write_timeouts
    assert write_timeout is not None
    assert 0 < write_timeout <= 0.5


def test_a_silent_server_trips_the_deadline_not_the_60_s_read_timeout() -> None:
    fake = FakeStream()
    stream = DeadlineStream(fake)
    started = time.monotonic()
    with (
        attempt_deadline(time.monotonic() + 1.5, StopSwitch()),
        pytest.raises(httpcore.ReadTimeout, match="deadline"),
    ):
        stream.read(10, 60.0)
    assert time.monotonic() - started < 3.0
    assert len(fake.read_timeouts) == 2  # a slice of 1 s, then the 0.5 s left
    assert all(t is not None and t <= READ_SLICE_SECONDS for t in fake.read_timeouts)


def test_the_per_read_timeout_still_applies_within_a_long_deadline() -> None:
    stream = DeadlineStream(FakeStream())
    with (
        attempt_deadline(time.monotonic() + 60, StopSwitch()),
        pytest.raises(httpcore.ReadTimeout, match=r"no data for 0\.3 s"),
    ):
        stream.read(10, 0.3)


def test_a_deadline_already_passed_fails_before_any_io() -> None:
    fake = FakeStream(b"a")
    stream = DeadlineStream(fake)
    with attempt_deadline(time.monotonic() - 1, StopSwitch()):
        with pytest.raises(httpcore.ReadTimeout):
            stream.read(10, 60.0)
        with pytest.raises(httpcore.WriteTimeout):
            stream.write(b"x", 60.0)
    assert fake.read_timeouts == fake.write_timeouts == []


def test_a_stopping_process_abandons_the_attempt_after_the_grace() -> None:
    stop = StopSwitch()
    stream = DeadlineStream(FakeStream(b"a"))
    with attempt_deadline(time.monotonic() + 60, stop):
        stop.request("SIGTERM")
        assert stream.read(10, 60.0) == b"a"  # within the grace: the answer still counts
        assert stop.requested_at is not None
        stop.requested_at -= IN_FLIGHT_GRACE_SECONDS  # the grace is over
        with pytest.raises(StopRequested, match="abandoned"):
            stream.read(10, 60.0)
