"""The deadlines httpx lacks: a total one per attempt, and abandoning a request on stop.

httpx's timeouts bound each socket operation, not an exchange (encode/httpx#1450): a server
that drips one byte a second never trips a 60 s read timeout, and neither the status line
nor the body ever ends. `DeadlineBackend` wraps httpcore's network backend so that every
connect, TLS handshake, read and write of the attempt running in this thread is also bounded
by that attempt's deadline (`attempt_deadline`, set by `ResilientSender`).

Reads go in slices of at most `READ_SLICE_SECONDS`, so a drip is cut when the deadline passes
and a stop is noticed even when every read succeeds. A read that timed out consumed nothing,
so reading again is safe; a write that timed out may have sent part of its buffer, so writes
are never sliced, only given the time left. Outside an attempt (no deadline set) the streams
behave exactly as httpcore's own.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore

from httpkit.stopping import StopRequested, StopSwitch

READ_SLICE_SECONDS = 1.0

# httpcore's SOCKET_OPTION, which it does not export
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


@dataclass(frozen=True)
class AttemptDeadline:
    """When the attempt running in this thread must be over (`time.monotonic()`)."""

    ends_at: float
    stop: StopSwitch

    def seconds_left(self, timeout: type[httpcore.TimeoutException]) -> float:
        """Time left; raises `timeout` once the deadline passed, and `StopRequested` once
        the process is stopping and the in-flight grace is over."""
        now = time.monotonic()
        abandon_at = self.stop.abandon_at()
        if abandon_at is not None and now >= abandon_at:
            raise StopRequested(
                f"stopping ({self.stop.reason}): a request still in flight was abandoned"
            )
        left = min(self.ends_at, math.inf if abandon_at is None else abandon_at) - now
        if left <= 0:
            raise timeout("the attempt's total deadline passed")
        return left


_current: ContextVar[AttemptDeadline | None] = ContextVar("httpkit_attempt", default=None)


@contextmanager
def attempt_deadline(ends_at: float, stop: StopSwitch) -> Iterator[None]:
    """Bound every network operation of this thread to `ends_at` while the block runs."""
    token = _current.set(AttemptDeadline(ends_at, stop))
    try:
        yield
    finally:
        _current.reset(token)


def _bounded(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    deadline = _current.get()
    if deadline is None:
        return timeout
    left = deadline.seconds_left(error)
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """An httpcore stream whose operations also honour the current attempt's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = _current.get()
        if deadline is None:
            return self._stream.read(max_bytes, timeout)
        quiet_until = math.inf if timeout is None else time.monotonic() + timeout
        while True:
            left = deadline.seconds_left(httpcore.ReadTimeout)
            quiet_left = quiet_until - time.monotonic()
            if quiet_left <= 0:
                raise httpcore.ReadTimeout(f"no data for {timeout} s")
            try:
                return self._stream.read(max_bytes, min(READ_SLICE_SECONDS, left, quiet_left))
            except httpcore.ReadTimeout:
                continue  # nothing was consumed: look at the clocks, then read again

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Opens connections through `backend`, as `DeadlineStream`s."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, bounded, local_address, socket_options)
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
