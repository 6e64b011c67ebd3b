"""What every command shares: options, exit codes, output, error handling.

A command builds an `Outcome` (exit code, JSON payload, a renderer for people) inside
`run_command` (through its `session.CommandSession`), which turns known failures into their
exit codes, prints either the JSON object or the rendering, and logs the one summary line
every run leaves behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console

from pipelines.config import MEMORY_LIMIT_KEY, ConfigError, env_key
from pipelines.datadir import DUCKDB_MEMORY_LIMIT, RunLockHeld
from pipelines.extract import ExtractFailed
from pipelines.logs import FIELDS_ATTRIBUTE, mask_secrets, redact
from pipelines.push_failures import PushFailed
from pipelines.runs import OUTCOMES
from pipelines.shards import Shard, parse_shard
from pipelines.stopping import Stopped, received_signal, stop_on_signals, stopped_by

log = logging.getLogger("billing_sync")


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2  # bad usage or configuration; the message names the key
    REJECTS = 3  # finished, but records were newly set aside (`rejects_exit_code`)
    LOCKED = 75  # another run holds the data-dir lock (EX_TEMPFAIL)
    INTERRUPTED = 130  # stopped by SIGINT (128 + 2)
    TERMINATED = 143  # stopped by SIGTERM (128 + 15)


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the DuckDB file and dlt state [env: BILLING_SYNC_DATA_DIR; default ./data]",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead of tables.")
]


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


ShardOption = Annotated[
    Shard | None,
    typer.Option(
        "--shard",
        metavar="I/N",
        parser=_shard,
        help="Only the customers of shard I of N (0 <= I < N), in a data dir of its own "
        "[default: the data dir's own scope]",
        show_default=False,
    ),
]


def rejects_exit_code(rejects: list[dict[str, Any]]) -> ExitCode:
    """Exit 3 when the run set records aside that no finished run had reported yet (`new`:
    first seen now, reopened, or set aside by a run that failed or stopped), else 0: a
    scheduler then alerts once per record, while the old ones stay listed in the output
    (and in `billing-sync rejects`)."""
    return ExitCode.REJECTS if any(reject.get("new", True) for reject in rejects) else ExitCode.OK


def _nothing(console: Console) -> None:
    """A failed command shows nothing but its summary line."""


@dataclass
class Outcome:
    """What a command did: its exit code, its JSON object, and how to show it to a person."""

    exit_code: ExitCode
    payload: dict[str, Any]
    summary: str  # the run's one-line summary, without the command name
    render: Callable[[Console], None] = _nothing
    counts: dict[str, int] = field(default_factory=dict)  # the summary line's numbers
    status: str | None = None  # a word for the exit code when the default misleads (`differs`)


def run_command(command: str, json_output: bool, body: Callable[[], Outcome]) -> None:
    """Run `body`, print its outcome, log the summary line, and exit with its code.

    SIGTERM and SIGINT stop the body within seconds (`pipelines.stopping`); the run still
    prints its outcome and its summary line, and exits 143 or 130.
    """
    with stop_on_signals():
        try:
            outcome = body()
        except Exception as exc:
            log.debug("%s failed", command, exc_info=exc)  # the traceback, with --verbose only
            code, message = classify(exc)
            payload: dict[str, Any] = {"error": message}
            if isinstance(exc, ConfigError):
                payload["key"] = exc.key
            outcome = Outcome(exit_code=code, payload=payload, summary=message)
        if (signum := received_signal()) is not None and outcome.exit_code < ExitCode.INTERRUPTED:
            outcome = _stopped(outcome, Stopped(signum))
    status = outcome.status or OUTCOMES.get(int(outcome.exit_code), "failed")
    if json_output:
        head = {"command": command, "status": status, "exit_code": int(outcome.exit_code)}
        typer.echo(mask_secrets(json.dumps({**head, **outcome.payload}, default=str)))
    else:
        # no markup: record ids, reasons and names are data, and `[mapping.x]` is not a style
        console = Console(highlight=False, markup=False)
        with console.capture() as shown:
            outcome.render(console)
        typer.echo(redact(shown.get()), nl=False)
    log_summary(command, status, outcome)
    raise typer.Exit(int(outcome.exit_code))


def _stopped(outcome: Outcome, stop: Stopped) -> Outcome:
    """A body that finished although a signal came did not do all it would have: say so."""
    payload = {**outcome.payload, "error": str(stop)}
    summary = f"{stop}; {outcome.summary}"
    return replace(outcome, exit_code=ExitCode(stop.exit_code), payload=payload, summary=summary)


def log_summary(command: str, status: str, outcome: Outcome) -> None:
    """The one line every run leaves: words for people, fields for `--log-format json`."""
    level = logging.INFO if outcome.exit_code in (ExitCode.OK, ExitCode.REJECTS) else logging.ERROR
    fields: dict[str, Any] = {
        "command": command,
        "status": status,
        "exit_code": int(outcome.exit_code),
        "counts": outcome.counts,
    }
    if "data_dir" in outcome.payload:
        fields["data_dir"] = outcome.payload["data_dir"]
    if "error" in outcome.payload:
        fields["error"] = outcome.payload["error"]
    log.log(
        level,
        "%s %s (exit %d): %s",
        command,
        status,
        outcome.exit_code,
        outcome.summary,
        extra={FIELDS_ATTRIBUTE: fields},
    )


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code of a failure and its one-line message (never a traceback)."""
    if (stop := stopped_by(exc)) is not None:
        return ExitCode(stop.exit_code), str(stop)
    if isinstance(exc, ConfigError):
        return ExitCode.USAGE, str(exc)
    if isinstance(exc, RunLockHeld):
        return ExitCode.LOCKED, str(exc)
    if out_of_memory := _duckdb_out_of_memory(exc):
        reason = str(out_of_memory).splitlines()[0]  # DuckDB's advice after it is not ours
        return ExitCode.FAILED, (
            f"{reason}: raise DuckDB's cap with {env_key(MEMORY_LIMIT_KEY)} "
            f"([data_dir] duckdb_memory_limit, default {DUCKDB_MEMORY_LIMIT // 2**20}MiB) "
            "and run again"
        )
    if isinstance(exc, ExtractFailed | PushFailed):
        return ExitCode.FAILED, str(exc)
    # a bug or an unforeseen outage
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return ExitCode.FAILED, f"{text} (run with --verbose for details)"


def _duckdb_out_of_memory(exc: BaseException | None) -> duckdb.OutOfMemoryException | None:
    """DuckDB's refusal past its cap, however deep dlt or our errors wrap it."""
    while exc is not None:
        if isinstance(exc, duckdb.OutOfMemoryException):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None
