"""`run_push`: transform what is staged, plan against the ledger, push parents first.

1. The transform rebuilds `fincome.*` from `metronome_raw.*`; its rejects are stored (and
   earlier transform rejects it no longer produces are resolved).
2. `plan.plan_push` compares the desired state with the ledger (what Fincome holds under an
   open transform reject is frozen: left as it is). `rejects --retry` plans only the records
   of the rejects it took before it began (`PushOptions.retrying`: the transform resolves
   those it no longer produces) and reports per record what was sent (`PushResult.retried`).
3. Unless it is a dry run, the dlt pipeline `fincome_push` loads one collection per run in
   `schema.PUSH_ORDER` (dlt does not order jobs by dependency) into the `fincome`
   destination, which writes the ledger as Fincome acknowledges. Pending packages of an
   earlier, interrupted push are dropped first: the plan already holds all outstanding work,
   and replaying an old package could push an older version of a row.
4. Planning again afterwards tells what landed: whatever is still planned did not.

In a shard (`PushOptions.scope`), step 1 maps only the shard's customers and leaves the
customers, products and prices tables empty; `run_shared_push` writes those three from the
facts of every shard (`shared_facts.py`) in a data dir of their own and pushes them alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import dlt
import duckdb
from dlt.pipeline.exceptions import PipelineStepFailed

from destinations.fincome import LedgerStore, column_hints, fincome
from destinations.fincome.destination import batch_listener, close_ledgers, shared_client
from pipelines.config import PushSettings
from pipelines.datadir import DataDir
from pipelines.heap import release_freed_memory
from pipelines.ownership import fincome_keys
from pipelines.plan import OPS, PushPlan, plan_push
from pipelines.progress import Bars, Counter, no_bars
from pipelines.push_failures import explain, stop_if_refused_alike
from pipelines.push_rows import collection_pages
from pipelines.rejects import RejectKey, RetryReport, open_rejects_since, resolve_vanished
from pipelines.shards import ACCOUNT, SHARED, Scope
from pipelines.shared_facts import SharedFacts, merged_shared_rows
from pipelines.stopping import raise_if_stopped
from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import run_transform, write_desired_state

PIPELINE_NAME = "fincome_push"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushOptions:
    dry_run: bool = False
    as_of: datetime | None = None  # the moment subscription statuses are judged at; now
    # `rejects --retry`: the open rejects taken before it began (the extract and the transform
    # resolve those they no longer produce); only their records are pushed
    retrying: tuple[RejectKey, ...] | None = None
    scope: Scope = ACCOUNT  # a shard pushes its customers' records, not the shared ones


@dataclass
class PushResult:
    transformed: dict[str, int]
    plan: PushPlan
    done: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    requests: dict[str, Any] = field(default_factory=dict)
    duration_seconds: float = 0.0
    dry_run: bool = False
    scope: Scope = ACCOUNT
    retried: list[dict[str, Any]] = field(default_factory=list)  # per record: `RetryReport`

    @property
    def writes(self) -> int:
        return sum(sum(ops.values()) for ops in self.done.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "scope": self.scope.describe(),
            "transformed": self.transformed,
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
            "rejects": self.rejects,
            "requests": self.requests,
            "duration_seconds": self.duration_seconds,
        }


def run_push(
    data_dir: DataDir,
    settings: PushSettings | None,
    mapping: MappingOptions,
    options: PushOptions | None = None,
    *,
    since: datetime | None = None,
    bars: Bars | None = None,
) -> PushResult:
    """Transform, plan and (unless a dry run) push; `settings` may be None for a dry run.

    `since` is when the command began: rejects opened since then are this run's. A shard
    (`options.scope`) leaves the customers, products and prices to `run_shared_push`.
    """
    options = options or PushOptions()
    if options.scope == SHARED:
        raise ValueError("the shared records are pushed by run_shared_push, from shard facts")
    as_of = options.as_of or datetime.now(UTC)
    whole = options.scope == ACCOUNT

    def desired(db: duckdb.DuckDBPyConnection) -> dict[str, int]:
        return _transform(db, data_dir, mapping, as_of, with_shared=whole)

    return _run(data_dir, settings, options, desired, since=since, bars=bars)


def run_shared_push(
    data_dir: DataDir,
    settings: PushSettings | None,
    mapping: MappingOptions,
    facts: Sequence[SharedFacts],
    options: PushOptions | None = None,
    *,
    since: datetime | None = None,
    bars: Bars | None = None,
) -> PushResult:
    """Push the customers, products and prices of the whole account, built from the facts
    of every shard (`shared_facts.py`); the data dir's ledger holds only those."""
    options = replace(options or PushOptions(), scope=SHARED)

    def desired(db: duckdb.DuckDBPyConnection) -> dict[str, int]:
        rows = merged_shared_rows(facts, mapping)
        return write_desired_state(db, rows, spool_dir=data_dir.root).counts

    return _run(data_dir, settings, options, desired, since=since, bars=bars)


