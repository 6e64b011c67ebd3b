"""`billing-sync extract`: Metronome into DuckDB only.

`--json` prints one object:

    {"command": "extract", "status": "ok" | "rejects" | "failed" | "misconfigured" | "locked",
     "exit_code": 0 | 3 | 1 | 2 | 75, "data_dir": "/abs/path",
     "scope": {"kind": "account" | "shard", "index": 1 | null, "count": 3 | null},
     "tables": {"customers": 200, "customer_plans": 120, "contracts": 90, "plans": 4,
                "plan_charges": 12, "credit_types": 3, "invoices": 2400},  # staged this run
     "unchanged": {"customers": 0, ..., "invoices": 2100},  # read again exactly as staged,
                                                            # so not staged again
     "rejects": [{"collection": "invoices", "record_id": "...", "reason": "missing status"}],
     "requests": {"attempts": 612, "retries": 2, "throttled": 1, "by_status": {"200": 610}},
     "duration_seconds": 12.3, "load_ids": ["..."], "resumed_packages": 0,
     "options": {"shard": null | "1/3", "full_refresh": false,
                 "backfill": null | {"start", "end"}, "customers": null | ["id", ...]},
     "unknown_customers": ["id asked for with --customer that Metronome does not know"],
     "shared_facts": null | "/abs/path/shared-facts.json"}

`--shard I/N` stages only the customers of shard I of N (`pipelines/shards.py`) with the
whole plan catalog, and writes the shard's facts for `push-shared` (`shared_facts.py`).

A failure carries `"error"` (one line) instead, and `"key"` (the environment variable) when
the configuration is at fault.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome, ShardOption
from pipelines.commands.session import CommandSession
from pipelines.config import load_mapping, load_metronome_settings
from pipelines.datadir import DataDir
from pipelines.extract import ExtractOptions, ExtractResult, run_extract
from pipelines.preflight.sync import check_accounts
from pipelines.shards import Scope
from pipelines.shared_facts import record_shared_facts

CustomerOption = Annotated[
    list[str] | None,
    typer.Option("--customer", metavar="ID", help="Only this Metronome customer id (repeatable)."),
]
SHOWN_REJECTS = 20


def register(app: typer.Typer) -> None:
    app.command(help="Pull Metronome into DuckDB (metronome_raw) only.")(extract)


def extract(
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
    session = CommandSession("extract", data_dir, json_output)
    session.run(lambda: extract_outcome(session, options))


def extract_outcome(session: CommandSession, options: ExtractOptions) -> Outcome:
    """Load the settings, take the lock, extract, and describe the result.

    In a shard, the facts the shared records need are written too (`shared_facts.py`).
    """
    settings = load_metronome_settings()
    with session.locked() as held:
        scope = held.claim(Scope.of(options.shard) if options.shard else None)
        check_accounts(held.data_dir, settings, None)  # the data dir's Metronome account
        shard = scope.shard
        options = replace(options, shard=shard)
        mapping = load_mapping() if shard else None  # checked before anything is read
        with held.recorded(options.describe(), progress=True) as run:
            data_dir = held.data_dir
            result = run_extract(data_dir, settings, options, bars=run.bars)
            facts = record_shared_facts(data_dir, mapping, shard) if shard and mapping else None
            outcome = result_outcome(data_dir, result, scope, facts)
            return run.done(outcome, recorded=result.to_json())


def result_outcome(
    data_dir: DataDir, result: ExtractResult, scope: Scope, facts: Path | None
) -> Outcome:
    code = ExitCode.REJECTS if result.rejects else ExitCode.OK
    return Outcome(
        exit_code=code,
        payload={
            "data_dir": str(data_dir.root),
            "scope": scope.describe(),
            **result.to_json(),
            "shared_facts": str(facts) if facts else None,
        },
        summary=summarize(result),
        render=lambda console: render_result(console, data_dir, result),
        counts=extract_counts(result),
    )


def extract_counts(result: ExtractResult) -> dict[str, int]:
    """The numbers of the summary line: rows staged, read again unchanged, rejects, Metronome
    requests."""
    return {
        "staged": sum(result.tables.values()),
        "unchanged": sum(result.unchanged.values()),
        "rejects": len(result.rejects),
        "requests": int(result.requests["attempts"]),
    }


def summarize(result: ExtractResult) -> str:
    tables = " ".join(f"{name}={count}" for name, count in result.tables.items())
    requests = result.requests
    return (
        f"{tables} unchanged={sum(result.unchanged.values())} rejects={len(result.rejects)} "
        f"requests={requests['attempts']} "
        f"retries={requests['retries']} in {result.duration_seconds:.1f}s"
    )


def render_result(console: Console, data_dir: DataDir, result: ExtractResult) -> None:
    staged = Table(title="Staged in metronome_raw")
    staged.add_column("table")
    staged.add_column("rows this run", justify="right")
    staged.add_column("read again unchanged", justify="right")
    for name, count in result.tables.items():
        staged.add_row(name, f"{count:,}", f"{result.unchanged[name]:,}")
    console.print(staged)
    if result.rejects:
        rejects = Table(title=f"Set aside: {len(result.rejects)} record(s) (fincome_sync.rejects)")
        for column in ("collection", "record id", "reason"):
            rejects.add_column(column)
        for reject in result.rejects[:SHOWN_REJECTS]:
            rejects.add_row(reject.collection, reject.record_id, reject.reason)
        console.print(rejects)
    requests = result.requests
    console.print(
        f"{requests['attempts']:,} HTTP requests ({requests['retries']} retried, "
        f"{requests['throttled']} throttled) in {result.duration_seconds:.1f} s; "
        f"DuckDB file: {data_dir.duckdb_path}"
    )
    if result.unknown_customers:
        console.print(f"Unknown to Metronome: {', '.join(result.unknown_customers)}")
    if result.resumed_packages:
        console.print(f"Loaded {result.resumed_packages} package(s) an interrupted run left.")
