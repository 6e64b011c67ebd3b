"""Stopping: once the process is asked to stop, no new request starts and no wait goes on.

A signal is process-wide, so the switch is too: the command line flips `PROCESS_STOP` when
SIGTERM or SIGINT arrives, and every sender, pacer and retry wait of every thread sees it
within `POLL_SECONDS`. A request already on the wire gets `IN_FLIGHT_GRACE_SECONDS` to finish
(its answer is then recorded as usual) and is abandoned after that: every write is an
idempotent upsert, so a request whose answer never arrived is simply sent again next run.

The switch holds no lock and sets no `threading.Event`: a signal handler runs between two
bytecodes of the main thread, which may be holding that very lock, so flipping it only
assigns attributes, and waits poll.
"""

from __future__ import annotations

import time

IN_FLIGHT_GRACE_SECONDS = 3.0
POLL_SECONDS = 0.1


class StopRequested(Exception):
    """The process is stopping: this request was not sent (or was abandoned in flight)."""


class StopSwitch:
    """A one-way switch: `request` flips it, `wait` sleeps unless (or until) it is flipped."""

    def __init__(self) -> None:
        self.reason = ""
        self.requested_at: float | None = None  # time.monotonic() of the first request

    @property
    def requested(self) -> bool:
        return self.requested_at is not None

    def request(self, reason: str) -> None:
        """Flip the switch; the first reason is kept. Safe inside a signal handler."""
        if self.requested_at is None:
            self.reason = reason
            self.requested_at = time.monotonic()

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, or less if the switch flips; True when it has been flipped."""
        deadline = time.monotonic() + seconds
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL_SECONDS, left))
        return True

    def raise_if_requested(self) -> None:
        if self.requested:
            raise StopRequested(f"stopping ({self.reason}): no new request is sent")

    def abandon_at(self) -> float | None:
        """The monotonic time after which requests still in flight are abandoned."""
        at = self.requested_at
        return None if at is None else at + IN_FLIGHT_GRACE_SECONDS

    def reset(self) -> None:
        """Back to unflipped, for the next command run in this process (tests, the demo)."""
        self.requested_at = None
        self.reason = ""


PROCESS_STOP = StopSwitch()
