"""`billing-sync demo`: the whole sync on a laptop, against local emulators of both APIs.

Starts the Metronome and Fincome emulators on free loopback ports (each in its own process),
generates a seeded account, syncs it into a fresh data dir, syncs again to show that nothing
changed means nothing sent, then reconciles the three sides and writes the HTML report.
Exits 0 when both syncs ran, rejects or not: the generated account has invoices in a custom
pricing unit, set aside until mapped.

`--json` prints `{"command": "demo", "status", "exit_code", "data_dir",
"emulators": {"metronome": url, "fincome": url}, "account": {"customers", "contract_customers",
"months", "seed"},
"first": <sync object>, "second": <sync object>, "reconcile": <the reconcile object, with
"report": the HTML report's path>}` (sync and reconcile objects as those commands print them
with --json, without command/status).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from destinations.fincome import FincomeClient, FincomeSettings
from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome
from pipelines.commands.session import CommandSession
from pipelines.config import load_mapping
from pipelines.datadir import DataDir
from pipelines.extract import ExtractResult, run_extract
from pipelines.push import PushResult, run_push
from pipelines.reconcile.report import write_report
from pipelines.reconcile.result import Reconciliation
from pipelines.reconcile.runner import reconcile
from pipelines.reconcile.wording import summary_sentences
from pipelines.transform.options import MappingOptions
from sources.metronome import MetronomeSettings

CONCURRENCY = 8  # both emulators are local: no pacing, a few connections in parallel


def register(app: typer.Typer) -> None:
    app.command(help="Sync a seeded account between local emulators of Metronome and Fincome.")(
        demo
    )


def demo(
    *,
    customers: Annotated[
        int, typer.Option(min=1, help="Customers billed through plans in the generated account.")
    ] = 300,
    contract_customers: Annotated[
        int, typer.Option(min=0, help="Customers billed through contracts, added to those.")
    ] = 100,
    # a century of history at most: far beyond it the generator's dates fall before year 1
    months: Annotated[int, typer.Option(min=1, max=1200, help="Months of invoice history.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the generated account.")] = 1,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    account = Account(
        customers=customers, contract_customers=contract_customers, months=months, seed=seed
    )
    folder = data_dir or Path(tempfile.mkdtemp(prefix="billing-sync-demo-"))
    session = CommandSession("demo", folder, json_output)
    session.run(lambda: _demo(session, account))


@dataclass(frozen=True)
class Account:
    customers: int
    contract_customers: int
    months: int
    seed: int

    def emulator_args(self) -> list[str]:
        return [
            *("--seed", str(self.seed)),
            *("--customers", str(self.customers)),
            *("--contract-customers", str(self.contract_customers)),
            *("--months", str(self.months)),
        ]


@dataclass(frozen=True)
class Sync:
    extracted: ExtractResult
    pushed: PushResult
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "extract": self.extracted.to_json(),
            "push": self.pushed.to_json(),
            "rejects": self.pushed.rejects,
            "duration_seconds": self.seconds,
        }


def _demo(session: CommandSession, account: Account) -> Outcome:
    mapping = load_mapping()
    console = Console(highlight=False, markup=False, quiet=session.json_output, stderr=True)
    with session.locked() as held, _emulators(account, console) as (metronome, fincome):
        data_dir = held.data_dir
        console.print(
            f"Syncing {account.customers} plan and {account.contract_customers} contract "
            f"customers x {account.months} months..."
        )
        first = _sync(data_dir, metronome, fincome, mapping)
        console.print("Syncing again, with nothing changed upstream...")
        second = _sync(data_dir, metronome, fincome, mapping)
        console.print("Reconciling Metronome, the ledger and Fincome...")
        check, report = _reconcile(data_dir, fincome, mapping)
    run = DemoRun(
        data_dir=data_dir,
        emulators={"metronome": metronome.base_url, "fincome": fincome.base_url},
        first=first,
        second=second,
        check=check,
        report=report,
    )
    writes = second.pushed.requests.get("attempts", 0)
    return Outcome(
        exit_code=ExitCode.OK,
        payload={"account": vars(account), **run.to_json()},
        summary=(
            f"first sync {first.pushed.writes} rows in {first.seconds:.1f}s, "
            f"second sync {writes} Fincome requests; rejects={len(first.pushed.rejects)}; "
            f"reconcile {'agrees' if check.agrees else 'differs'}"
        ),
        render=lambda out: _explain(out, run),
    )


@dataclass(frozen=True)
class DemoRun:
    data_dir: DataDir
    emulators: dict[str, str]
    first: Sync
    second: Sync
    check: Reconciliation
    report: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir.root),
            "emulators": self.emulators,
            "first": self.first.to_json(),
            "second": self.second.to_json(),
            "reconcile": {
                "agrees": self.check.agrees,
                **self.check.to_json(),
                "report": str(self.report),
            },
        }


@contextmanager
def _emulators(
    account: Account, console: Console
) -> Iterator[tuple[MetronomeSettings, FincomeSettings]]:
    from sandbox import DEFAULT_FINCOME_API_KEY, DEFAULT_METRONOME_TOKEN
    from sandbox.common.server import spawned

    with ExitStack() as running:
        with console.status("Starting the Metronome and Fincome emulators..."):
            metronome = running.enter_context(spawned("metronome", account.emulator_args()))
            fincome = running.enter_context(spawned("fincome"))
        yield (
            MetronomeSettings(
                api_token=DEFAULT_METRONOME_TOKEN,
                base_url=metronome.url,
                requests_per_second=0,
                max_concurrency=CONCURRENCY,
            ),
            FincomeSettings(
                api_key=DEFAULT_FINCOME_API_KEY,
                base_url=fincome.url,
                requests_per_second=None,
                max_concurrency=CONCURRENCY,
            ),
        )


def _sync(
    data_dir: DataDir,
    metronome: MetronomeSettings,
    fincome: FincomeSettings,
    mapping: MappingOptions,
) -> Sync:
    started, began = datetime.now(UTC), time.monotonic()
    extracted = run_extract(data_dir, metronome)
    pushed = run_push(data_dir, fincome, mapping, since=started)
    return Sync(extracted, pushed, round(time.monotonic() - began, 3))


def _reconcile(
    data_dir: DataDir, fincome: FincomeSettings, mapping: MappingOptions
) -> tuple[Reconciliation, Path]:
    with (
        data_dir.connect() as db,
        FincomeClient(fincome) as client,
    ):
        result = reconcile(db, client, mapping)
    source = f"the demo's data dir {data_dir.root} and the Fincome emulator"
    path = write_report(
        data_dir.reports_dir / "reconcile.html",
        result,
        generated_at=datetime.now(UTC),
        source=source,
    )
    return result, path


def _explain(console: Console, run: DemoRun) -> None:
    first, second, check = run.first, run.second, run.check
    console.print("billing-sync demo", style="bold")
    console.print(f"  Metronome emulator  {run.emulators['metronome']}")
    console.print(f"  Fincome emulator    {run.emulators['fincome']}")
    console.print(f"  Data dir            {run.data_dir.root}\n")
    console.print(
        f"1. First sync ({first.seconds:.1f} s): {first.extracted.requests['attempts']:,} "
        f"Metronome requests, {first.pushed.requests.get('attempts', 0):,} Fincome writes."
    )
    console.print(_pushed_table(first))
    console.print(
        f"2. Second sync ({second.seconds:.1f} s), nothing changed upstream: "
        f"{second.extracted.requests['attempts']:,} Metronome requests re-read recent "
        f"invoices; {second.pushed.requests.get('attempts', 0)} writes to Fincome."
    )
    console.print(f"3. Reconciliation ({check.duration_seconds:.1f} s):")
    for sentence in summary_sentences(check):
        console.print(f"   {sentence}")
    console.print(f"   The report for finance, with a chart per currency: {run.report}")
    _explain_rejects(console, first.pushed.rejects)
    console.print(
        f"\nLook inside: billing-sync status --data-dir {run.data_dir.root}  "
        f"(or duckdb {run.data_dir.duckdb_path})"
    )


def _pushed_table(sync: Sync) -> Table:
    table = Table(title="What Fincome now holds")
    for column in ("entity", "desired", "created", "updated", "deleted", "money created"):
        left = column in ("entity", "money created")
        table.add_column(column, justify="left" if left else "right")
    for name, plan in sync.pushed.plan.collections.items():
        done = sync.pushed.done.get(name, {"created": 0, "updated": 0, "deleted": 0})
        money = "; ".join(
            f"{currency} {amount:,f}" for currency, amount in plan.money["create"].items()
        )
        table.add_row(
            name,
            f"{sync.pushed.transformed.get(name, 0):,}",
            *(f"{done[key]:,}" for key in ("created", "updated", "deleted")),
            money,
        )
    return table


def _explain_rejects(console: Console, rejects: list[dict[str, Any]]) -> None:
    if not rejects:
        console.print("No record was set aside.")
        return
    reasons: dict[str, int] = {}
    for reject in rejects:
        reasons[reject["reason"]] = reasons.get(reject["reason"], 0) + 1
    console.print(f"{len(rejects)} record(s) set aside, each with its reason:")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        console.print(f"  {count:>4} x {reason}")
