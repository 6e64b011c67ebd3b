"""`billing-sync rejects [--retry]`: the records set aside, with their reasons.

Without `--retry` it lists the open rejects. With `--retry`, once their cause is fixed:
the customers of extract rejects are read from Metronome again, the transform runs again
(configuration fixes such as a new `[mapping.pricing_units]` entry take effect), and only the
records that have an open reject are pushed (with their lines). What still fails stays open.

`--json` prints `{"command": "rejects", "status", "exit_code", "data_dir", "retried": bool,
"rejects": [{"stage", "collection", "record_id", "reason", "attempts", "first_seen",
"last_seen", "detail"}]}` (the open ones, after the retry when there was one); exit 3 when
any is open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from destinations.fincome import LedgerStore
from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome, run_command
from pipelines.config import load_mapping, load_metronome_settings, load_push_settings
from pipelines.datadir import DataDir, resolve_data_dir, run_lock
from pipelines.extract import ExtractOptions, run_extract
from pipelines.push import PushOptions, run_push
from pipelines.shards import claim_scope


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
    run_command("rejects", json_output, lambda: rejects_outcome(data_dir, retry))


def rejects_outcome(data_dir_option: Path | None, retry: bool) -> Outcome:
    data_dir = resolve_data_dir(data_dir_option)
    with run_lock(data_dir):
        if retry:
            _retry(data_dir)
        with data_dir.connect() as db:
            still_open = [_shown(row) for row in LedgerStore(db).open_rejects()]
    return Outcome(
        exit_code=ExitCode.REJECTS if still_open else ExitCode.OK,
        payload={"data_dir": str(data_dir.root), "retried": retry, "rejects": still_open},
        summary=f"{len(still_open)} open reject(s){' after a retry' if retry else ''}",
        render=lambda console: _render(console, still_open, retry),
        counts={"open_rejects": len(still_open)},
    )


def _retry(data_dir: DataDir) -> None:
    mapping = load_mapping()
    settings = load_push_settings()
    scope = claim_scope(data_dir, None)  # a shard retries as a shard
    with data_dir.connect() as db:
        customers = _customers_of_extract_rejects(LedgerStore(db).open_rejects(stage="extract"))
    if customers:
        options = ExtractOptions(customer_ids=tuple(sorted(customers)), shard=scope.shard)
        run_extract(data_dir, load_metronome_settings(), options)
    run_push(data_dir, settings, mapping, PushOptions(only_rejected=True, scope=scope))


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


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "stage": row["stage"],
        "collection": row["collection"],
        "record_id": row["record_id"],
        "reason": row["reason"],
        "attempts": row["attempts"],
        "first_seen": row["first_seen"].isoformat(),
        "last_seen": row["last_seen"].isoformat(),
        "detail": row["detail"],
    }


def _render(console: Console, rows: list[dict[str, Any]], retried: bool) -> None:
    if not rows:
        ending = ": every retried record went through." if retried else "."
        console.print("No open rejects" + ending)
        return
    table = Table(title=f"Open rejects: {len(rows)}")
    for column in ("stage", "collection", "record id", "attempts", "last seen", "reason"):
        table.add_column(column)
    for row in rows:
        cells = (row["stage"], row["collection"], row["record_id"], str(row["attempts"]))
        table.add_row(*cells, row["last_seen"][:19], row["reason"])
    console.print(table)
    console.print("Fix the cause, then: billing-sync rejects --retry")
