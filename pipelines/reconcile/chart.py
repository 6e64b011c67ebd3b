"""An inline SVG bar chart of one currency's net per month, three bars a month (one a source).

Plain SVG text, no script: it renders wherever the HTML does, offline, printed or mailed.
Months where the sources disagree get a red band behind their bars and a red month label;
each bar carries a `<title>` with its exact amount (shown on hover).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape

from pipelines.reconcile.compare import MonthRow
from pipelines.reconcile.documents import SOURCES, money_text
from pipelines.reconcile.wording import month_label

COLORS = {"metronome": "#2563eb", "ledger": "#a855f7", "fincome": "#059669"}
LABELS = {"metronome": "Metronome", "ledger": "Pushed", "fincome": "Fincome"}
WIDTH, HEIGHT = 1120, 340
LEFT, RIGHT, TOP, BOTTOM = 80, 16, 36, 64
DIFFERS_BAND = "#fde2e2"


def net_chart(rows: Sequence[MonthRow], currency: str) -> str:
    """The chart of `rows` (one currency's months, in order) as an `<svg>` element."""
    values = [float(row.series[source].net) for row in rows for source in SOURCES]
    ticks = _ticks(min(values, default=0.0), max(values, default=0.0))
    low, high = ticks[0], ticks[-1]
    plot_height = HEIGHT - TOP - BOTTOM
    group = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)

    def y(value: float) -> float:
        return TOP + plot_height * (high - value) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="Net amount per month in {escape(currency)}" class="chart">',
        _legend(),
    ]
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="{"axis" if tick == 0 else "grid"}"/>'
            f'<text x="{LEFT - 8}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">'
            f"{_compact(tick)}</text>"
        )
    for index, row in enumerate(rows):
        parts.append(_month(row, LEFT + index * group, group, y, len(rows) > 12))
    parts.append("</svg>")
    return "".join(parts)


def _month(
    row: MonthRow, left: float, group: float, y: Callable[[float], float], slanted: bool
) -> str:
    bar = group * 0.8 / len(SOURCES)
    zero = y(0.0)
    out = []
    if not row.agrees:
        out.append(
            f'<rect x="{left:.1f}" y="{TOP}" width="{group:.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}" fill="{DIFFERS_BAND}"/>'
        )
    for position, source in enumerate(SOURCES):
        net = row.series[source].net
        top = y(float(net))
        x = left + group * 0.1 + position * bar
        title = f"{row.month} {LABELS[source]}: {money_text(net, row.currency)} {row.currency}"
        out.append(
            f'<rect x="{x:.1f}" y="{min(top, zero):.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{max(abs(zero - top), 0.5):.1f}" fill="{COLORS[source]}">'
            f"<title>{escape(title)}</title></rect>"
        )
    center = left + group / 2
    label_y = HEIGHT - BOTTOM + 16
    style = "tick differs" if not row.agrees else "tick"
    rotate = f' transform="rotate(-40 {center:.1f} {label_y})"' if slanted else ""
    anchor = "end" if slanted else "middle"
    out.append(
        f'<text x="{center:.1f}" y="{label_y}" class="{style}" text-anchor="{anchor}"{rotate}>'
        f"{escape(month_label(row.month))}</text>"
    )
    return "".join(out)


def _legend() -> str:
    items = []
    for index, source in enumerate(SOURCES):
        x = LEFT + index * 130
        items.append(
            f'<rect x="{x}" y="10" width="14" height="14" fill="{COLORS[source]}"/>'
            f'<text x="{x + 20}" y="22" class="legend">{LABELS[source]}</text>'
        )
    return "".join(items)


def _ticks(low: float, high: float) -> list[float]:
    """Round axis values from below `low` (or 0) to above `high` (or 0), about 5 steps."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    count = math.ceil((high - first) / step - 1e-9)
    return [first + n * step for n in range(count + 1)]


def _compact(value: float) -> str:
    """12,000 -> 12k, 1,500,000 -> 1.5M: axis labels that fit."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{Decimal(str(round(value / size, 2))).normalize():f}{suffix}"
    return f"{Decimal(str(round(value, 2))).normalize():f}"