def _run(
    data_dir: DataDir,
    settings: PushSettings | None,
    options: PushOptions,
    desired: Callable[[duckdb.DuckDBPyConnection], dict[str, int]],
    *,
    since: datetime | None,
    bars: Bars | None,
) -> PushResult:
    started = time.monotonic()
    since = since or datetime.now(UTC)
    data_dir.ensure()
    with data_dir.connect() as db:
        transformed = desired(db)
        retry = None if options.retrying is None else RetryReport(db, options.retrying)
        plan = _plan(db, options)
        result = PushResult(transformed, plan, dry_run=options.dry_run, scope=options.scope)
        if not options.dry_run and plan.writes:
            if settings is None:
                raise ValueError("pushing needs the Fincome settings")
            result.requests = _push(db, data_dir, settings, plan, bars or no_bars(), since=since)
            result.done = _done(plan, _plan(db, options))
        result.rejects = open_rejects_since(db, since)
        result.retried = retry.outcomes(db) if retry else []
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def _transform(
    db: duckdb.DuckDBPyConnection,
    data_dir: DataDir,
    mapping: MappingOptions,
    as_of: datetime,
    *,
    with_shared: bool,
) -> dict[str, int]:
    result = run_transform(db, mapping, as_of, spool_dir=data_dir.root, with_shared=with_shared)
    release_freed_memory()
    ledger = LedgerStore(db)
    ledger.add_rejects(result.rejects)
    resolve_vanished(ledger, "transform", result.rejects)
    return result.counts


def _plan(db: duckdb.DuckDBPyConnection, options: PushOptions) -> PushPlan:
    if options.retrying is None:
        return plan_push(db)
    retried = {key for r in options.retrying for key in fincome_keys(*astuple(r))}
    return plan_push(db, only=retried)


def _push(
    db: duckdb.DuckDBPyConnection,
    data_dir: DataDir,
    settings: PushSettings,
    plan: PushPlan,
    bars: Bars,
    *,
    since: datetime,
) -> dict[str, Any]:
    """Load each collection with work in its own dlt run; return the requests it took.

    Each collection's bar counts the rows Fincome has answered, batch by batch. A push that
    Fincome refuses alike from its first write on stops as misconfigured (`push_failures.py`).
    """
    client = shared_client(settings.fincome)
    before = client.stats.snapshot()
    data_dir.discard_interrupted_writes(PIPELINE_NAME)
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=_destination(data_dir, settings),
        dataset_name="fincome",
        pipelines_dir=str(data_dir.dlt_dir),
    )
    if pipeline.has_pending_data:
        log.warning("dropping a push package an interrupted run left; the plan covers it")
        # deletes the packages and rewinds dlt's local state to before them (the deprecated
        # `drop_pending_packages` is an alias of it)
        pipeline.abort_packages()
    counters: dict[str, Counter] = {}

    def answered(collection: str, rows: int) -> None:
        if counter := counters.get(collection):
            counter.advance(rows)

    try:
        with data_dir.lower_cap(db), batch_listener(answered):
            for name, pages in collection_pages(db, plan):
                raise_if_stopped(f"the push, before {name}")
                counters[name] = bars.counter(f"push {name}", plan.collections[name].writes)
                pipeline.run(
                    pages,
                    table_name=name,
                    columns=column_hints(name),
                    write_disposition="append",
                )
                stop_if_refused_alike(db, _delta(before, client.stats.snapshot()), since)
    except PipelineStepFailed as exc:
        raise explain(exc) from exc
    finally:
        close_ledgers()
    requests = _delta(before, client.stats.snapshot())
    stop_if_refused_alike(db, requests, since, finished=True)
    return requests


def _destination(data_dir: DataDir, settings: PushSettings) -> Any:
    """The destination with exactly our settings, so it shares `shared_client`'s client."""
    fincome_settings = settings.fincome
    options: dict[str, Any] = {
        "api_key": fincome_settings.api_key,
        "base_url": fincome_settings.base_url,
        "api_key_header": fincome_settings.api_key_header,
        "requests_per_second": fincome_settings.requests_per_second or 0,
        "max_concurrency": fincome_settings.max_concurrency,
        "timeout_seconds": fincome_settings.timeout_seconds,
        "max_attempts": fincome_settings.max_attempts,
        "retry_budget_seconds": fincome_settings.retry_budget_seconds,
        "allow_insecure_http": fincome_settings.allow_insecure_http,
        "paths": dict(fincome_settings.paths.overrides),
        "ledger_path": str(data_dir.duckdb_path),
        "batch_size": settings.batch_size,  # a dlt setting of every custom destination
    }
    return fincome(**options)


def _done(before: PushPlan, after: PushPlan) -> dict[str, dict[str, int]]:
    """What landed: planned work that is no longer planned.

    Creates are counted, not matched by id: the desired state is the same for both plans, so
    what is left to create is a part of what was planned, embedded lines included (a line
    planned inside its parent's create is a create of its own if its parent landed and it
    did not).
    """
    done: dict[str, dict[str, int]] = {}
    for name, planned in before.collections.items():
        left = after.collections[name]
        done[name] = {
            "created": planned.creates - left.creates,
            "updated": len(set(planned.ids["update"]) - set(left.ids["update"])),
            "deleted": len(set(planned.ids["delete"]) - set(left.ids["delete"])),
        }
    return done


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
