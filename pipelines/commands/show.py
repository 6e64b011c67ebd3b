"""How push results read to a person: the change table with money, rejects, requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from pipelines.plan import OPS, CollectionPlan
from pipelines.push import PushResult

SHOWN_REJECTS = 20


def summarize_push(result: PushResult) -> str:
    """The one-line summary of a push or a dry run."""
    counts = push_counts(result)
    if result.dry_run:
        changes = " ".join(f"{op}={counts[f'would_{op}']}" for op in OPS)
        return f"dry run, would {changes}; rejects={counts['rejects']}"
    return (
        " ".join(f"{key}={counts[key]}" for key in ("created", "updated", "deleted", "rejects"))
        + f" requests={counts['requests']} in {result.duration_seconds:.1f}s"
    )


def push_counts(result: PushResult) -> dict[str, int]:
    """The numbers of the summary line: writes done (planned, on a dry run), rejects, requests."""
    if result.dry_run:
        counts = result.plan.counts()
        planned = {op: sum(c[op] for c in counts.values()) for op in OPS}
        planned["create"] += sum(c["embedded"] for c in counts.values())
        return {f"would_{op}": n for op, n in planned.items()} | {"rejects": len(result.rejects)}
    done = {
        key: sum(ops[key] for ops in result.done.values())
        for key in ("created", "updated", "deleted")
    }
    return done | {
        "rejects": len(result.rejects),
        "requests": int(result.requests.get("attempts", 0)),
    }


def render_push(console: Console, result: PushResult) -> None:
    title = (
        "Fincome changes (dry run: nothing was sent)"
        if result.dry_run
        else "Fincome changes (planned, then done)"
    )
    table = Table(title=title)
    for column in ("collection", "create", "update", "delete", "money"):
        table.add_column(column, justify="left" if column in ("collection", "money") else "right")
    for name, plan in result.plan.collections.items():
        table.add_row(name, *_cells(plan, result.done.get(name)), _money(plan))
    console.print(table)
    _render_frozen(console, result)
    if not result.dry_run and not result.plan.writes:
        console.print("Fincome already holds everything: no write was needed.")
    _render_rejects(console, result.rejects)
    if result.requests:
        requests = result.requests
        console.print(
            f"{requests['attempts']:,} Fincome requests ({requests['retries']} retried, "
            f"{requests['throttled']} throttled) in {result.duration_seconds:.1f} s"
        )


def _render_frozen(console: Console, result: PushResult) -> None:
    frozen = [(name, p.frozen) for name, p in result.plan.collections.items() if p.frozen]
    if frozen:
        held = ", ".join(f"{count:,} {name}" for name, count in frozen)
        console.print(f"Frozen, kept in Fincome as last pushed while their reject is open: {held}")


def _cells(plan: CollectionPlan, done: dict[str, int] | None) -> list[str]:
    counts = {op: len(plan.ids[op]) for op in OPS}
    counts["create"] = plan.creates
    cells = []
    for op, past in zip(OPS, ("created", "updated", "deleted"), strict=True):
        text = f"{counts[op]:,}"
        if done is not None and done[past] != counts[op]:
            text += f" ({done[past]:,} done)"
        cells.append(text)
    if plan.embedded:
        cells[0] += f" ({plan.embedded:,} inside their parents)"
    return cells


def _money(plan: CollectionPlan) -> str:
    parts = []
    for op, sign in zip(OPS, ("+", "~", "-"), strict=True):
        for currency, amount in plan.money[op].items():
            parts.append(f"{op} {sign}{currency} {_amount(amount)}")
    return "; ".join(parts)


def _amount(amount: Decimal) -> str:
    return f"{abs(amount):,f}" if amount >= 0 else f"-{abs(amount):,f}"


def _render_rejects(console: Console, rejects: list[dict[str, Any]]) -> None:
    if not rejects:
        return
    table = Table(title=f"Set aside: {len(rejects)} record(s) (billing-sync rejects)")
    for column in ("stage", "collection", "record id", "reason"):
        table.add_column(column)
    for reject in rejects[:SHOWN_REJECTS]:
        table.add_row(reject["stage"], reject["collection"], reject["record_id"], reject["reason"])
    console.print(table)
    if len(rejects) > SHOWN_REJECTS:
        console.print(f"... and {len(rejects) - SHOWN_REJECTS} more: billing-sync rejects")
