"""`billing-sync demo`: the whole Metronome side on a seeded account, nothing to configure.

Starts the Metronome emulator on a free loopback port (its own process), extracts its
generated account into a fresh data dir, and shows what was staged. `--json` prints the
`extract` object (see `pipelines.commands.extract`) plus `"emulator"` (the URL it used).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.commands.common import DataDirOption, JsonOption, Outcome, run_command
from pipelines.commands.extract import render_result, result_outcome
from pipelines.datadir import DataDir, resolve_data_dir, run_lock
from pipelines.extract import ExtractResult, run_extract
from sources.metronome import MetronomeSettings

DEMO_CONCURRENCY = 8  # the emulator is local: no pacing, a few connections in parallel


def register(app: typer.Typer) -> None:
    app.command(help="Extract a seeded account from a local Metronome emulator and show it.")(demo)


def demo(
    *,
    customers: Annotated[int, typer.Option(help="Customers in the generated account.")] = 300,
    months: Annotated[int, typer.Option(help="Months of invoice history.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the generated account.")] = 1,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    run_command("demo", json_output, lambda: _demo(customers, months, seed, data_dir, json_output))


def _demo(
    customers: int, months: int, seed: int, data_dir_option: Path | None, quiet: bool
) -> Outcome:
    from sandbox.__main__ import DEFAULT_METRONOME_TOKEN
    from sandbox.common.server import spawned

    folder = data_dir_option or Path(tempfile.mkdtemp(prefix="billing-sync-demo-"))
    data_dir = resolve_data_dir(folder)
    console = Console(highlight=False, quiet=quiet)
    args = ["--seed", str(seed), "--customers", str(customers), "--months", str(months)]
    with (
        console.status("Starting the Metronome emulator...") as status,
        spawned("metronome", args) as server,
    ):
        settings = MetronomeSettings(
            api_token=DEFAULT_METRONOME_TOKEN,
            base_url=server.url,
            requests_per_second=0,
            max_concurrency=DEMO_CONCURRENCY,
        )
        status.update(f"Extracting {customers} customers x {months} months from {server.url}")
        with run_lock(data_dir):
            result = run_extract(data_dir, settings)
    outcome = result_outcome(data_dir, result)
    outcome.payload["emulator"] = server.url
    account = f"{customers} customers with {months} months of invoices"
    outcome.render = lambda out: _explain(
        out, data_dir, result, f"{server.url} generated {account}"
    )
    return outcome


def _explain(console: Console, data_dir: DataDir, result: ExtractResult, account: str) -> None:
    console.print(
        f"[bold]billing-sync demo[/bold]: the Metronome emulator at {account} (drafts, voids "
        "and corrections included); the extract pulled it into DuckDB, one row per API object."
    )
    render_result(console, data_dir, result)
    console.print(
        f"Look inside with: duckdb {data_dir.duckdb_path} (tables metronome_raw.*). "
        f"Run the demo again with --data-dir {data_dir.root} to see an incremental extract."
    )
