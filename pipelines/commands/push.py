"""`push`, `sync` and `backfill`: transform what is staged and push what changed to Fincome.

`push --json` prints one object:

    {"command": "push", "status": "ok" | "rejects" | "failed" | "misconfigured" | "locked",
     "exit_code": 0 | 3 | 1 | 2 | 75, "data_dir": "/abs/path", "dry_run": false,
     "scope": {"kind": "account" | "shard" | "shared", "index": 1 | null, "count": 3 | null},
     "transformed": {"customers": 300, ..., "credit_note_line_items": 12},   # desired rows
     "mapped": 12,                   # customers mapped this run (the others kept their rows)
     "plan": {"customers": {"create": 3, "update": 1, "delete": 0, "embedded": 0, "stale": 0,
                            "frozen": 0,  # held as last pushed while a transform reject is open
                            "money": {"create": {}, "update": {}, "delete": {}}},
              "invoices": {..., "money": {"create": {"USD": "1234.50", "EUR": "99"}, ...}},
              ...},                                # every collection, in push order
     "done": {"customers": {"created": 3, "updated": 1, "deleted": 0}, ...},  # {} on a dry run
     "steps": {"customers": {"create": 3, "update": 1}, ...},  # requests by action: sent
                                     # (answered); on a dry run built the same way, unsent
     "rejects": [{"stage": "transform" | "push", "collection": "invoices",
                  "record_id": "...", "reason": "...",
                  "new": true}],    # not reported yet by a finished push (rejects.py)
     "requests": {"attempts": 12, "retries": 0, "throttled": 0, "by_status": {"201": 12}},
     "duration_seconds": 1.2}

Money is per currency, as decimal strings: what creates carry, how much updates change it,
what deletes take away (an invoice or credit note is worth the lines it holds).
`sync --json` prints `{"command": "sync", "status", "exit_code", "data_dir", "scope",
"extract": <the extract object without command/status>, "push": <the push object likewise>,
"rejects": [every open reject this run saw], "shared_facts": "/abs/shared-facts.json" | null,
"duration_seconds"}`; `backfill --json` the same with `"command": "backfill"` (its
`extract.options.backfill` holds the window).

Exit codes: 3 only when the run set records aside that no finished run had reported yet
(`"new": true`: first seen now, reopened, or set aside by a run that failed or stopped);
rejects the last finished push listed are listed again (`"new": false`) but leave it at 0,
so a scheduler alerts once per set-aside record (`common.rejects_exit_code`).
`billing-sync rejects` lists every open one.

`sync --customer ID` (repeatable) scopes the whole run: the extract reads those customers,
and the push sends only their records (the customer, its subscriptions, invoices, credit
notes and lines) plus the products, prices and payer they use that Fincome does not hold
yet; changes to products and prices Fincome already holds wait for a run without
`--customer`, since they are shared by every customer (`pipelines/push.py`).

`--shard I/N` (or a data dir that holds a shard): `push` sends only the shard's
subscriptions, invoices, credit notes and lines (its `transformed` customers, products and
prices are 0: `push-shared` sends those); `sync` and `backfill` extract the shard and write
its `shared_facts`, and work with `--dry-run` only, since a shard may push only after
`push-shared` (a sharded run is extract, push-shared, push: see `shared.py`). A failure
carries `"error"` (and `"key"`) as for every command.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from pipelines.commands.common import (
    DataDirOption,
    JsonOption,
    Outcome,
    ShardOption,
    rejects_exit_code,
)
from pipelines.commands.extract import CustomerOption, extract_counts
from pipelines.commands.extract import render_result as render_extract
from pipelines.commands.session import CommandSession
from pipelines.commands.show import push_counts, render_push, summarize_push
from pipelines.config import (
    ConfigError,
    load_fincome_settings,
    load_mapping,
    load_metronome_settings,
)
from pipelines.datadir import DataDir
from pipelines.extract import ExtractOptions, ExtractResult, run_extract
from pipelines.preflight.sync import check_accounts, preflight_sync
from pipelines.push import PushOptions, PushResult, run_push
from pipelines.shards import SHARD_KEY, Scope, Shard
from pipelines.shared_facts import record_shared_facts

SHARDED_SYNC = (
    "a shard pushes only after push-shared has pushed the customers, products and prices of "
    "every shard, so a sharded run is three steps: extract --shard I/N (each shard), "
    "push-shared, then push --shard I/N (README: Scheduling); sync --shard is for --dry-run"
)
DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Send nothing; show what would be created, updated, deleted."),
]


def register(app: typer.Typer) -> None:
    app.command(help="Transform what is staged and push the changes to Fincome.")(push)
    app.command(help="Extract from Metronome, then push to Fincome: the scheduled job.")(sync)
    app.command(
        help="Re-read one billing-period window (cursors untouched), then transform and push."
    )(backfill)


def push(
    dry_run: DryRunOption = False,
    shard: ShardOption = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("push", data_dir, json_output)
    session.run(lambda: push_outcome(session, dry_run, shard))


def sync(
    *,
    dry_run: DryRunOption = False,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Re-read every invoice, not only recent ones.")
    ] = False,
    customer: CustomerOption = None,
    shard: ShardOption = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    options = ExtractOptions(
        full_refresh=full_refresh, customer_ids=tuple(customer) if customer else None, shard=shard
    )
    session = CommandSession("sync", data_dir, json_output)
    session.run(lambda: sync_outcome(session, options, dry_run))


def backfill(
    *,
    start: Annotated[
        datetime,
        typer.Option(
            "--start",
            formats=["%Y-%m-%d"],
            metavar="DATE",
            help="Periods starting on or after (YYYY-MM-DD).",
        ),
    ],
    end: Annotated[
        datetime,
        typer.Option(
            "--end",
            formats=["%Y-%m-%d"],
            metavar="DATE",
            help="Periods ending by this day, e.g. 2026-04-01 for March (YYYY-MM-DD).",
        ),
    ],
    customer: CustomerOption = None,
    dry_run: DryRunOption = False,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    if start >= end:
        raise typer.BadParameter("--start must be before --end", param_hint="--start")
    options = ExtractOptions(
        backfill_start=start.date(),
        backfill_end=end.date(),
        customer_ids=tuple(customer) if customer else None,
    )
    session = CommandSession("backfill", data_dir, json_output)
    session.run(lambda: sync_outcome(session, options, dry_run))


def push_outcome(session: CommandSession, dry_run: bool, shard: Shard | None) -> Outcome:
    """Push (or plan, on a dry run) under the lock; the settings are checked first."""
    mapping = load_mapping()
    settings = None if dry_run else load_fincome_settings()
    with session.locked() as held:
        scope = held.claim(Scope.of(shard) if shard else None)
        if settings is not None:  # the data dir's Fincome account, as `sync` checks it
            check_accounts(held.data_dir, None, settings)
        options = PushOptions(dry_run=dry_run, scope=scope)
        described = {"dry_run": dry_run, "shard": str(scope.shard) if scope.shard else None}
        with held.recorded(described, progress=True) as run:
            result = run_push(
                held.data_dir,
                settings,
                mapping,
                options,
                bars=run.bars,
                open_before=run.open_before,
            )
            outcome = Outcome(
                exit_code=rejects_exit_code(result.rejects),
                payload={"data_dir": str(held.data_dir.root), **result.to_json()},
                summary=summarize_push(result),
                render=lambda console: render_push(console, result),
                counts=push_counts(result),
            )
            return run.done(outcome, recorded=result.to_json())


def sync_outcome(session: CommandSession, extract: ExtractOptions, dry_run: bool) -> Outcome:
    """Extract, then push, under one lock: the nightly job (and `backfill`)."""
    _refuse_sharded_push(extract.shard, dry_run)  # usage first, before a data dir takes it
    started, began = datetime.now(UTC), time.monotonic()
    metronome = load_metronome_settings()
    mapping = load_mapping()
    settings = None if dry_run else load_fincome_settings()
    with session.locked() as held:
        data_dir = held.data_dir
        scope = held.claim(Scope.of(extract.shard) if extract.shard else None)
        _refuse_sharded_push(scope.shard, dry_run)
        extract = replace(extract, shard=scope.shard)
        preflight_sync(data_dir, metronome, settings)  # a refused key fails here, in seconds
        with held.recorded({**extract.describe(), "dry_run": dry_run}, progress=True) as run:
            run.bars.phase("extract")
            extracted = run_extract(data_dir, metronome, extract, bars=run.bars)
            run.bars.rejected(len(extracted.rejects))
            facts = record_shared_facts(data_dir, mapping, scope.shard) if scope.shard else None
            options = PushOptions(
                dry_run=dry_run,
                scope=scope,
                full_refresh=extract.full_refresh,
                customers=extract.customer_ids,
            )
            pushed = run_push(
                data_dir,
                settings,
                mapping,
                options,
                since=started,
                bars=run.bars,
                open_before=run.open_before,
            )
            payload: dict[str, Any] = {
                "data_dir": str(data_dir.root),
                "scope": scope.describe(),
                "extract": extracted.to_json(),
                "push": pushed.to_json(),
                "rejects": pushed.rejects,
                "shared_facts": str(facts) if facts else None,
                "duration_seconds": round(time.monotonic() - began, 3),
            }
            return run.done(sync_result(data_dir, extracted, pushed, payload), recorded=payload)


def sync_result(
    data_dir: DataDir, extracted: ExtractResult, pushed: PushResult, payload: dict[str, Any]
) -> Outcome:
    def render(console: Console) -> None:
        render_extract(console, data_dir, extracted)
        render_push(console, pushed)

    return Outcome(
        exit_code=rejects_exit_code(pushed.rejects),
        payload=payload,
        summary=f"extract {sum(extracted.tables.values())} rows; {summarize_push(pushed)}",
        render=render,
        counts=sync_counts(extracted, pushed),
    )


def sync_counts(extracted: ExtractResult, pushed: PushResult) -> dict[str, int]:
    """The push's numbers, its requests named as Fincome's, plus the extract's."""
    counts = push_counts(pushed)
    counts["fincome_requests"] = counts.pop("requests", 0)
    extract = extract_counts(extracted)
    return counts | {"staged": extract["staged"], "metronome_requests": extract["requests"]}


def _refuse_sharded_push(shard: Shard | None, dry_run: bool) -> None:
    if shard and not dry_run:
        raise ConfigError(SHARD_KEY, SHARDED_SYNC)
