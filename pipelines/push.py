"""`run_push`: transform what is staged, plan against the ledger, push parents first.

1. The transform brings `fincome.*` up to what is staged in `metronome_raw.*`, mapping only
   the customers whose inputs changed (`transform/incremental.py`; `full_refresh` maps
   every one); its rejects are stored (and those it no longer produces are resolved).
2. `plan.plan_push` compares the desired state with the ledger (what Fincome holds under an
   open transform reject is frozen: left as it is). `rejects --retry` plans only the records
   of the rejects it took before it began (`PushOptions.retrying`: the transform resolves
   those it no longer produces) and reports per record what was sent (`PushResult.retried`).
3. The plan's writes become ready steps in waves, parents first (`waves.planned_waves`);
   unless it is a dry run (which builds the same steps and counts them), the executor sends
   them and the ledger learns each acknowledged step as it lands (`executor.Executor`):
   what landed is what the executor reports, nothing is planned twice.

`--customer` (`PushOptions.customers`) plans only those customers' records: the customer,
what belongs to it (`ownership.py`: its subscriptions, invoices, credit notes and their
lines) and the parents they need that Fincome lacks. Products and prices are shared by
every customer, so such a run creates the ones its records use that Fincome does not hold
yet, and leaves updates and deletes of shared products and prices to a run without
`--customer` (updating them here would change other customers' documents).

A run's rejects (`PushResult.rejects`) are the open ones it saw; each says whether it is
`new`: not already reported when the run began (`rejects.reported_rejects`). Only new ones
make a command exit 3 (`commands.common.rejects_exit_code`).

In a shard (`PushOptions.scope`), step 1 maps only the shard's customers and leaves the
customers, products and prices tables empty; `run_shared_push` writes those three from the
facts of every shard (`shared_facts.py`) in a data dir of their own and pushes them alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import duckdb

from destinations.fincome import FincomeClient, FincomeError, FincomeSettings, LedgerStore
from destinations.fincome.executor import ExecutionReport, Executor
from destinations.fincome.waves import Step, planned_waves
from pipelines.datadir import DataDir
from pipelines.heap import release_freed_memory
from pipelines.ownership import fincome_keys
from pipelines.plan import OPS, PushPlan, plan_push
from pipelines.progress import Bars, Counter, no_bars
from pipelines.push_failures import explain, stop_if_refused_alike
from pipelines.rejects import (
    RejectKey,
    RetryReport,
    open_reject_keys,
    open_rejects_since,
    store_transform_rejects,
)
from pipelines.shards import ACCOUNT, SHARED, Scope
from pipelines.shared_facts import SharedFacts, merged_shared_rows
from pipelines.stopping import raise_if_stopped
from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import TransformResult, run_transform, write_desired_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushOptions:
    dry_run: bool = False
    as_of: datetime | None = None  # the moment subscription statuses are judged at; now
    # `rejects --retry`: the open rejects taken before it began (the extract and the transform
    # resolve those they no longer produce); only their records are pushed
    retrying: tuple[RejectKey, ...] | None = None
    scope: Scope = ACCOUNT  # a shard pushes its customers' records, not the shared ones
    full_refresh: bool = False  # map every customer again, changed or not
    customers: tuple[str, ...] | None = None  # `--customer`: push only their records


@dataclass
class PushResult:
    transformed: dict[str, int]
    plan: PushPlan
    mapped: int = 0  # customers the transform mapped (the others kept their rows)
    done: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    requests: dict[str, Any] = field(default_factory=dict)
    duration_seconds: float = 0.0
    dry_run: bool = False
    scope: Scope = ACCOUNT
    retried: list[dict[str, Any]] = field(default_factory=list)  # per record: `RetryReport`
    # requests per collection and action: sent (answered), or on a dry run built, unsent
    steps: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        return sum(sum(ops.values()) for ops in self.done.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "scope": self.scope.describe(),
            "transformed": self.transformed,
            "mapped": self.mapped,
            "plan": {
                name: {
                    **counts,
                    "money": {
                        op: {c: str(v) for c, v in self.plan.collections[name].money[op].items()}
                        for op in OPS
                    },
                }
                for name, counts in self.plan.counts().items()
            },
            "done": self.done,
            "steps": self.steps,
            "rejects": self.rejects,
            "requests": self.requests,
            "duration_seconds": self.duration_seconds,
        }


def run_push(
    data_dir: DataDir,
    settings: FincomeSettings | None,
    mapping: MappingOptions,
    options: PushOptions | None = None,
    *,
    since: datetime | None = None,
    bars: Bars | None = None,
    open_before: frozenset[RejectKey] | None = None,
) -> PushResult:
    """Transform, plan and (unless a dry run) push; `settings` may be None for a dry run.

    `since` is when the command began: rejects opened since then are this run's, and those
    not in `open_before` (the open rejects already reported when it began,
    `rejects.reported_rejects`; by default every one open when the push began) are new.
    A shard (`options.scope`) leaves the customers, products and prices to
    `run_shared_push`.
    """
    bars = bars or no_bars()
    options = options or PushOptions()
    if options.scope == SHARED:
        raise ValueError("the shared records are pushed by run_shared_push, from shard facts")
    as_of = options.as_of or datetime.now(UTC)
    whole = options.scope == ACCOUNT

    def desired(db: duckdb.DuckDBPyConnection) -> TransformResult:
        result = run_transform(
            db,
            mapping,
            as_of,
            spool_dir=data_dir.root,
            with_shared=whole,
            full_refresh=options.full_refresh,
        )
        release_freed_memory()
        store_transform_rejects(LedgerStore(db), result.rejects)
        bars.rejected(len(result.rejects))
        return result

    return _run(
        data_dir, settings, options, desired, since=since, bars=bars, open_before=open_before
    )


def run_shared_push(
    data_dir: DataDir,
    settings: FincomeSettings | None,
    mapping: MappingOptions,
    facts: Sequence[SharedFacts],
    options: PushOptions | None = None,
    *,
    since: datetime | None = None,
    bars: Bars | None = None,
    open_before: frozenset[RejectKey] | None = None,
) -> PushResult:
    """Push the customers, products and prices of the whole account, built from the facts
    of every shard (`shared_facts.py`); the data dir's ledger holds only those."""
    options = replace(options or PushOptions(), scope=SHARED)

    def desired(db: duckdb.DuckDBPyConnection) -> TransformResult:
        rows = merged_shared_rows(facts, mapping)
        return write_desired_state(db, rows, spool_dir=data_dir.root)

    return _run(
        data_dir,
        settings,
        options,
        desired,
        since=since,
        bars=bars or no_bars(),
        open_before=open_before,
    )


