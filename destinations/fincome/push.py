"""Push one batch of rows: plan against the ledger, send concurrently, record in bulk.

Rows of a batch go out in parallel (at most `max_concurrency`), the steps of one row in order.
Only what Fincome acknowledged reaches the ledger, in one statement per batch. A row Fincome
refuses (422 or another 4xx that is not auth) becomes a reject and the batch goes on; an auth
failure or an error left after every retry stops the batch: what was acknowledged until then
is still recorded, then the error is raised for the caller to fail the load.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from destinations.fincome.client import FincomeClient
from destinations.fincome.errors import RequestRejected, ValidationFailed
from destinations.fincome.ledger import LedgerEntry, LedgerStore, Reject
from destinations.fincome.schema import EMBEDDED_CHILD, Collection
from destinations.fincome.steps import (
    LedgerSnapshot,
    RowPlan,
    Step,
    dependency_waves,
    latest_by_id,
    line_ids,
    plan_batch,
)

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    """What one batch did; `writes` counts acknowledged steps by action."""

    collection: str
    writes: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    rejected: int = 0

    def summary(self) -> str:
        done = ", ".join(f"{n} {action}" for action, n in sorted(self.writes.items())) or "no write"
        return f"{self.collection}: {done}, {self.unchanged} unchanged, {self.rejected} rejected"


class _Outcomes:
    """Acknowledged steps and rejects, collected from the worker threads as they happen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.recorded: list[LedgerEntry] = []
        self.forgotten: dict[str, list[str]] = defaultdict(list)
        self.resolved: dict[str, list[str]] = defaultdict(list)
        self.rejects: list[Reject] = []
        self.writes: Counter[str] = Counter()
        self.stopped = threading.Event()

    def acknowledged(self, step: Step) -> None:
        with self._lock:
            self.writes[step.action] += 1
            self.recorded.extend(step.record)
            self.resolved[step.collection].append(step.item_id)
            if step.action == "delete":
                self.forgotten[step.collection].append(step.item_id)

    def refused(self, step: Step, error: RequestRejected) -> None:
        reason = error.reason if isinstance(error, ValidationFailed) else str(error)
        detail = error.detail if error.detail is not None else str(error)
        reject = Reject("push", step.collection, step.item_id, reason, detail, step.body)
        with self._lock:
            self.rejects.append(reject)


class BatchPusher:
    """Pushes batches of one collection's rows through a client, keeping the ledger."""

    def __init__(self, client: FincomeClient, ledger: LedgerStore) -> None:
        self.client = client
        self.ledger = ledger

    def push(self, spec: Collection, rows: Sequence[Mapping[str, Any]]) -> BatchReport:
        rows = latest_by_id(rows)
        plan = plan_batch(spec, rows, self._snapshot(spec, rows))
        outcomes = _Outcomes()
        outcomes.rejects.extend(plan.rejects)
        outcomes.resolved[spec.name].extend(plan.unchanged)
        try:
            self._send(plan.rows, outcomes)
        finally:
            self._save(outcomes)
        report = BatchReport(spec.name, outcomes.writes, len(plan.unchanged), len(outcomes.rejects))
        log.info("fincome %s", report.summary())
        return report

    def _snapshot(self, spec: Collection, rows: Sequence[Mapping[str, Any]]) -> LedgerSnapshot:
        ids = [str(row["id"]) for row in rows if row.get("id") not in (None, "")]
        child = EMBEDDED_CHILD.get(spec.name)
        if child is None:
            return LedgerSnapshot(hashes=self.ledger.hashes(spec.name, ids))
        lines_of = self.ledger.children(child.name, ids)
        held = [line_id for ids_of_parent in lines_of.values() for line_id in ids_of_parent]
        return LedgerSnapshot(
            hashes=self.ledger.hashes(spec.name, ids),
            line_hashes=self.ledger.hashes(child.name, [*held, *line_ids(spec, rows)]),
            lines_of=lines_of,
        )

    def _send(self, rows: list[RowPlan], outcomes: _Outcomes) -> None:
        if not rows:
            return
        workers = min(self.client.max_concurrency, len(rows))
        with ThreadPoolExecutor(workers, thread_name_prefix="fincome-push") as pool:
            for wave in dependency_waves(rows):
                _send_wave(pool, [partial(self._run_row, row, outcomes) for row in wave])

    def _run_row(self, row: RowPlan, outcomes: _Outcomes) -> None:
        for step in row.steps:
            if outcomes.stopped.is_set():
                return  # another row met a fatal error: leave the rest for the next run
            try:
                self._write(step)
            except RequestRejected as error:
                outcomes.refused(step, error)
                if step.blocking:
                    return
                continue
            except BaseException:
                outcomes.stopped.set()
                raise
            outcomes.acknowledged(step)

    def _write(self, step: Step) -> None:
        if step.action == "create":
            assert step.body is not None
            self.client.create(step.collection, step.body)
        elif step.action == "update":
            assert step.body is not None
            self.client.update(
                step.collection, step.item_id, step.body, create_body=step.create_body
            )
        else:
            self.client.delete(step.collection, step.item_id)

    def _save(self, outcomes: _Outcomes) -> None:
        self.ledger.record(outcomes.recorded)
        for name, ids in outcomes.forgotten.items():
            self.ledger.forget(name, ids)
        self.ledger.add_rejects(outcomes.rejects)
        for name, ids in outcomes.resolved.items():
            self.ledger.resolve_rejects("push", name, ids)


def _send_wave(pool: ThreadPoolExecutor, tasks: list[Callable[[], None]]) -> None:
    """Run tasks concurrently; on a fatal error, cancel those not started and raise it."""
    futures = [pool.submit(task) for task in tasks]
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    failed = next((f for f in done if f.exception() is not None), None)
    if failed is None:
        return
    for future in pending:
        future.cancel()  # rows not started yet stay for the next run
    wait(pending)  # rows in flight finish their step, so it is recorded
    raise _exception_of(failed)


def _exception_of(future: Future[None]) -> BaseException:
    error = future.exception()
    assert error is not None
    return error
