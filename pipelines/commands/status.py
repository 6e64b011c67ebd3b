"""`billing-sync status`: the last runs, counts per entity, the cursor, open rejects.

`--json` prints one object:

    {"command": "status", "status": "ok", "exit_code": 0, "data_dir": "/abs/path",
     "running": null | {"pid": 4242, "command": "sync", "started_at": "...",
                        "updated_at": "...", "phase": "extract" | "transform" | "plan"
                        | "push" | "starting", "counters": [{"name": "push invoices",
                        "done": 120, "total": 400}], "requests": {"attempts": 517,
                        "by_status": {"200": 517}}, "rejects": 2},
     "scope": {"kind": "account" | "shard" | "shared", "index": 1 | null, "count": 3 | null},
     "runs": [{"run_id": "1a2b3c4d5e6f", "command": "sync",
               "started_at": "2026-11-21T02:00:00+00:00",
               "duration_seconds": 81.2, "outcome": "ok" | "rejects" | "failed" | "misconfigured"
               | "running" | "interrupted", "exit_code": 0, "created": 120, "updated": 4,
               "deleted": 0, "rejected": 2, "requests": {"metronome": 417, "fincome": 130},
               "error": null}],                                   # newest first, at most 10
     "entities": {"customers": {"desired": 300, "pushed": 300, "stale": 0, "frozen": 0,
                                "pending": {"create": 0, "update": 0, "delete": 0}}, ...},
     "cursor": null | {"customers": 300, "customers_with_open_drafts": 280,
                       "latest_period_start": {"min": "...", "max": "..."},
                       "last_extract_at": "2026-11-21T02:00:12+00:00"},
     "rejects": {"open": 2, "by_reason": [{"stage": "transform", "collection": "invoices",
                                           "reason": "...", "count": 2}],
                 "frozen": [{"stage": "transform", "collection": "invoices", "record_id": "...",
                             "reason": "...", "frozen_since": "2026-11-20T02:00:09+00:00",
                             "frozen_records": 4}]},
     "skipped": {"total": 3, "by_reason": [{"collection": "invoices", "count": 3,
                                            "reason": "billable_status unbillable: not revenue"}]}}

`skipped`: records the last transform left out on purpose because they are not revenue
(unbillable invoices, consolidated invoices whose lines are on their constituents): not
rejects, nothing to fix; `[mapping] keep_unbillable_invoices` keeps the unbillable ones.

`frozen` (in `entities` and `rejects`): records Fincome holds that became transform rejects
are kept as last pushed, neither updated nor deleted, until the reject resolves; each such
reject says since when (`frozen_since`) and how many records it holds (lines included).

While another run holds the data dir (DuckDB lets no other process read its file), `status`
does not wait and does not open it: it answers at once (exit 0) from the progress snapshot
that run keeps (`pipelines/running.py`): `running` is that snapshot, `scope` and `cursor`
are read from their files, and `runs`, `entities`, `rejects` and `skipped` are null (they
are in the DuckDB file). When the run's snapshot is not there yet (it has just started) or
its process is gone, `running` says only `{"pid": null, ...}` with null fields. Without a
run, `running` is null; a snapshot a killed run left behind is never shown as running.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome
from pipelines.commands.session import CommandSession
from pipelines.commands.show import id_column, narrow_table, render_running
from pipelines.datadir import RunLockHeld
from pipelines.frozen import frozen_note
from pipelines.status import gather_status, running_status

# narrow enough for 80 columns: writes as created/updated/deleted in one cell
RUN_COLUMNS = ("started (UTC)", "command", "outcome", "seconds", "created/ updated/ deleted",
               "set aside", "requests M/F")  # fmt: skip
ENTITY_COLUMNS = ("collection", "desired", "in Fincome", "create", "update", "delete", "stale",
                  "frozen")  # fmt: skip
SHOWN_FROZEN = 20


def register(app: typer.Typer) -> None:
    app.command(help="Show the last runs, counts per entity, the cursor and open rejects.")(status)


def status(
    # at least the last run, which the summary line names; DuckDB's LIMIT overflowed far above
    runs: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="How many recent runs to show.")
    ] = 10,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("status", data_dir, json_output)

    def body() -> Outcome:
        try:
            with session.locked() as held:
                report = gather_status(held.data_dir, runs=runs)
        except RunLockHeld:
            return _running_outcome(running_status(session.data_dir()))
        last = report["runs"][0]["outcome"] if report["runs"] else "no run yet"
        return Outcome(
            exit_code=ExitCode.OK,
            payload=report,
            summary=f"last run: {last}; open rejects: {report['rejects']['open']}",
            render=lambda console: render_status(console, report),
            counts={"runs": len(report["runs"]), "open_rejects": report["rejects"]["open"]},
        )

    session.run(body)


def _running_outcome(report: dict[str, Any]) -> Outcome:
    """Status while another run holds the data dir: what its snapshot says."""
    running = report["running"]
    return Outcome(
        exit_code=ExitCode.OK,
        payload=report,
        summary=f"{running['command'] or 'a run'} running (pid {running['pid'] or 'unknown'})",
        render=lambda console: render_running(console, running),
        counts={"running": 1, "rejects_so_far": running["rejects"] or 0},
    )


def render_status(console: Console, report: dict[str, Any]) -> None:
    scope = report["scope"]
    if scope["kind"] == "shard":
        console.print(
            f"Shard {scope['index']}/{scope['count']}: its customers' subscriptions, invoices "
            "and credit notes (push-shared sends customers, products and prices)."
        )
    elif scope["kind"] == "shared":
        console.print("Shared: the customers, products and prices of every shard.")
    runs = narrow_table("Last runs")
    for column in RUN_COLUMNS:
        runs.add_column(column, overflow="fold", no_wrap=column == RUN_COLUMNS[0])
    for run in report["runs"]:
        writes = "/".join(f"{run[key]:,}" for key in ("created", "updated", "deleted"))
        runs.add_row(
            run["started_at"][:16].replace("T", " "),
            run["command"],
            run["outcome"],
            "" if run["duration_seconds"] is None else f"{run['duration_seconds']:.1f}",
            writes,
            f"{run['rejected']:,}",
            f"{run['requests']['metronome']:,}/{run['requests']['fincome']:,}",
        )
    console.print(runs)
    entities = narrow_table("Fincome entities (create, update, delete: pending)")
    entities.add_column(**id_column(ENTITY_COLUMNS[0], report["entities"]))
    for column in ENTITY_COLUMNS[1:]:
        entities.add_column(column, justify="right", overflow="fold")
    for name, row in report["entities"].items():
        counts = (row["desired"], row["pushed"], *row["pending"].values(), row["stale"],
                  row["frozen"])  # fmt: skip
        entities.add_row(name, *(f"{n:,}" for n in counts))
    console.print(entities)
    cursor = report["cursor"]
    if cursor:
        span = cursor["latest_period_start"] or {}
        console.print(
            f"Extract cursor: {cursor['customers']:,} customers, latest periods from "
            f"{span.get('min', '-')} to {span.get('max', '-')}, "
            f"{cursor['customers_with_open_drafts']:,} with open drafts; last extract "
            f"{cursor['last_extract_at']}"
        )
    else:
        console.print("Nothing extracted yet.")
    rejects = report["rejects"]
    console.print(f"Open rejects: {rejects['open']:,}")
    if rejects["by_reason"]:
        table = narrow_table(None)
        for column in ("count", "stage", "collection", "reason"):
            table.add_column(column, overflow="fold")
        for group in rejects["by_reason"]:
            table.add_row(
                f"{group['count']:,}", group["stage"], group["collection"], group["reason"]
            )
        console.print(table)
    _render_frozen(console, rejects["frozen"])
    skipped = report["skipped"]
    if skipped["total"]:
        reasons = "; ".join(f"{g['count']:,} {g['reason']}" for g in skipped["by_reason"])
        console.print(f"Skipped as not revenue: {skipped['total']:,} ({reasons})")


def _render_frozen(console: Console, frozen: list[dict[str, Any]]) -> None:
    if not frozen:
        return
    table = narrow_table(f"Set aside but held by Fincome: {len(frozen)} record(s)")
    table.add_column("collection")
    table.add_column(**id_column("record id", (r["record_id"] for r in frozen[:SHOWN_FROZEN])))
    table.add_column("in Fincome")
    for record in frozen[:SHOWN_FROZEN]:
        note = frozen_note(record["frozen_since"], record["frozen_records"])
        table.add_row(record["collection"], record["record_id"], note)
    console.print(table)
    if len(frozen) > SHOWN_FROZEN:
        console.print(f"... and {len(frozen) - SHOWN_FROZEN} more: billing-sync rejects")
