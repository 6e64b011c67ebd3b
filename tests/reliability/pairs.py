"""Metronome + Fincome pairs the real CLI reaches over loopback, for the kill trials.

- `EmulatorPair`: our two emulators, each in its own process (`sandbox.common.server.spawn`),
  Metronome serving a small pinned account;
- `ForeignPair`: the servers of `tests/fixtures/foreign.py` that speak the wire formats but
  are not ours, served from this process's threads.

Both implement `kill_trials.Pair`: a fresh start (Fincome empty, request counts at 0), the
requests each side answered, Fincome's records as canonical bodies, and creation problems.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from sandbox import DEFAULT_FINCOME_API_KEY, DEFAULT_METRONOME_TOKEN
from sandbox.common.faults import FaultMiddleware, FaultSettings, FaultState
from sandbox.common.server import serve_in_thread, spawned
from tests.fixtures.foreign import (
    HEADER,
    INVOICES,
    KEY,
    TOKEN,
    ContractFaults,
    ContractServer,
    build_foreign_metronome,
    invoice,
)
from tests.integration.bodies import Bodies, canonical
from tests.reliability.convergence import creation_problems
from tests.reliability.sync_runs import EmulatorControl, pair_env, process_env

# 20 customers over 3 months: about 50 Metronome requests and 100 Fincome writes, which is
# enough to kill inside either phase and small enough for a trial to cost one short run
SMALL_ACCOUNT = [
    "--seed",
    "3",
    "--customers",
    "20",
    "--months",
    "3",
    "--now",
    "2026-06-15T00:00:00+00:00",
]


@dataclass
class EmulatorPair:
    metronome: EmulatorControl
    fincome: EmulatorControl
    variables: dict[str, str]  # what points billing-sync at this pair

    @property
    def env(self) -> dict[str, str]:
        return process_env(self.variables)

    def fresh_start(self) -> None:
        self.fincome.reset()
        self.fincome.capture_bodies()
        self.metronome.clear_request_log()

    def metronome_requests(self) -> int:
        return self.metronome.request_count()

    def fincome_writes(self) -> int:
        return self.fincome.write_count()

    def held(self) -> Bodies:
        return canonical(self.fincome.state())

    def creation_problems(self) -> list[str]:
        return creation_problems(self.fincome.request_log())


@contextmanager
def emulator_pair() -> Iterator[EmulatorPair]:
    """Both emulators in processes of their own, stopped on exit."""
    with spawned("metronome", SMALL_ACCOUNT) as metronome, spawned("fincome") as fincome:
        variables = pair_env(
            metronome_url=metronome.url,
            token=DEFAULT_METRONOME_TOKEN,
            fincome_url=fincome.url,
            key=DEFAULT_FINCOME_API_KEY,
        )
        yield EmulatorPair(EmulatorControl(metronome.url), EmulatorControl(fincome.url), variables)


@dataclass
class ForeignPair:
    metronome_seen: list[Request]
    fincome: ContractServer
    variables: dict[str, str]  # what points billing-sync at this pair
    metronome_faults: FaultState | None = None  # what was injected in front of Metronome

    @property
    def env(self) -> dict[str, str]:
        return process_env(self.variables)

    def fresh_start(self) -> None:
        self.metronome_seen.clear()
        with self.fincome.lock:
            self.fincome.records.clear()
            self.fincome.calls.clear()
            self.fincome.created.clear()

    def metronome_requests(self) -> int:
        return len(self.metronome_seen)

    def fincome_writes(self) -> int:
        return sum(1 for method, _ in self.fincome.calls if method != "GET")

    def held(self) -> Bodies:
        with self.fincome.lock:
            records = copy.deepcopy(self.fincome.records)
        return canonical(records)

    def creation_problems(self) -> list[str]:
        with self.fincome.lock:
            created = dict(self.fincome.created)
        return [f"{key} created {times} times" for key, times in created.items() if times > 1]


def foreign_invoices(months: int = 10) -> dict[str, list[dict[str, Any]]]:
    """The foreign account's invoices plus a FINALIZED one per customer and month, so that
    a push makes a few dozen writes (enough to fault, or kill, in the middle of it)."""
    invoices = {customer: list(listed) for customer, listed in INVOICES.items()}
    for position, customer in enumerate(sorted(invoices)):
        for month in range(1, months + 1):
            number = 100 * (position + 1) + month
            total = f"{10 * month + position}.{month:02d}"
            invoices[customer].append(invoice(number, customer, month, "FINALIZED", total))
    return invoices


@contextmanager
def foreign_pair(
    fincome_faults: ContractFaults | None = None, metronome_faults: FaultSettings | None = None
) -> Iterator[ForeignPair]:
    """The foreign Metronome (with `foreign_invoices`) and Fincome, served from threads;
    `FaultMiddleware` in front of the Metronome when `metronome_faults` are given."""
    seen: list[Request] = []
    metronome_app: Any = build_foreign_metronome(seen, foreign_invoices())
    chaos = None
    if metronome_faults is not None:
        chaos = FaultState()
        chaos.configure(metronome_faults)
        metronome_app = FaultMiddleware(metronome_app, chaos)
    fincome = ContractServer(fincome_faults)
    threading.Thread(target=fincome.serve_forever, daemon=True).start()
    try:
        with serve_in_thread(metronome_app) as metronome:
            variables = pair_env(
                metronome_url=metronome.url,
                token=TOKEN,
                fincome_url=fincome.url,
                key=KEY,
                key_header=HEADER,
            )
            yield ForeignPair(seen, fincome, variables, chaos)
    finally:
        fincome.shutdown()
        fincome.server_close()
