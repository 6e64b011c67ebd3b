"""`billing-sync rejects [--retry]`: the records set aside, with their reasons.

Without `--retry` it lists the open rejects. With `--retry`, once their cause is fixed: the
open rejects are taken first, the customers of extract rejects are read from Metronome
again, the transform runs again (configuration fixes such as a new `[mapping.pricing_units]`
entry take effect), and only the records of those rejects are pushed, with their lines,
what belongs to them and the parents Fincome lacks. What still fails stays open with its new
reason.

A record Fincome already holds that became a transform reject is frozen: Fincome keeps the
version pushed at `frozen_since` (with `frozen_records` records under it, lines included)
until the reject resolves; a retry then updates it to the new mapping.

`--json` prints one object:

    {"command": "rejects", "status", "exit_code", "data_dir",
     "running": null | {...},              # the snapshot of a run holding the data dir
                                           # (`billing-sync status` documents its shape)
     "retried": [{"stage", "collection", "record_id",      # per retried record, [] without
                  "outcome": "sent" | "unchanged" | "rejected",            # --retry
                  "created", "updated", "deleted",         # Fincome records written for it
                  "reason": str | null}],                  # the new reason when rejected
     "rejects": [{"stage", "collection", "record_id", "reason", "attempts", "first_seen",
                  "last_seen", "detail", "frozen_since": str | null, "frozen_records": int}]}

`rejects` are the open ones, after the retry when there was one; exit 3 when any is open
(this command is asked by a person: unlike `sync`, it does not tell new rejects from old).

While another run holds the data dir (DuckDB lets no other process read its file), the list
cannot be read: `rejects` answers at once with exit 0, `"rejects": null`, `"retried": []`
and `running` (that run's progress snapshot, whose `rejects` counts the records it has set
aside so far); the full list once that run ends. `--retry` needs the data dir and exits 75.

For people, rejects are grouped by reason: a count per reason, then each reason's ids.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from destinations.fincome import LedgerStore
from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome
from pipelines.commands.session import CommandSession, Held
from pipelines.commands.show import id_column, render_rejects, render_running
from pipelines.config import load_fincome_settings, load_mapping, load_metronome_settings
from pipelines.datadir import RunLockHeld
from pipelines.extract import ExtractOptions, run_extract
from pipelines.frozen import FrozenReject, frozen_note, frozen_rejects
from pipelines.push import PushOptions, run_push
from pipelines.rejects import open_reject_keys
from pipelines.status import running_status

RETRIED_COLUMNS = ("stage", "collection", "record id", "outcome", "created", "updated",
                   "deleted", "reason")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command(help="List rejected records with their reasons; --retry pushes them again.")(
        rejects
    )


def rejects(
    retry: Annotated[
        bool, typer.Option("--retry", help="Re-read, re-map and push the rejected records.")
    ] = False,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("rejects", data_dir, json_output)
    session.run(lambda: rejects_outcome(session, retry))


def rejects_outcome(session: CommandSession, retry: bool) -> Outcome:
    if retry:
        return _listed(session, retry=True)
    try:
        return _listed(session, retry=False)
    except RunLockHeld:
        return _while_running(running_status(session.data_dir()))


def _while_running(report: dict[str, Any]) -> Outcome:
    """Another run holds the data dir: what its snapshot says of the records set aside."""
    running = report["running"]
    so_far = running["rejects"]
    return Outcome(
        exit_code=ExitCode.OK,
        payload={
            "data_dir": report["data_dir"],
            "running": running,
            "retried": [],
            "rejects": None,
        },
        summary=f"a run holds the data dir; rejects so far in it: "
        f"{'unknown' if so_far is None else so_far}",
        render=lambda console: render_running(console, running),
        counts={"rejects_so_far": so_far or 0},
    )


def _listed(session: CommandSession, *, retry: bool) -> Outcome:
    with session.locked() as held:
        data_dir = held.data_dir
        retried = _retry(held) if retry else []
        with data_dir.connect() as db:
            frozen = frozen_rejects(db)
            still_open = [_shown(row, frozen) for row in LedgerStore(db).open_rejects()]
    summary = f"{len(still_open)} open reject(s)"
    if retry:
        sent = sum(1 for record in retried if record["outcome"] == "sent")
        summary += f" after a retry of {len(retried)} ({sent} sent)"
    return Outcome(
        exit_code=ExitCode.REJECTS if still_open else ExitCode.OK,
        payload={
            "data_dir": str(data_dir.root),
            "running": None,
            "retried": retried,
            "rejects": still_open,
        },
        summary=summary,
        render=lambda console: _render(console, still_open, retried if retry else None),
        counts={"open_rejects": len(still_open), "retried": len(retried)},
    )


def _retry(held: Held) -> list[dict[str, Any]]:
    """Push the records of every open reject again; what became of each."""
    mapping = load_mapping()
    settings = load_fincome_settings()
    data_dir = held.data_dir
    scope = held.claim(None)  # a shard retries as a shard
    with data_dir.connect() as db:
        retrying = open_reject_keys(db)  # before the extract and transform resolve any
        customers = _customers_of_extract_rejects(LedgerStore(db).open_rejects(stage="extract"))
    if customers:
        reread = ExtractOptions(customer_ids=tuple(sorted(customers)), shard=scope.shard)
        run_extract(data_dir, load_metronome_settings(), reread)
    pushed = run_push(data_dir, settings, mapping, PushOptions(retrying=retrying, scope=scope))
    return pushed.retried


def _customers_of_extract_rejects(rows: list[dict[str, Any]]) -> set[str]:
    """The customers to read again: the record's own id or the customer it belongs to."""
    found = set()
    for row in rows:
        record = row["payload"]
        if row["collection"] == "customers":
            found.add(row["record_id"])
        elif isinstance(record, dict) and isinstance(record.get("customer_id"), str):
            found.add(record["customer_id"])
    return found


