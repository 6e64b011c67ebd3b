"""`push`, `sync` and `backfill`: transform what is staged and push what changed to Fincome.

`push --json` prints one object:

    {"command": "push", "status": "ok" | "rejects" | "failed" | "misconfigured" | "locked",
     "exit_code": 0 | 3 | 1 | 2 | 75, "data_dir": "/abs/path", "dry_run": false,
     "transformed": {"customers": 300, ..., "credit_note_line_items": 12},   # desired rows
     "plan": {"customers": {"create": 3, "update": 1, "delete": 0, "embedded": 0, "stale": 0,
                            "money": {"create": {}, "update": {}, "delete": {}}},
              "invoices": {..., "money": {"create": {"USD": "1234.50", "EUR": "99"}, ...}},
              ...},                                # every collection, in push order
     "done": {"customers": {"created": 3, "updated": 1, "deleted": 0}, ...},  # {} on a dry run
     "rejects": [{"stage": "transform" | "push", "collection": "invoices",
                  "record_id": "...", "reason": "..."}],
     "requests": {"attempts": 12, "retries": 0, "throttled": 0, "by_status": {"201": 12}},
     "duration_seconds": 1.2}

Money is per currency, as decimal strings: what creates carry, how much updates change it,
what deletes take away (an invoice or credit note is worth the lines it holds).
`sync --json` prints `{"command": "sync", "status", "exit_code", "data_dir",
"extract": <the extract object without command/status>, "push": <the push object likewise>,
"rejects": [every open reject this run saw], "duration_seconds"}`; `backfill --json` the same
with `"command": "backfill"` (its `extract.options.backfill` holds the window).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pipelines.commands.common import (
    DataDirOption,
    ExitCode,
    JsonOption,
    Outcome,
    recorded_run,
    run_command,
)
from pipelines.commands.extract import CustomerOption, extract_counts
from pipelines.commands.extract import render_result as render_extract
from pipelines.commands.show import push_counts, render_push, summarize_push
from pipelines.config import load_mapping, load_metronome_settings, load_push_settings
from pipelines.datadir import resolve_data_dir, run_lock
from pipelines.extract import ExtractOptions, ExtractResult, run_extract
from pipelines.push import PushOptions, PushResult, run_push

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
    dry_run: DryRunOption = False, data_dir: DataDirOption = None, json_output: JsonOption = False
) -> None:
    run_command("push", json_output, lambda: push_outcome("push", data_dir, dry_run))


def sync(
    dry_run: DryRunOption = False,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Re-read every invoice, not only recent ones.")
    ] = False,
    customer: CustomerOption = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    options = ExtractOptions(
        full_refresh=full_refresh, customer_ids=tuple(customer) if customer else None
    )
    run_command("sync", json_output, lambda: sync_outcome("sync", data_dir, options, dry_run))


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
    run_command(
        "backfill", json_output, lambda: sync_outcome("backfill", data_dir, options, dry_run)
    )


def push_outcome(
    command: str, data_dir_option: Path | None, dry_run: bool, *, only_rejected: bool = False
) -> Outcome:
    """Push (or plan, on a dry run) under the lock; the settings are checked first."""
    mapping = load_mapping()
    settings = None if dry_run else load_push_settings()
    data_dir = resolve_data_dir(data_dir_option)
    options = PushOptions(dry_run=dry_run, only_rejected=only_rejected)
    with run_lock(data_dir), recorded_run(data_dir, command, {"dry_run": dry_run}) as record:
        result = run_push(data_dir, settings, mapping, options)
        record.exit_code = int(_exit_code(result.rejects))
        record.summary = result.to_json()
    return Outcome(
        exit_code=_exit_code(result.rejects),
        payload={"data_dir": str(data_dir.root), **result.to_json()},
        summary=summarize_push(result),
        render=lambda console: render_push(console, result),
        counts=push_counts(result),
    )


def sync_outcome(
    command: str, data_dir_option: Path | None, extract: ExtractOptions, dry_run: bool
) -> Outcome:
    """Extract, then push, under one lock: the nightly job (and `backfill`)."""
    started, began = datetime.now(UTC), time.monotonic()
    metronome = load_metronome_settings()
    mapping = load_mapping()
    settings = None if dry_run else load_push_settings()
    data_dir = resolve_data_dir(data_dir_option)
    described = {**extract.describe(), "dry_run": dry_run}
    with run_lock(data_dir), recorded_run(data_dir, command, described) as record:
        extracted = run_extract(data_dir, metronome, extract)
        pushed = run_push(data_dir, settings, mapping, PushOptions(dry_run=dry_run), since=started)
        payload: dict[str, Any] = {
            "data_dir": str(data_dir.root),
            "extract": extracted.to_json(),
            "push": pushed.to_json(),
            "rejects": pushed.rejects,
            "duration_seconds": round(time.monotonic() - began, 3),
        }
        record.exit_code = int(_exit_code(pushed.rejects))
        record.summary = payload

    def render(console: Console) -> None:
        render_extract(console, data_dir, extracted)
        render_push(console, pushed)

    return Outcome(
        exit_code=_exit_code(pushed.rejects),
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


def _exit_code(rejects: list[dict[str, Any]]) -> ExitCode:
    return ExitCode.REJECTS if rejects else ExitCode.OK
