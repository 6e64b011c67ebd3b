"""SIGTERM and SIGINT: every phase stops within seconds, consistent, with an honest exit code.

Airflow and systemd send SIGTERM, then SIGKILL after a grace period; a person presses Ctrl-C.
While a command runs, the first SIGTERM or SIGINT flips httpkit's process-wide stop switch
(no new request starts, waits end, a request in flight gets a short grace: see
`httpkit.stopping`) and raises dlt's own signal flag, so dlt's extract, normalize and load stop
at their next checkpoint instead of draining minutes of work. dlt is told not to install
handlers of its own (`RUNTIME__INTERCEPT_SIGNALS=false`, set by the CLI's `main`): its
handlers replace ours for each step and clear the flag when the step ends, which is how a
SIGTERM during the push used to be swallowed.

What was acknowledged stays in the ledger (each batch records what Fincome answered before
it gives up), the run lock is released as the command unwinds, the run leaves its one summary
line and exits 128 + the signal: 130 for SIGINT, 143 for SIGTERM. A second signal stops at
once (the kernel releases the lock; every write is an idempotent upsert, so the next run
converges either way).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

from dlt.common.runtime import signals as dlt_signals
from dlt.pipeline.exceptions import PipelineStepFailed

from httpkit.stopping import PROCESS_STOP

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")


class Stopped(Exception):
    """The command was stopped by a signal; `exit_code` is 128 + its number."""

    def __init__(self, signum: int, during: str = "") -> None:
        name = signal.Signals(signum).name
        where = f" during {during}" if during else ""
        super().__init__(
            f"stopped by {name}{where}; what Fincome acknowledged is in the ledger and the "
            "next run continues from there"
        )
        self.signum = signum
        self.exit_code = 128 + signum


_received: list[int] = []  # the first signal of the running command, if any


def received_signal() -> int | None:
    return _received[0] if _received else None


def raise_if_stopped(during: str = "") -> None:
    """Between two phases of a command: stop now if a signal came."""
    signum = received_signal()
    if signum is not None:
        raise Stopped(signum, during)


def until_stopped(items: Iterable[T], during: str) -> Iterator[T]:
    """`items`, raising `Stopped` before the next one once a signal came (a long loop)."""
    for item in items:
        raise_if_stopped(during)
        yield item


def stopped_by(error: BaseException | None) -> Stopped | None:
    """The stop behind `error` (however dlt or our errors wrap it), when a signal came."""
    signum = received_signal()
    if signum is None:
        return None
    seen: list[BaseException] = []
    during = ""
    while error is not None and error not in seen:
        if isinstance(error, Stopped):
            return error
        if isinstance(error, PipelineStepFailed):  # say which step dlt was in
            during = during or f"dlt's {error.step} step of {error.pipeline.pipeline_name}"
        seen.append(error)
        error = error.__cause__ or error.__context__
    return Stopped(signum, during)  # whatever broke, it broke because the run was stopping


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Catch SIGINT and SIGTERM for the duration of one command (main thread only: Python
    delivers signals there, and a command run from another thread keeps the defaults)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _forget_signals()
    previous = {signum: signal.signal(signum, _on_signal) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _forget_signals()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Runs between two bytecodes of the main thread: assign flags, take no lock."""
    if _received:
        message = f"billing-sync: {signal.Signals(signum).name} again, stopping at once\n"
        os.write(2, message.encode())
        os._exit(128 + signum)
    _received.append(signum)
    PROCESS_STOP.request(signal.Signals(signum).name)
    dlt_signals.set_received_signal(signum)


def _forget_signals() -> None:
    _received.clear()
    PROCESS_STOP.reset()
    dlt_signals.set_received_signal(0)
