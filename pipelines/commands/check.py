"""`billing-sync check [--json] [--rebind]`: is this installation ready to sync? (as `dbt debug`)

Read-only and bounded (quick reads: one attempt each, at most 5 s; `pipelines/preflight/`):
the settings files read and from where, each secret present (never shown), every setting
usable; Metronome and Fincome reachable, TLS right, the credential accepted; each Fincome
collection's path served (`preflight/routes.py` tells "not found" from "no such route");
the views and metrics Fincome lists and which of them reconcile will use (its own choice,
`reconcile/discovery.choose_sources`); the data dir writable and bound to these accounts.
Exit 0 when nothing needs fixing, 2 otherwise, each problem naming what to fix.
`--rebind` records the configured accounts as the data dir's (under its lock).

`check --json` prints one object:

    {"command": "check", "status": "ok" | "misconfigured", "exit_code": 0 | 2,
     "findings": [{"area": "settings" | "metronome" | "fincome" | "paths" | "views" |
                            "metrics" | "data dir",
                   "name": "customers", "status": "ok" | "problem" | "note",
                   "detail": "/clients is served", "fix": null | "the key or command"}],
     "problems": 0,
     "files": [{"role": "deployment" | "project" | "dlt global", "path": "/abs/config.toml",
                "read": true}],
     "variables": ["DESTINATION__FINCOME__API_KEY", ...],    # names set, never values
     "views": ["invoices", ...], "metrics": ["mrr", ...],    # what Fincome lists
     "reconcile": ["invoices: view `invoices` (id=id, ...)", ...],  # what reconcile will
                                # read (pipelines/reconcile/discovery.py chooses, not check)
     "data_dir": "/abs/path" | null}
"""

from __future__ import annotations

import textwrap
from typing import Annotated

import typer
from rich.console import Console

from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome
from pipelines.commands.session import CommandSession
from pipelines.preflight.findings import Finding, problems
from pipelines.preflight.report import CheckReport, run_check

WIDTH = 80
STATUS_WIDTH = 9
NAME_WIDTH = 23


def register(app: typer.Typer) -> None:
    app.command(help="Check settings, both APIs, Fincome's paths and the data dir; read-only.")(
        check
    )


def check(
    rebind: Annotated[
        bool,
        typer.Option("--rebind", help="Record the configured accounts as this data dir's own."),
    ] = False,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("check", data_dir, json_output)
    session.run(lambda: check_outcome(run_check(data_dir, rebind=rebind)))


def check_outcome(report: CheckReport) -> Outcome:
    found = problems(report.findings)
    payload = {
        "findings": [finding.to_json() for finding in report.findings],
        "problems": len(found),
        "files": report.files,
        "variables": report.variables,
        "views": report.views,
        "metrics": report.metrics,
        "reconcile": report.reconcile,
        "data_dir": report.data_dir,
    }
    fixes = sorted({finding.fix for finding in found if finding.fix})
    summary = f"{len(found)} problem(s): fix {', '.join(fixes)}" if found else "ready"
    return Outcome(
        exit_code=ExitCode.USAGE if found else ExitCode.OK,
        payload=payload,
        summary=summary,
        render=lambda console: render(console, report),
        counts={"problems": len(found), "checked": len(report.findings)},
    )


def render(console: Console, report: CheckReport) -> None:
    """One line per finding, grouped by area, wrapped at 80 columns; a fix under a problem."""
    area = None
    for finding in report.findings:
        if finding.area != area:
            area = finding.area
            console.print(area)
        for line in _lines(finding):
            console.print(line, soft_wrap=True)
    found = problems(report.findings)
    console.print()
    console.print(f"{len(found)} problem(s) to fix" if found else "ready: nothing to fix")


def _lines(finding: Finding) -> list[str]:
    """The finding's lines: the detail beside its name when its first word fits there, else
    below it; a word is never cut (a path or an id longer than a line stays whole)."""
    head = f"  {finding.status:<{STATUS_WIDTH}}{finding.name:<{NAME_WIDTH}} "
    indent = " " * (2 + STATUS_WIDTH + 2)
    first_word = finding.detail.split(" ", 1)[0]
    if len(head) + len(first_word) > WIDTH or len(finding.name) >= NAME_WIDTH:
        lines, first = [head.rstrip()], indent
    else:
        lines, first = [], head
    lines += _wrapped(finding.detail, first, indent)
    if finding.fix:
        lines += _wrapped(f"fix: {finding.fix}", indent, indent + "  ")
    return lines


def _wrapped(text: str, first: str, then: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=then,
        break_long_words=False,
        break_on_hyphens=False,
    )
