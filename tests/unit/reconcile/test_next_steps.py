"""What reconcile tells a person to do: the verdict, the next step of each difference, and
documents whose Fincome copy was not read (compared without Fincome)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from pipelines.reconcile.compare import DifferenceKind, classify, find_differences, month_rows
from pipelines.reconcile.coverage import KindRead
from pipelines.reconcile.documents import Documents, Held, Source
from pipelines.reconcile.fincome import MetricTotals
from pipelines.reconcile.guidance import next_step, next_steps
from pipelines.reconcile.result import Reconciliation
from tests.unit.reconcile.sample import NOT_MAPPABLE

D = Decimal
PAID = Held("invoice", "inv-1", "cus-1", "USD", "2026-04", D("120.00"), "paid", counted=True)
OPEN = replace(PAID, status="open")
VOID = replace(PAID, status="void", counted=False)
CHANGED = replace(PAID, amount=D("1.00"))


def _held(
    metronome: Held | None, ledger: Held | None, fincome: Held | None
) -> dict[Source, Held | None]:
    return {"metronome": metronome, "ledger": ledger, "fincome": fincome}


@pytest.mark.parametrize(
    ("metronome", "ledger", "fincome", "kind", "step"),
    [
        (PAID, PAID, None, "missing_in_fincome", "billing-sync repair"),  # deleted by hand
        (PAID, PAID, CHANGED, "amount_differs", "billing-sync repair"),  # edited by hand
        (PAID, PAID, OPEN, "status_differs", "billing-sync repair"),
        (PAID, None, None, "missing_in_ledger", "billing-sync sync"),  # not pushed yet
        (VOID, PAID, PAID, "status_differs", "billing-sync sync"),  # voided since the push
        (PAID, CHANGED, CHANGED, "amount_differs", "billing-sync sync"),
        (None, None, PAID, "unknown_to_metronome", "by hand in Fincome"),
    ],
)  # fmt: skip
def test_each_difference_points_at_what_settles_it(
    metronome: Held | None, ledger: Held | None, fincome: Held | None,
    kind: DifferenceKind, step: str,
) -> None:  # fmt: skip
    sources = {
        source: {h.id: h} if h else {} for source, h in _held(metronome, ledger, fincome).items()
    }
    [difference] = find_differences(sources)  # type: ignore[arg-type]
    assert (difference.kind, next_step(difference)) == (kind, step)


@pytest.mark.parametrize(
    ("metronome", "ledger", "kind"),
    [
        (PAID, PAID, None),  # Fincome not read: nothing said about it
        (PAID, None, "missing_in_ledger"),
        (VOID, PAID, "status_differs"),
        (PAID, CHANGED, "amount_differs"),
        (None, PAID, "unknown_to_metronome"),
        (None, None, None),
    ],
)
def test_a_document_not_read_in_fincome_is_compared_without_it(
    metronome: Held | None, ledger: Held | None, kind: DifferenceKind | None
) -> None:
    assert classify(_held(metronome, ledger, None), fincome_checked=False) == kind


def test_unread_fincome_totals_are_not_compared_but_its_metrics_are_with_metronome() -> None:
    sources: dict[Source, Documents] = {
        "metronome": {"inv-1": PAID}, "ledger": {"inv-1": PAID}, "fincome": {},
    }  # fmt: skip
    metrics = {("2026-04", "USD"): MetricTotals(invoiced=D("120.00"), revenue=None)}
    [row] = month_rows(sources, metrics, fincome_complete=False, metric_roles=["invoiced"])

    assert row.agrees
    assert row.compared == ("metronome", "ledger")
    [wrong] = month_rows(
        sources,
        {("2026-04", "USD"): MetricTotals(D(1), None)},
        fincome_complete=False,
        metric_roles=["invoiced"],
    )
    assert not wrong.agrees


def _result(**changes: object) -> Reconciliation:
    base = Reconciliation(months=[], differences=[], not_mappable=[], documents={
        "metronome": 1, "ledger": 1, "fincome": 1}, metrics_checked=False)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


SAMPLED = KindRead("invoice", "sample", asked=3, unchecked=frozenset({"a", "b"}))
UNREAD = KindRead("credit_note", "unread", unchecked=frozenset({"c"}), problem="405")
ALL_ABSENT = KindRead("invoice", "by_id", asked=4, absent=4)


@pytest.mark.parametrize(
    ("changes", "verdict", "steps"),
    [
        ({}, "agrees", []),
        ({"not_mappable": NOT_MAPPABLE}, "incomplete", ["`billing-sync rejects`"]),
        ({"reads": {"invoice": SAMPLED}}, "incomplete", ["Run without `--sample`"]),
        ({"reads": {"credit_note": UNREAD}}, "incomplete", ["`billing-sync check`"]),
        ({"reads": {"invoice": ALL_ABSENT}}, "agrees", ["`billing-sync check`"]),
        ({"problems": ["view `x` could not be read"]}, "agrees", ["`billing-sync check`"]),
    ],
)
def test_the_verdict_never_claims_more_than_was_checked(
    changes: dict[str, object], verdict: str, steps: list[str]
) -> None:
    result = _result(**changes)
    assert result.verdict == verdict
    assert [_head(step) for step in next_steps(result)] == steps


def _head(step: str) -> str:
    for head in ("`billing-sync rejects`", "Run without `--sample`", "`billing-sync check`"):
        if step.startswith(head):
            return head
    return step


def test_many_documents_read_one_by_one_suggest_a_sample() -> None:
    many = KindRead("invoice", "by_id", asked=1_500)
    result = _result(reads={"invoice": many}, duration_seconds=151.2)

    assert result.verdict == "agrees"
    assert next_steps(result) == [
        "Reading 1,500 documents one by one took 151 s: `--sample N` checks N of each kind instead."
    ]
    assert next_steps(_result(reads={"invoice": replace(many, asked=999)})) == []