def _shown(row: dict[str, Any], frozen: dict[tuple[str, str], FrozenReject]) -> dict[str, Any]:
    held = (
        frozen.get((row["collection"], row["record_id"])) if row["stage"] == "transform" else None
    )
    return {
        "stage": row["stage"],
        "collection": row["collection"],
        "record_id": row["record_id"],
        "reason": row["reason"],
        "attempts": row["attempts"],
        "first_seen": row["first_seen"].isoformat(),
        "last_seen": row["last_seen"].isoformat(),
        "detail": row["detail"],
        "frozen_since": held.since.isoformat() if held else None,
        "frozen_records": held.records if held else 0,
    }


def _render(
    console: Console, rows: list[dict[str, Any]], retried: list[dict[str, Any]] | None
) -> None:
    if retried:
        _render_retried(console, retried)
    if not rows:
        ending = ": every retried record went through." if retried is not None else "."
        console.print("No open rejects" + ending)
        return
    render_rejects(console, rows, f"Open rejects: {len(rows)}", note=_note)
    console.print("Fix the cause, then: billing-sync rejects --retry")


def _note(row: dict[str, Any]) -> str:
    """Since when the record is set aside, and what Fincome keeps of it meanwhile."""
    words = f"since {row['first_seen'][:10]}"
    if row["frozen_since"]:
        words += "; " + frozen_note(row["frozen_since"], row["frozen_records"])
    return words


def _render_retried(console: Console, retried: list[dict[str, Any]]) -> None:
    table = Table(title=f"Retried: {len(retried)} record(s)")
    for column in RETRIED_COLUMNS:
        if column == "record id":
            table.add_column(**id_column(column, (r["record_id"] for r in retried)))
        else:
            table.add_column(column)
    for record in retried:
        counts = (str(record[key]) for key in ("created", "updated", "deleted"))
        cells = (record["stage"], record["collection"], record["record_id"], record["outcome"])
        table.add_row(*cells, *counts, record["reason"] or "")
    console.print(table)