def _run(
    data_dir: DataDir,
    settings: FincomeSettings | None,
    options: PushOptions,
    desired: Callable[[duckdb.DuckDBPyConnection], TransformResult],
    *,
    since: datetime | None,
    bars: Bars,
    open_before: frozenset[RejectKey] | None,
) -> PushResult:
    started = time.monotonic()
    since = since or datetime.now(UTC)
    data_dir.ensure()
    with data_dir.connect() as db:
        if open_before is None:
            open_before = frozenset(open_reject_keys(db))
        bars.phase("transform")
        transformed = desired(db)
        retry = None if options.retrying is None else RetryReport(db, options.retrying)
        bars.phase("plan")
        plan = _plan(db, options)
        result = PushResult(
            transformed.counts,
            plan,
            transformed.mapped,
            dry_run=options.dry_run,
            scope=options.scope,
        )
        if options.dry_run:
            result.steps = _count_steps(planned_waves(db, plan))
        elif plan.writes:
            if settings is None:
                raise ValueError("pushing needs the Fincome settings")
            bars.phase("push")
            with data_dir.lower_cap(db):
                report, result.requests = _push(db, settings, plan, bars, since)
            result.done = _done(plan, report)
            result.steps = {name: dict(actions) for name, actions in report.steps.items()}
        result.rejects = open_rejects_since(db, since, open_before)
        result.retried = retry.outcomes(db) if retry else []
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def _plan(db: duckdb.DuckDBPyConnection, options: PushOptions) -> PushPlan:
    """The whole plan, or only the records of a retry's rejects or of `--customer`."""
    if options.retrying is not None:
        retried = {key for r in options.retrying for key in fincome_keys(*astuple(r))}
        return plan_push(db, only=retried)
    if options.customers is not None:
        return plan_push(db, only={("customers", c) for c in options.customers})
    return plan_push(db)


def _push(
    db: duckdb.DuckDBPyConnection,
    settings: FincomeSettings,
    plan: PushPlan,
    bars: Bars,
    since: datetime,
) -> tuple[ExecutionReport, dict[str, Any]]:
    """Send the plan's steps; return what landed and the requests it took.

    Each collection's bar counts the steps Fincome has answered. A push that Fincome refuses
    alike from its first write on stops as misconfigured (`push_failures.py`).
    """
    counters: dict[str, Counter] = {}
    creating = threading.Lock()  # the workers answer concurrently: one bar per collection

    def answered(step: Step, outcome: str) -> None:
        with creating:
            counter = counters.get(step.collection)
            if counter is None:
                total = plan.collections[step.collection].writes
                counter = bars.counter(f"push {step.collection}", total)
                counters[step.collection] = counter
        counter.advance(1)
        if outcome == "rejected":
            bars.rejected()

    with FincomeClient(settings) as client:

        def after_wave() -> None:
            raise_if_stopped("the push, between waves")
            stop_if_refused_alike(db, _delta(before, client.stats.snapshot()), since)

        before = client.stats.snapshot()
        try:
            report = Executor(client, LedgerStore(db), on_step=answered).run(
                planned_waves(db, plan), after_wave=after_wave
            )
        except FincomeError as exc:
            raise explain(exc) from exc
        requests = _delta(before, client.stats.snapshot())
    stop_if_refused_alike(db, requests, since, finished=True)
    return report, requests


def _done(plan: PushPlan, report: ExecutionReport) -> dict[str, dict[str, int]]:
    """Items created, updated and deleted per collection (embedded lines as created)."""
    return {
        name: {word: report.done[name][word] for word in ("created", "updated", "deleted")}
        for name in plan.collections
    }


def _count_steps(waves: Iterable[Iterable[Step]]) -> dict[str, dict[str, int]]:
    """The steps a push would send, per collection and action (a dry run's)."""
    counts: dict[str, dict[str, int]] = {}
    for wave in waves:
        for step in wave:
            by_action = counts.setdefault(step.collection, {})
            by_action[step.action] = by_action.get(step.action, 0) + 1
    return counts


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    by_status = {
        status: count - before["by_status"].get(status, 0)
        for status, count in after["by_status"].items()
        if count - before["by_status"].get(status, 0)
    }
    return {
        "attempts": after["attempts"] - before["attempts"],
        "retries": after["retries"] - before["retries"],
        "throttled": after["throttled"] - before["throttled"],
        "by_status": by_status,
    }
