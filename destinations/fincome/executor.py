"""Send ready steps: bounded concurrency, one wave after another, the ledger kept as they land.

Steps of a wave go out concurrently (at most the client's `max_concurrency` in flight, its
pacing and retry policy on each); the next wave starts once every step of this one is
answered, so a child never races its parent. The answers are settled in the calling thread:

- acknowledged: what the step records goes to the ledger (a delete forgets the record), and
  an open push reject of that record is resolved;
- refused (422, or another 4xx that is not auth): a push reject, and the wave goes on;
- anything else (auth refused, retries spent, the process stopping): no new step starts,
  the steps in flight are answered and settled, and the error is raised.

The ledger is written every `FLUSH_EVERY` answers and when the run ends however it ends: a
kill loses at most the last few acknowledgements, which the next run's 409 -> update and
404 -> create turn into the same state, never a duplicate.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import orjson

from destinations.fincome.client import FincomeClient
from destinations.fincome.errors import RequestRejected, ValidationFailed
from destinations.fincome.ledger import LedgerEntry, LedgerStore, Reject
from destinations.fincome.waves import Step

log = logging.getLogger(__name__)
FLUSH_EVERY = 500
DONE_WORD = {"create": "created", "update": "updated", "delete": "deleted"}

StepListener = Callable[[Step, str], None]  # (step, "created" | ... | "rejected")


@dataclass
class ExecutionReport:
    """What a run of steps did: per collection, items created, updated, deleted (embedded
    lines counted as created in their own collection), and the steps Fincome refused."""

    done: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rejected: int = 0

    @property
    def writes(self) -> int:
        return sum(sum(counts.values()) for counts in self.done.values())


class Executor:
    """Runs waves of steps through one client, keeping one ledger."""

    def __init__(
        self,
        client: FincomeClient,
        ledger: LedgerStore,
        *,
        on_step: StepListener | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.on_step = on_step
        self._window = 2 * client.max_concurrency  # steps handed to the pool ahead of sends

    def run(
        self, waves: Iterable[Iterable[Step]], *, after_wave: Callable[[], None] | None = None
    ) -> ExecutionReport:
        """Send every wave in order; `after_wave` may stop the run by raising."""
        settled = _Settled(self.ledger, self.on_step)
        workers = self.client.max_concurrency
        with ThreadPoolExecutor(workers, thread_name_prefix="fincome-push") as pool:
            try:
                for wave in waves:
                    self._run_wave(pool, wave, settled)
                    if after_wave is not None:
                        settled.flush()
                        after_wave()
            finally:
                settled.flush()
        return settled.report

    def _run_wave(self, pool: ThreadPoolExecutor, wave: Iterable[Step], settled: _Settled) -> None:
        in_flight: dict[Future[str], Step] = {}
        failure: BaseException | None = None
        for step in wave:
            in_flight[pool.submit(self._write, step)] = step
            if len(in_flight) >= self._window:
                failure = settled.answers(in_flight, FIRST_COMPLETED)
                if failure is not None:
                    break  # no new step; those on the wire finish and are settled below
        failure = settled.answers(in_flight, ALL_COMPLETED) or failure
        if failure is not None:
            raise failure

    def _write(self, step: Step) -> str:
        if step.action == "create":
            assert step.body is not None
            return self.client.create(step.collection, step.body).action
        if step.action == "update":
            assert step.body is not None
            return self.client.update(step.collection, step.item_id, step.body).action
        return self.client.delete(step.collection, step.item_id).action


class _Settled:
    """Answers settled in the calling thread; the ledger learns them at each flush."""

    def __init__(self, ledger: LedgerStore, on_step: StepListener | None) -> None:
        self.ledger = ledger
        self.on_step = on_step
        self.report = ExecutionReport()
        self._clear()

    def _clear(self) -> None:
        self.recorded: list[LedgerEntry] = []
        self.forgotten: dict[str, list[str]] = defaultdict(list)
        self.resolved: dict[str, list[str]] = defaultdict(list)
        self.rejects: list[Reject] = []
        self.unflushed = 0

    def answers(self, in_flight: dict[Future[str], Step], when: str) -> BaseException | None:
        """Settle the steps answered by `when`; return the first error no retry fixed."""
        done, _ = wait(in_flight, return_when=when)
        failure: BaseException | None = None
        for future in done:
            step = in_flight.pop(future)
            error = future.exception()
            if error is None:
                self._acknowledged(step, future.result())
            elif isinstance(error, RequestRejected):
                self._refused(step, error)
            elif failure is None:
                failure = error
        if self.unflushed >= FLUSH_EVERY:
            self.flush()
        return failure

    def _acknowledged(self, step: Step, action: str) -> None:
        self.unflushed += 1
        if step.action == "delete":
            self.forgotten[step.collection].append(step.item_id)
        self.recorded.extend(step.record)
        self.resolved[step.collection].append(step.item_id)
        self.report.done[step.collection][DONE_WORD[step.action]] += 1
        for line in step.record[1:]:  # lines embedded in a create
            self.report.done[line.collection]["created"] += 1
        if self.on_step is not None:
            self.on_step(step, action)

    def _refused(self, step: Step, error: RequestRejected) -> None:
        self.unflushed += 1
        reason = error.reason if isinstance(error, ValidationFailed) else str(error)
        detail = error.detail if error.detail is not None else str(error)
        payload = None if step.body is None else orjson.Fragment(step.body)
        self.rejects.append(Reject("push", step.collection, step.item_id, reason, detail, payload))
        self.report.rejected += 1
        if self.on_step is not None:
            self.on_step(step, "rejected")

    def flush(self) -> None:
        self.ledger.record(self.recorded)
        for name, ids in self.forgotten.items():
            self.ledger.forget(name, ids)
        self.ledger.add_rejects(self.rejects)
        for name, ids in self.resolved.items():
            self.ledger.resolve_rejects("push", name, ids)
        self._clear()
