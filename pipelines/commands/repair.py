"""`billing-sync repair [--dry-run]`: make Fincome hold the desired state again.

Reads back by id what Fincome holds for every record of the desired state and the ledger
(all desired records when the data dir is new or was lost), corrects the ledger to it, then
pushes: what is missing is created, what differs updated, and lines (and other deletable
records) Fincome holds that the desired state does not are deleted (`pipelines/repair.py`).
Paced like every push; safe to stop or kill: the next repair resumes after the last batch it
corrected. `--dry-run` reads and reports, and writes nothing to the ledger or Fincome.
After a lost data dir: `extract`, then `repair` (instead of `sync`, whose creates would meet
409 and leave what the new bodies no longer hold). Exit 0 done, 3 when records were set aside
that were not before the repair (as `push`: `common.rejects_exit_code`), 1 failed,
2 configuration (a refused key, a wrong path, a data dir bound to another Fincome account:
`check --rebind` moves it, then `repair`), 75 locked.

`--json` prints one object:

    {"command": "repair", "status": "ok" | "rejects" | "failed" | "misconfigured" | "locked",
     "exit_code": 0 | 3 | 1 | 2 | 75, "data_dir": "/abs/path", "dry_run": false,
     "resumed": 0,            # records an earlier, unfinished repair had already checked
     "collections": {"invoices": {"read": 120, "missing": 1, "differing": 2, "extra": 0,
                                  "repaired": 3, "requests": 123, "seconds": 0.4}, ...},
     "findings": [{"collection": "invoice_line_items", "id": "...",
                   "finding": "missing" | "differs" | "extra", "fields": ["status"]}],
                                # the first 20
     "pending": {"invoices": 120, ...},   # writes a push had planned before the read-back
     "push": <the push object, as `push --json`> | null (a dry run),
     "requests": {"attempts": 130, "retries": 0, "throttled": 0, "by_status": {...}},
                                # the read-back's
     "duration_seconds": 1.2}

`read` counts records checked (lines listed inside their invoice included, with no request
of their own); `repaired` the writes the push then sent, pending upstream changes included;
`requests` the reads and writes of that collection; `seconds` the read-back's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from pipelines.commands.common import DataDirOption, JsonOption, Outcome, rejects_exit_code
from pipelines.commands.session import CommandSession
from pipelines.config import load_fincome_settings, load_mapping
from pipelines.preflight.sync import check_accounts
from pipelines.repair import RepairResult, run_repair
from pipelines.repair_checks import Tally

# (header, width): 22 + 56 = 78 columns, within 80
COLUMNS = (
    ("read", 7),
    ("missing", 8),
    ("differs", 8),
    ("extra", 7),
    ("repaired", 9),
    ("requests", 9),
    ("seconds", 8),
)
NAME_WIDTH = 22  # credit_note_line_items


DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Read back and report; write nothing to the ledger or to Fincome."
    ),
]


def register(app: typer.Typer) -> None:
    app.command(help="Read back what Fincome holds and push what is missing or differs.")(repair)


def repair(
    dry_run: DryRunOption = False,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("repair", data_dir, json_output)
    session.run(lambda: repair_outcome(session, dry_run))


def repair_outcome(session: CommandSession, dry_run: bool) -> Outcome:
    mapping = load_mapping()
    settings = load_fincome_settings()  # a dry run reads Fincome too
    started = datetime.now(UTC)
    with session.locked() as held:
        scope = held.claim(None)
        # another Fincome holds none of ours: every record would read as missing, and the
        # whole account would be pushed there (bound accounts, as push and sync check them)
        check_accounts(held.data_dir, None, settings)
        with held.recorded({"dry_run": dry_run}, progress=True) as run:
            result = run_repair(
                held.data_dir,
                settings,
                mapping,
                dry_run=dry_run,
                scope=scope,
                since=started,
                bars=run.bars,
            )
            rejects = result.push.rejects if result.push else []
            outcome = Outcome(
                exit_code=rejects_exit_code(rejects),
                payload={"data_dir": str(held.data_dir.root), **result.to_json()},
                summary=summarize(result),
                render=lambda console: render(console, result),
                counts=counts(result),
            )
            return run.done(outcome, recorded=result.to_json())


def counts(result: RepairResult) -> dict[str, int]:
    totals = result.totals
    found = {
        "read": totals.read,
        "missing": totals.missing,
        "differing": totals.differing,
        "extra": totals.extra,
    }
    return found | {"repaired": totals.repaired, "requests": totals.requests}


def summarize(result: RepairResult) -> str:
    words = " ".join(f"{key}={value}" for key, value in counts(result).items())
    prefix = "dry run, " if result.dry_run else ""
    return f"{prefix}{words} in {result.duration_seconds:.1f}s"


def render(console: Console, result: RepairResult) -> None:
    """The table per collection, the first findings (ids whole), then the push."""
    if result.resumed:
        console.print(
            f"Resumed: {result.resumed:,} records were checked by an earlier repair that "
            "did not finish."
        )
    console.print(_row("collection", [header for header, _ in COLUMNS]))
    for name, tally in result.tallies.items():
        console.print(_row(name, _cells(tally)))
    console.print(_row("total", _cells(result.totals)))
    _render_findings(console, result)
    if result.push is not None:
        done = {
            word: sum(d[word] for d in result.push.done.values())
            for word in ("created", "updated", "deleted")
        }
        writes = ", ".join(f"{count:,} {word}" for word, count in done.items())
        console.print(f"Then the push: {writes} in {result.push.duration_seconds:.1f} s.")
        if result.push.rejects:
            count = len(result.push.rejects)
            console.print(f"{count:,} records are set aside: billing-sync rejects")
    elif result.dry_run:
        console.print("Dry run: nothing was written. `billing-sync repair` corrects the ledger")
        console.print("to what Fincome holds and pushes what is missing or differs.")


def _render_findings(console: Console, result: RepairResult) -> None:
    if not result.totals.read:
        console.print("Nothing to read back: nothing is staged or pushed in this data dir.")
        console.print("After a lost data dir: billing-sync extract, then billing-sync repair.")
        return
    if not result.findings:
        console.print("Fincome holds every record as the desired state has it.")
        return
    shown = len(result.findings)
    found = result.totals
    total = found.missing + found.differing + found.extra
    console.print(f"Findings ({shown} of {total:,}):")
    for finding in result.findings:
        fields = f" ({', '.join(finding.fields)})" if finding.fields else ""
        # one line each, the id whole even past 80 columns: ids are never cut
        console.print(
            f"  {finding.kind:<8} {finding.collection} {finding.id}{fields}", soft_wrap=True
        )


def _cells(tally: Tally) -> list[str]:
    return [
        f"{tally.read:,}",
        f"{tally.missing:,}",
        f"{tally.differing:,}",
        f"{tally.extra:,}",
        f"{tally.repaired:,}",
        f"{tally.requests:,}",
        f"{tally.seconds:.1f}",
    ]


def _row(name: str, cells: list[str]) -> str:
    widths = (width for _, width in COLUMNS)
    return f"{name:<{NAME_WIDTH}}" + "".join(
        f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True)
    )
