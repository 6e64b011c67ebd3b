"""Send ready steps: bounded concurrency, one wave after another, the ledger kept as they land.

Each wave is sent by `max_concurrency` workers (the client's; its pacing and retry policy on
every request), each taking the next step as soon as it is free; the next wave starts once
every step of this one is answered, so a child never races its parent. The calling thread
reads the steps ahead of the workers and writes the ledger, so no worker waits on DuckDB.
An answer is noted by the worker that got it:

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

import queue
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import orjson

from destinations.fincome.client import FincomeClient
from destinations.fincome.errors import RequestRejected, ValidationFailed
from destinations.fincome.ledger import LedgerEntry, LedgerStore, Reject
from destinations.fincome.waves import Step

FLUSH_EVERY = 500
# steps read ahead of the workers: enough to keep them sending while the calling thread
# writes the ledger (a flush waits on the disk: 0.1 to 1 s on a busy machine), a few MB
AHEAD = 2048
PUT_SECONDS = 0.2  # how long the reader waits for room before it writes the ledger instead
DONE_WORD = {"create": "created", "update": "updated", "delete": "deleted"}

StepListener = Callable[[Step, str], None]  # (step, "created" | ... | "rejected")


@dataclass
class ExecutionReport:
    """What a run of steps did: per collection, items created, updated, deleted (embedded
    lines counted as created in their own collection), the steps answered by action, and
    how many Fincome refused."""

    done: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    steps: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
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
        """The calling thread reads the wave's steps ahead into a queue and writes the ledger;
        the workers only send and note the answers, so neither waits on DuckDB."""
        ready: queue.Queue[Step | None] = queue.Queue(maxsize=AHEAD)
        failures: list[BaseException] = []

        def work() -> None:
            while (step := ready.get()) is not None:
                if failures:
                    continue  # another worker met a fatal error: drop what is queued
                try:
                    action = self._write(step)
                except RequestRejected as error:
                    settled.refused(step, error)
                except BaseException as error:
                    failures.append(error)
                else:
                    settled.acknowledged(step, action)

        workers = [pool.submit(work) for _ in range(self.client.max_concurrency)]
        try:
            for step in wave:
                if failures:
                    break
                while not _put(ready, step):
                    settled.flush_if_due()
                settled.flush_if_due()
        finally:
            for _ in workers:
                ready.put(None)  # the workers drain the queue, so there is always room soon
            while wait(workers, timeout=PUT_SECONDS).not_done:
                settled.flush_if_due()  # the wave's tail: its last flush stays small
        if failures:
            raise failures[0]

    def _write(self, step: Step) -> str:
        if step.action == "create":
            assert step.body is not None
            return self.client.create(step.collection, step.body).action
        if step.action == "update":
            assert step.body is not None
            return self.client.update(step.collection, step.item_id, step.body).action
        return self.client.delete(step.collection, step.item_id).action


def _put(ready: queue.Queue[Step | None], step: Step) -> bool:
    try:
        ready.put(step, timeout=PUT_SECONDS)
    except queue.Full:
        return False
    return True


class _Settled:
    """Answers settled by the workers; the ledger learns them at each flush."""

    def __init__(self, ledger: LedgerStore, on_step: StepListener | None) -> None:
        self.ledger = ledger
        self.on_step = on_step
        self.report = ExecutionReport()
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.recorded: list[LedgerEntry] = []
        self.forgotten: dict[str, list[str]] = defaultdict(list)
        self.resolved: dict[str, list[str]] = defaultdict(list)
        self.rejects: list[Reject] = []
        self.unflushed = 0

    def acknowledged(self, step: Step, action: str) -> None:
        with self._lock:
            if step.action == "delete":
                self.forgotten[step.collection].append(step.item_id)
            self.recorded.extend(step.record)
            self.resolved[step.collection].append(step.item_id)
            self.report.done[step.collection][DONE_WORD[step.action]] += 1
            for line in step.record[1:]:  # lines embedded in a create
                self.report.done[line.collection]["created"] += 1
            self._answered(step)
        if self.on_step is not None:
            self.on_step(step, action)

    def refused(self, step: Step, error: RequestRejected) -> None:
        reason = error.reason if isinstance(error, ValidationFailed) else str(error)
        detail = error.detail if error.detail is not None else str(error)
        payload = None if step.body is None else orjson.Fragment(step.body)
        reject = Reject("push", step.collection, step.item_id, reason, detail, payload)
        with self._lock:
            self.rejects.append(reject)
            self.report.rejected += 1
            self._answered(step)
        if self.on_step is not None:
            self.on_step(step, "rejected")

    def _answered(self, step: Step) -> None:
        self.unflushed += 1
        self.report.steps[step.collection][step.action] += 1

    def flush_if_due(self) -> None:
        if self.unflushed >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write what was answered since the last flush; called from one thread only, and
        outside the lock, so the workers go on noting answers meanwhile."""
        with self._lock:
            recorded, forgotten, resolved, rejects = (
                self.recorded,
                self.forgotten,
                self.resolved,
                self.rejects,
            )
            self._clear()
        with self.ledger.transaction():
            self.ledger.record(recorded)
            for name, ids in forgotten.items():
                self.ledger.forget(name, ids)
            self.ledger.add_rejects(rejects)
            for name, ids in resolved.items():
                self.ledger.resolve_rejects("push", name, ids)
