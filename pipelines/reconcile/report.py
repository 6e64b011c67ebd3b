"""The reconcile report: one self-contained HTML file a finance reader can open anywhere.

No script, font, image or stylesheet is fetched: CSS is inline and the charts are inline SVG
(`chart.py`). Top to bottom: the verdict in plain words, net totals per currency, a chart
per currency (Metronome vs pushed vs Fincome, month by month), every differing invoice or
credit note with what each system says, the invoices that cannot be mapped, the monthly
figures behind the charts, and how to read it all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from pathlib import Path

from pipelines.reconcile.chart import net_chart
from pipelines.reconcile.compare import MonthRow
from pipelines.reconcile.documents import SOURCES
from pipelines.reconcile.fincome import MetricTotals
from pipelines.reconcile.guidance import next_step, next_steps
from pipelines.reconcile.result import Reconciliation
from pipelines.reconcile.wording import (
    KIND_LABELS,
    SOURCE_LABELS,
    customer_text,
    explain,
    grouped_amount,
    month_label,
    source_text,
    summary_sentences,
    used,
)

HEADLINES = {
    "agrees": "Everything matches",
    "differs": "Differences found",
    "incomplete": "What was compared matches, but not everything was compared",
}

SHOWN_ROWS = 2_000  # per table; the JSON output always lists everything
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2937; margin: 0 auto; max-width: 1180px; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
.meta { color: #6b7280; font-size: 13px; margin-bottom: 18px; }
.verdict { border-radius: 10px; padding: 16px 20px; margin: 12px 0 8px; font-size: 17px; }
.verdict p { margin: 4px 0; }
.agrees { background: #ecfdf5; border: 2px solid #10b981; }
.differs { background: #fef2f2; border: 2px solid #ef4444; }
.incomplete { background: #fffbeb; border: 2px solid #f59e0b; }
.big { font-size: 22px; font-weight: 700; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 13.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e5e7eb; text-align: left;
         vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.bad td { background: #fef2f2; }
.ok { color: #047857; font-weight: 600; }
.no { color: #b91c1c; font-weight: 600; }
.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
      word-break: break-all; }
.chart { width: 100%; height: auto; }
.chart .grid { stroke: #e5e7eb; } .chart .axis { stroke: #6b7280; }
.chart .tick, .chart .legend { font: 12px system-ui, sans-serif; fill: #374151; }
.chart .legend { font-size: 13px; } .chart .differs { fill: #b91c1c; font-weight: 700; }
.note { color: #4b5563; font-size: 13.5px; }
"""


def write_report(
    path: Path, result: Reconciliation, *, generated_at: datetime, source: str
) -> Path:
    """Write the report to `path` (folders created) and return its absolute path."""
    target = path.expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(result, generated_at=generated_at, source=source), "utf-8")
    return target


