"""How results read to a person, at 80 columns too: the change table with money, rejects
grouped by reason, requests, and a running run's progress.

Record ids are never cut: a table column of ids is as wide as its longest id
(`id_column`), other columns wrap; rejects are shown as counts per reason, then the ids of
each reason, one per line (`render_rejects`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table

from pipelines.plan import OPS, CollectionPlan
from pipelines.push import PushResult

SHOWN_REJECTS = 20  # ids listed per reason


def narrow_table(title: str | None) -> Table:
    """A table that spends few columns on its frame (a rule under the header, no side
    borders), for output read at 80 columns; its cells wrap rather than cut."""
    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)


def id_column(header: str, ids: Iterable[str]) -> dict[str, Any]:
    """`Table.add_column` arguments for a column of record ids: never cut, never wrapped
    (folded only when one id is wider than the whole screen)."""
    width = max((len(i) for i in ids), default=len(header))
    return {"header": header, "no_wrap": True, "min_width": width, "overflow": "fold"}


def summarize_push(result: PushResult) -> str:
    """The one-line summary of a push or a dry run."""
    counts = push_counts(result)
    if result.dry_run:
        changes = " ".join(f"{op}={counts[f'would_{op}']}" for op in OPS)
        return f"dry run, would {changes}; rejects={counts['rejects']} new={counts['new_rejects']}"
    done = ("created", "updated", "deleted", "rejects")
    return (
        " ".join(f"{key}={counts[key]}" for key in done)
        + f" new={counts['new_rejects']} requests={counts['requests']}"
        + f" in {result.duration_seconds:.1f}s"
    )


def push_counts(result: PushResult) -> dict[str, int]:
    """The numbers of the summary line: writes done (planned, on a dry run), rejects (those
    of them new in this run: what exit 3 is about), requests."""
    rejects = {
        "rejects": len(result.rejects),
        "new_rejects": sum(1 for reject in result.rejects if reject.get("new")),
    }
    if result.dry_run:
        counts = result.plan.counts()
        planned = {op: sum(c[op] for c in counts.values()) for op in OPS}
        planned["create"] += sum(c["embedded"] for c in counts.values())
        return {f"would_{op}": n for op, n in planned.items()} | rejects
    done = {
        key: sum(ops[key] for ops in result.done.values())
        for key in ("created", "updated", "deleted")
    }
    return done | rejects | {"requests": int(result.requests.get("attempts", 0))}


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
    new = sum(1 for reject in rejects if reject.get("new"))
    old = len(rejects) - new
    render_rejects(console, rejects, f"Set aside: {len(rejects)} record(s), {new} new")
    if old:
        console.print(f"{old:,} already set aside before this run (for those alone: exit 0).")
    console.print("All open rejects: billing-sync rejects")


def render_rejects(
    console: Console,
    rejects: list[dict[str, Any]],
    title: str,
    note: Callable[[dict[str, Any]], str] | None = None,
) -> None:
    """Counts per reason (stage, collection, reason), then each reason's ids, whole (with
    one reason, its heading says the count).

    `note(reject)` may add a few words after an id (a new reject is marked `new`)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for reject in rejects:
        key = (reject["stage"], reject["collection"], reject["reason"])
        groups.setdefault(key, []).append(reject)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    if len(ordered) > 1:
        table = narrow_table(title)
        for column in ("count", "stage", "collection", "reason"):
            justify: JustifyMethod = "right" if column == "count" else "left"
            table.add_column(column, justify=justify, overflow="fold")
        for (stage, collection, reason), members in ordered:
            table.add_row(f"{len(members):,}", stage, collection, reason)
        console.print(table)
    else:
        console.print(title)
    for (stage, collection, reason), members in ordered:
        console.print(f"{len(members):,} x {stage} {collection}: {reason}")
        for reject in members[:SHOWN_REJECTS]:
            words = [note(reject)] if note else []
            words += ["new"] if reject.get("new") else []
            extra = "; ".join(word for word in words if word)
            console.print(f"  {reject['record_id']}" + (f"  ({extra})" if extra else ""))
        if len(members) > SHOWN_REJECTS:
            console.print(f"  ... and {len(members) - SHOWN_REJECTS:,} more")


def render_running(console: Console, running: dict[str, Any]) -> None:
    """A run that holds the data dir, as its progress snapshot tells it."""
    if running["pid"] is None:
        console.print(
            "Another run holds the data dir; its progress is not known yet (it has just "
            "started). Ask again in a moment."
        )
        return
    started = running["started_at"][:19].replace("T", " ")  # UTC
    as_of = running["updated_at"][11:19]
    console.print(
        f"{running['command']} running since {started} UTC, pid {running['pid']}: "
        f"{running['phase']} (as of {as_of})"
    )
    if running["counters"]:
        table = narrow_table(None)
        for column in ("work", "done", "of"):
            table.add_column(column, justify="left" if column == "work" else "right")
        for counter in running["counters"]:
            table.add_row(counter["name"], f"{counter['done']:,}", f"{counter['total']:,}")
        console.print(table)
    requests = running["requests"]
    statuses = ", ".join(f"{n:,} x {code}" for code, n in requests["by_status"].items())
    console.print(
        f"Requests so far: {requests['attempts']:,}" + (f" ({statuses})" if statuses else "")
    )
    console.print(
        f"Set aside so far in this run: {running['rejects']:,} (listed once it ends: "
        "billing-sync rejects)"
    )
