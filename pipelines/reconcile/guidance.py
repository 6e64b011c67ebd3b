"""What to do about what reconcile found: the next step of each difference, and of the rest.

| found | next step |
|---|---|
| a document Fincome lacks or holds differently while the ledger agrees with Metronome (deleted or edited by hand) | `billing-sync repair` |
| a document not pushed yet, or that Metronome changed since the push | `billing-sync sync` |
| a document Fincome holds that Metronome never had | by hand in Fincome (billing-sync never deletes invoices) |
| invoices left out (not mappable) | `billing-sync rejects`, then `rejects --retry` |
| Fincome's metrics disagree with its documents | nothing billing-sync sends: Fincome's computation |
| a sample, a kind not read, a failed read, every read by id a 404 | without `--sample`; `billing-sync check` |
"""  # noqa: E501

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from pipelines.reconcile.compare import Difference
from pipelines.reconcile.documents import Held
from pipelines.reconcile.wording import KIND_LABELS, count_of

if TYPE_CHECKING:  # result.py words its next steps with this module
    from pipelines.reconcile.result import Reconciliation

MANY_READS = 1_000  # documents read by id beyond which a sample is worth suggesting
NEXT_STEPS: dict[str, str] = {
    "billing-sync repair": "reads back what Fincome holds and re-pushes what it lacks or holds "
    "differently (`--dry-run` first shows what it would send)",
    "billing-sync sync": "pushes what changed in Metronome since the last push",
    "by hand in Fincome": "Fincome holds documents Metronome does not have; billing-sync never "
    "deletes invoices: remove them in Fincome if nobody made them there on purpose",
}


def next_step(difference: Difference) -> str:
    """The command (or the place) that settles this difference."""
    metronome, ledger = difference.held["metronome"], difference.held["ledger"]
    if difference.kind == "unknown_to_metronome":
        return "by hand in Fincome"
    if difference.kind == "missing_in_ledger" or not _same(metronome, ledger):
        return "billing-sync sync"  # the ledger is behind Metronome: a push settles it
    return "billing-sync repair"  # the ledger is right and Fincome is not


def next_steps(result: Reconciliation) -> list[str]:
    """One line per thing to do, with what it settles."""
    steps = []
    for step, why in NEXT_STEPS.items():
        kinds = Counter(d.kind for d in result.differences if next_step(d) == step)
        if kinds:
            counted = ", ".join(f"{n} {_lower(KIND_LABELS[k])}" for k, n in sorted(kinds.items()))
            command = "By hand in Fincome" if step.startswith("by hand") else f"`{step}`"
            steps.append(f"{command} for {counted}: {why}.")
    if result.not_mappable:
        steps.append(
            f"`billing-sync rejects` for {count_of(len(result.not_mappable), 'invoice')} left "
            "out: it says why each was set aside (a custom pricing unit needs "
            "`[mapping.pricing_units]`); then `billing-sync rejects --retry`."
        )
    if any(not row.metrics_agree for row in result.months):
        steps.append(
            "Fincome's own totals are Fincome's computation (its calculation options): nothing "
            "billing-sync sends changes them; show the months to whoever runs Fincome."
        )
    if any(read.how == "sample" for read in result.reads.values()):
        steps.append("Run without `--sample` to read every document by id.")
    read_by_id = sum(read.asked for read in result.reads.values() if read.how == "by_id")
    if read_by_id >= MANY_READS:
        steps.append(
            f"Reading {read_by_id:,} documents one by one took {result.duration_seconds:,.0f} s: "
            "`--sample N` checks N of each kind instead."
        )
    reads = result.reads.values()
    if any(read.how == "unread" or read.all_absent for read in reads) or result.problems:
        steps.append("`billing-sync check` shows which paths, views and metrics Fincome serves.")
    return steps


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def _same(one: Held | None, other: Held | None) -> bool:
    if one is None or other is None:
        return one is other
    return (one.counted, one.amount, one.status, one.month) == (
        other.counted,
        other.amount,
        other.status,
        other.month,
    )