def render_report(result: Reconciliation, *, generated_at: datetime, source: str) -> str:
    """The whole HTML page; `source` says where the data came from (the data dir)."""
    verdict = result.verdict
    headline = HEADLINES[verdict]
    sentences = "".join(f"<p>{escape(s)}</p>" for s in summary_sentences(result))
    body = [
        "<h1>Billing reconciliation: Metronome and Fincome</h1>",
        f'<div class="meta">Checked {escape(generated_at.strftime("%Y-%m-%d %H:%M UTC"))} '
        f"from {escape(source)}</div>",
        f'<div class="verdict {verdict}"><p class="big">{headline}</p>{sentences}</div>',
        _list("Next steps", next_steps(result)),
        _list("What was read from Fincome", used(result)),
        _currency_totals(result),
        *(_chart_section(currency, rows) for currency, rows in _by_currency(result.months)),
        _differences(result),
        _not_mappable(result),
        *(_month_table(currency, rows) for currency, rows in _by_currency(result.months)),
        _how_to_read(result),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Reconciliation: {headline}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _list(title: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    listed = "".join(f"<li>{_code(escape(item))}</li>" for item in items)
    return f"<h2>{escape(title)}</h2><ul>{listed}</ul>"


def _code(text: str) -> str:
    """`billing-sync repair` in backquotes (the terminal's way) as code on the page."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _currency_totals(result: Reconciliation) -> str:
    rows = []
    for currency, per_source in result.by_currency().items():
        compared = SOURCES if result.reads_complete else SOURCES[:2]
        nets = {s: per_source[s].net for s in compared}
        same = len(set(nets.values())) == 1
        rows.append(
            f'<tr class="{"" if same else "bad"}"><td>{escape(currency)}</td>'
            + "".join(
                f'<td class="num">{_money(nets[s], currency) if s in nets else "not read"}</td>'
                for s in SOURCES
            )
            + _verdict_cell(same)
            + "</tr>"
        )
    if not rows:
        return '<p class="note">No invoice or credit note in any of the three systems.</p>'
    return "<h2>Net billed over the whole period</h2>" + _table(
        ["Currency", *(SOURCE_LABELS[s] for s in SOURCES), "Check"], rows, range(1, 4)
    )


def _chart_section(currency: str, rows: Sequence[MonthRow]) -> str:
    return f"<h2>{escape(currency)}: net billed per month</h2>{net_chart(rows, currency)}"


def _month_table(currency: str, rows: Sequence[MonthRow]) -> str:
    lines = []
    for row in rows:
        metronome = row.series["metronome"]
        metrics = row.metrics
        lines.append(
            f'<tr class="{"" if row.agrees else "bad"}"><td>{escape(month_label(row.month))}</td>'
            f'<td class="num">{_money(metronome.invoiced, currency)}</td>'
            f'<td class="num">{_money(metronome.credited, currency)}</td>'
            + "".join(
                f'<td class="num">{_money(row.series[s].net, currency)}</td>'
                if s in row.compared
                else '<td class="num">not read</td>'
                for s in SOURCES
            )
            + f'<td class="num">{_metric(metrics, currency)}</td>'
            + _verdict_cell(row.agrees)
            + "</tr>"
        )
    headers = [
        "Month", "Metronome invoiced", "Metronome credited",
        *(f"{SOURCE_LABELS[s]} net" for s in SOURCES), "Fincome revenue metric", "Check",
    ]  # fmt: skip
    return f"<h2>{escape(currency)} month by month</h2>{_table(headers, lines, range(1, 7))}"


def _differences(result: Reconciliation) -> str:
    if not result.differences:
        return "<h2>Differences</h2><p>None: every invoice and credit note matches.</p>"
    rows = [
        "<tr>"
        f"<td>{escape(KIND_LABELS[d.kind])}</td>"
        f'<td class="id">{escape(d.id)}</td>'
        f'<td class="id">{escape(_customer(result, d.customer_id))}</td>'
        f"<td>{escape(month_label(d.month))}</td>"
        + "".join(f"<td>{escape(source_text(d, s))}</td>" for s in SOURCES)
        + f"<td>{escape(explain(d))} Next: {escape(next_step(d))}.</td></tr>"
        for d in result.differences[:SHOWN_ROWS]
    ]
    headers = ["What", "Invoice / credit note", "Customer", "Month", *SOURCE_LABELS.values()]
    return (
        f"<h2>Differences ({len(result.differences):,})</h2>"
        + _table([*headers, "In plain words"], rows)
        + _more(len(result.differences))
    )


def _not_mappable(result: Reconciliation) -> str:
    if not result.not_mappable:
        return ""
    rows = [
        f'<tr><td class="id">{escape(n.invoice_id)}</td>'
        f'<td class="id">{escape(_customer(result, n.customer_id))}</td>'
        f"<td>{escape(month_label(n.month))}</td>"
        f'<td class="num">{escape(n.total)}</td><td>{escape(n.credit_type or "-")}</td>'
        f"<td>{escape(n.reason)}</td></tr>"
        for n in result.not_mappable[:SHOWN_ROWS]
    ]
    headers = ["Invoice", "Customer", "Month", "Metronome total", "Unit", "Why"]
    return (
        f"<h2>Not mappable ({len(result.not_mappable):,})</h2>"
        '<p class="note">Metronome invoices billing-sync cannot convert for Fincome. They are '
        "not counted in any total above; fixing the reason (usually a setting) lets the next "
        "sync send them.</p>" + _table(headers, rows) + _more(len(result.not_mappable))
    )


def _metric(metrics: MetricTotals | None, currency: str) -> str:
    revenue = metrics.revenue if metrics else None
    return "-" if revenue is None else _money(revenue, currency)


def _customer(result: Reconciliation, customer_id: str | None) -> str:
    return customer_text(customer_id, result.customer_names) if customer_id else "-"


def _how_to_read(result: Reconciliation) -> str:
    requests = result.requests.get("attempts", 0)
    return (
        '<h2>How to read this</h2><ul class="note">'
        "<li><b>Metronome</b>: finalized invoices as billed, converted to their currency and "
        "rounded to cents exactly as billing-sync converts them; a negative correction is a "
        "credit note. Drafts and voided invoices count nothing.</li>"
        "<li><b>Pushed (ledger)</b>: what billing-sync sent to Fincome and Fincome confirmed.</li>"
        "<li><b>Fincome</b>: what Fincome holds now, read back from it.</li>"
        "<li>Invoices count in the month of their issue date; credit notes in the month they "
        "were issued. <i>Net</i> is invoiced minus credited.</li>"
        f"<li>Read with {requests:,} Fincome requests in {result.duration_seconds:.1f} s.</li>"
        "</ul>"
    )


def _by_currency(rows: Iterable[MonthRow]) -> list[tuple[str, list[MonthRow]]]:
    grouped: dict[str, list[MonthRow]] = {}
    for row in rows:
        grouped.setdefault(row.currency, []).append(row)
    return sorted(grouped.items())


def _table(headers: Sequence[str], rows: Sequence[str], amounts: range = range(0)) -> str:
    """A table whose header cells over the `amounts` columns align right, like the amounts."""
    head = "".join(
        f'<th class="{"num" if i in amounts else ""}">{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _verdict_cell(agrees: bool) -> str:
    return (
        '<td class="ok">&#10003; matches</td>' if agrees else '<td class="no">&#10007; differs</td>'
    )


def _more(total: int) -> str:
    if total <= SHOWN_ROWS:
        return ""
    return f'<p class="note">The first {SHOWN_ROWS:,} of {total:,} are shown; --json lists all.</p>'


def _money(amount: Decimal, currency: str) -> str:
    return escape(grouped_amount(amount, currency))
