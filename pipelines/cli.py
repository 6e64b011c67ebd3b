"""`billing-sync`: the command line (console script `billing-sync = pipelines.cli:main`).

Exit codes: 0 done, 1 failed, 2 bad usage or configuration (the message names the key),
3 finished with rejected records, 75 another run holds the data-dir lock, 130 / 143 stopped
by SIGINT / SIGTERM. Each command lives
in `pipelines/commands/` (see its docstring for adding one).
"""

from __future__ import annotations

import os
from importlib.metadata import version
from typing import Annotated

import typer

from pipelines.commands import (
    check,
    demo,
    emulator,
    extract,
    push,
    reconcile,
    rejects,
    repair,
    shared,
    status,
    story,
)
from pipelines.heap import arrow_allocates_with_malloc, limit_malloc_arenas
from pipelines.logs import LogFormat, configure_logging, set_log_format, set_verbose
from pipelines.settings_files import PROJECT_ROOT, use_settings_files

COMMAND_GROUPS = (
    extract,
    push,
    shared,
    status,
    rejects,
    reconcile,
    check,
    repair,
    story,
    emulator,
    demo,
)

app = typer.Typer(
    name="billing-sync",
    help="Keep a Fincome account in step with Metronome.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
for group in COMMAND_GROUPS:
    group.register(app)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"billing-sync {version('billing-sync')}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log everything, tracebacks included.")
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            envvar="BILLING_SYNC_LOG_FORMAT",
            help="Log lines on stderr as text, or as one JSON object per line (for machines).",
        ),
    ] = "text",
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    set_log_format(log_format)
    set_verbose(verbose)
    use_settings_files()  # the same files from any working directory (settings_files.py)


def main() -> None:
    # dlt reports anonymous usage unless told not to: set before dlt reads any setting
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # dlt's own start-up settings ([runtime], [providers]) from the committed .dlt/, not from
    # the working directory's (settings_files.py)
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_ROOT))
    # our commands handle SIGTERM/SIGINT themselves (pipelines.stopping); dlt's handlers would
    # replace ours for each step and clear the signal when the step ends
    os.environ["RUNTIME__INTERCEPT_SIGNALS"] = "false"
    limit_malloc_arenas()  # before any thread starts
    arrow_allocates_with_malloc()  # before Arrow is first loaded (dlt's Parquet, the ledger)
    configure_logging()
    app()
