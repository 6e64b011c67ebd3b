"""`billing-sync reconcile`: Metronome staging vs the ledger vs Fincome, per month and currency.

Reads staging and the ledger from the data dir (no Metronome call, nothing changed) and what
Fincome holds through its read API (needs `DESTINATION__FINCOME__BASE_URL` and
`DESTINATION__FINCOME__API_KEY`). Fincome's views and metrics are discovered (`GET /views`,
`GET /views/{slug}`, `GET /metrics`) and chosen by their described columns, never by slug;
where no view fits, documents are read one by one by id (all, or `--sample N` of each kind);
where even that is refused, reconcile says what it could not check. The rules are in
`pipelines/reconcile/` (`discovery.py`, `coverage.py`).

Exit 0 when what was compared agrees (the verdict says whether everything was: `agrees` or
`incomplete`), 3 when anything differs, 2 for a missing setting or nothing staged, 75 while
another run holds the data dir.

`--json` prints one object; amounts are strings with exact decimals, months `YYYY-MM` (UTC):

    {"command": "reconcile", "status": "ok" | "differs" (exit 3) | "failed" |
     "misconfigured" | "locked", "exit_code": 0 | 3 | 1 | 2 | 75,
     "data_dir": "/abs/path", "agrees": true,
     "verdict": "agrees" | "incomplete" (what was compared agrees; invoices left out, or
                Fincome not read whole) | "differs",
     "headline": "the first sentence of the summary",
     "summary": ["plain-language sentence", ...],
     "next_steps": ["`billing-sync repair` for 2 missing in Fincome: ...", ...],
     "not_checked": ["what could not be checked, one sentence each", ...],
     "fincome_read": {"invoices" | "credit_notes": {
                          "how": "view" | "by_id" | "sample" | "unread",
                          "view": "billing_documents" | null,
                          "columns": {"id": "document_id", "amount": "...", ...} | null,
                          "read_by_id": 0, "absent": 0, "not_checked": 0,
                          "description": "plain-language sentence"},
                      "metrics": {"invoiced": "billings" | null, "revenue": "..." | null},
                      "views_offered": ["slug", ...], "metrics_offered": ["slug", ...],
                      "problems": ["a read that failed, in words", ...]},
     "months": [{"month": "2026-04", "currency": "USD",
                 "metronome": {"invoiced": "1200.00", "credited": "50.00", "net": "1150.00",
                               "documents": 10},
                 "ledger": {...same keys},
                 "fincome": {...same keys} | null (Fincome's documents not all read),
                 "fincome_metrics": {"invoiced": "1200.00" | null, "revenue": "1150.00" | null}
                                    | null,
                 "agrees": true}],
     "differences": [{"invoice_id": "...", "document": "invoice" | "credit_note",
                      "customer_id": "...", "customer_name": "Acme" | null,
                      "month": "2026-04", "currency": "USD",
                      "kind": "unknown_to_metronome" | "missing_in_ledger" |
                              "missing_in_fincome" | "status_differs" | "amount_differs" |
                              "month_differs",
                      "metronome" | "ledger" | "fincome": null (not held) |
                          {"amount": "120.00", "currency": "USD", "status": "paid",
                           "month": "2026-04", "counted": true},
                      "fincome_checked": true (false: Fincome's copy was not read),
                      "explanation": "plain-language sentence",
                      "next_step": "billing-sync repair" | "billing-sync sync" |
                                   "by hand in Fincome"}],
     "not_mappable": [{"invoice_id", "customer_id", "customer_name", "status": "FINALIZED" |
                       "VOID", "month", "total" (in its credit type), "credit_type", "reason"}],
     "totals": {"by_currency": {"USD": {"metronome" | "ledger" | "fincome":
                                        {"invoiced", "credited", "net", "documents"}}},
                "documents": {"metronome": 48, "ledger": 48, "fincome": 48},
                "months": 12, "months_differing": 0, "differences": 0,
                "differences_by_kind": {"amount_differs": 1}, "not_mappable": 7},
     "metrics_checked": true,
     "fincome_requests": {"attempts": 4, "retries": 0, "throttled": 0, "by_status": {...}},
     "duration_seconds": 0.4,
     "report": "/abs/report.html" | null}

An invoice's `amount` is its total, a credit note's the amount it credits (positive);
`net` is invoiced minus credited. A failure carries `"error"` (one line) instead, and `"key"`
(the environment variable) when the configuration is at fault.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from destinations.fincome import AuthenticationFailed, FincomeClient, FincomeSettings
from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome
from pipelines.commands.session import CommandSession, Run
from pipelines.config import (
    FINCOME_SECTION,
    ConfigError,
    env_key,
    load_fincome_settings,
    load_mapping,
)
from pipelines.datadir import DATA_DIR_ENV, DataDir
from pipelines.reconcile.documents import SOURCES, money_text
from pipelines.reconcile.guidance import next_step, next_steps
from pipelines.reconcile.report import write_report
from pipelines.reconcile.result import Reconciliation
from pipelines.reconcile.runner import reconcile as run_reconcile
from pipelines.reconcile.wording import (
    KIND_LABELS,
    SOURCE_LABELS,
    customer_text,
    source_text,
    summary_sentences,
    used,
)
from pipelines.shards import read_scope
from pipelines.transform.options import MappingOptions

SHOWN_ROWS = 20

SampleOption = Annotated[
    int | None,
    typer.Option(
        "--sample",
        metavar="N",
        min=1,
        help="Where no Fincome view fits, read only N documents of each kind by id.",
    ),
]

ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        metavar="FILE.html",
        help="Also write a self-contained HTML report (chart, differences) to this file.",
        dir_okay=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.command(
        help="Compare totals per month and currency: Metronome staging vs ledger vs Fincome."
    )(reconcile)


def reconcile(
    report: ReportOption = None,
    sample: SampleOption = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("reconcile", data_dir, json_output)
    session.run(lambda: reconcile_outcome(session, report, sample))


def reconcile_outcome(
    session: CommandSession, report: Path | None, sample: int | None = None
) -> Outcome:
    """Check the settings, take the lock, reconcile, write the report, describe the result."""
    settings = load_fincome_settings()
    options = load_mapping()
    options_record = {"report": str(report) if report else None, "sample": sample}
    with session.locked() as held:
        _require_staging(held.data_dir)  # before the run record: that would create the DuckDB file
        with held.recorded(options_record) as run:
            return _reconcile(held.data_dir, settings, options, (report, sample), run)


def _reconcile(
    data_dir: DataDir,
    settings: FincomeSettings,
    options: MappingOptions,
    asked: tuple[Path | None, int | None],
    run: Run,
) -> Outcome:
    report, sample = asked
    try:
        with (
            data_dir.connect() as db,
            FincomeClient(settings) as client,
        ):
            scope = read_scope(data_dir)
            shard = scope.shard if scope is not None else None
            result = run_reconcile(db, client, options, shard=shard, sample_size=sample)
    except AuthenticationFailed as exc:  # a wrong key is configuration, like a missing one
        key = env_key(f"{FINCOME_SECTION}.api_key")
        raise ConfigError(key, f"Fincome refused the key ({exc.status_code})") from None
    written = None
    if report is not None:
        source = f"data dir {data_dir.root} and Fincome at {settings.base_url}"
        written = write_report(report, result, generated_at=datetime.now(UTC), source=source)
    outcome = result_outcome(data_dir, result, written)
    return run.done(outcome, recorded=outcome.payload["totals"])


def result_outcome(data_dir: DataDir, result: Reconciliation, report: Path | None) -> Outcome:
    payload = {
        "data_dir": str(data_dir.root),
        "agrees": result.agrees,
        "summary": summary_sentences(result),
        **result.to_json(),
        "report": str(report) if report else None,
    }
    return Outcome(
        exit_code=ExitCode.OK if result.agrees else ExitCode.REJECTS,
        status="ok" if result.agrees else "differs",
        payload=payload,
        summary=summarize(result),
        render=lambda console: render_result(console, result, report),
    )


def summarize(result: Reconciliation) -> str:
    requests = result.requests.get("attempts", 0)
    return (
        f"months={len(result.months)} differing={len(result.months_differing)} "
        f"differences={len(result.differences)} not_mappable={len(result.not_mappable)} "
        f"requests={requests} in {result.duration_seconds:.1f}s"
    )


def render_result(console: Console, result: Reconciliation, report: Path | None) -> None:
    """The verdict first, then the next steps, what was read, the months, the differences and
    the unmappable invoices."""
    for sentence in summary_sentences(result):
        console.print(sentence, markup=False, highlight=False)
    for title, lines in (("Next steps:", next_steps(result)), ("Read:", used(result))):
        if lines:
            console.print(title, markup=False, highlight=False)
            for line in lines:
                console.print(f"- {line}", markup=False, highlight=False)
    console.print(_months_table(result))
    if result.differences:
        _print_differences(console, result)
    if result.not_mappable:
        _print_not_mappable(console, result)
    if len(result.differences) > SHOWN_ROWS or len(result.not_mappable) > SHOWN_ROWS:
        console.print(f"The first {SHOWN_ROWS} rows are shown: --json or --report list all.")
    if report is not None:
        console.print(f"Report: {report}")


def _months_table(result: Reconciliation) -> Table:
    table = Table(title="Net per month and currency (invoiced - credited)")
    for column in ("month", "currency", *(SOURCE_LABELS[s] for s in SOURCES), "check"):
        table.add_column(column, justify="left" if column in ("month", "check") else "right")
    for row in result.months:
        nets = (
            money_text(row.series[s].net, row.currency) if s in row.compared else "not read"
            for s in SOURCES
        )
        table.add_row(row.month, row.currency, *nets, "ok" if row.agrees else "DIFFERS")
    return table


def _print_differences(console: Console, result: Reconciliation) -> None:
    """One block per difference, each line short: ids and names are never cut or folded."""
    console.print(f"Differences: {len(result.differences)}", style="bold")
    for d in result.differences[:SHOWN_ROWS]:
        what = "credit note" if d.document == "credit_note" else "invoice"
        lines = (
            f"{KIND_LABELS[d.kind]}: {what} {d.id} ({d.month or 'no month'})",
            f"  customer: {customer_text(d.customer_id, result.customer_names)}",
            *(f"  {SOURCE_LABELS[s]}: {source_text(d, s)}" for s in SOURCES),
            f"  next: {next_step(d)}",
        )
        for line in lines:
            console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_not_mappable(console: Console, result: Reconciliation) -> None:
    """Grouped by reason, then customer: each reason said once, each id on a line of its own."""
    console.print(
        f"Not mappable: {len(result.not_mappable)} invoice(s), left out of every total",
        style="bold",
    )
    grouped: dict[str, dict[str, list[str]]] = {}
    for item in result.not_mappable[:SHOWN_ROWS]:
        customer = customer_text(item.customer_id, result.customer_names)
        invoices = grouped.setdefault(item.reason, {}).setdefault(customer, [])
        invoices.append(f"{item.invoice_id} ({item.month or 'no month'})")
    for reason, customers in grouped.items():
        console.print(f"why: {reason}", markup=False, highlight=False)
        for customer, invoices in customers.items():
            console.print(f"  customer {customer}:", markup=False, highlight=False)
            for invoice in invoices:
                console.print(f"    {invoice}", markup=False, highlight=False, soft_wrap=True)


def _require_staging(data_dir: DataDir) -> None:
    """Reconcile compares with what was extracted: without staging it has nothing to say."""
    staged = False
    if data_dir.duckdb_path.exists():
        with data_dir.connect() as db:
            found = db.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'metronome_raw' AND table_name = 'invoices'"
            ).fetchone()
            staged = bool(found and found[0])
    if not staged:
        raise ConfigError(
            DATA_DIR_ENV,
            f"nothing extracted in {data_dir.root}: run `billing-sync extract` first, or pass "
            "the --data-dir of an installation that did",
        )
