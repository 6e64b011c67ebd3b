"""Differences per document and totals per month and currency."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from pipelines.reconcile.compare import classify, find_differences, month_rows
from pipelines.reconcile.documents import Documents, Held, Source
from pipelines.reconcile.fincome import MetricTotals

D = Decimal
PAID = Held("invoice", "inv-1", "cus-1", "USD", "2026-04", D("120.00"), "paid", counted=True)
VOID = replace(PAID, status="void", counted=False)
DRAFT = replace(PAID, currency=None, amount=D(0), status="draft", counted=False)
CREDIT = Held("credit_note", "cn-1", "cus-1", "USD", "2026-04", D("20.00"), "refunded", True)


@pytest.mark.parametrize(
    ("metronome", "ledger", "fincome", "kind"),
    [
        (PAID, PAID, PAID, None),
        (VOID, VOID, VOID, None),
        (VOID, None, None, None),  # a void nobody counts is no difference
        (DRAFT, None, None, None),
        (None, PAID, PAID, "unknown_to_metronome"),
        (None, None, PAID, "unknown_to_metronome"),
        (PAID, None, None, "missing_in_ledger"),
        (PAID, None, PAID, "missing_in_ledger"),
        (PAID, PAID, None, "missing_in_fincome"),
        (VOID, PAID, PAID, "status_differs"),
        (VOID, VOID, PAID, "status_differs"),
        (PAID, PAID, VOID, "status_differs"),
        (DRAFT, None, PAID, "status_differs"),
        (PAID, PAID, replace(PAID, status="open"), "status_differs"),
        (PAID, replace(PAID, amount=D("1.23")), PAID, "amount_differs"),
        (PAID, PAID, replace(PAID, currency="EUR"), "amount_differs"),
        (PAID, PAID, replace(PAID, kind="credit_note"), "amount_differs"),
        (PAID, PAID, replace(PAID, month="2026-05"), "month_differs"),
        # a document without lines has no currency: it matches any
        (replace(PAID, amount=D(0)), replace(PAID, amount=D(0), currency=None), PAID,
         "amount_differs"),
        (replace(PAID, amount=D(0)), replace(PAID, amount=D(0), currency=None),
         replace(PAID, amount=D(0)), None),
    ],
)  # fmt: skip
def test_classify(
    metronome: Held | None, ledger: Held | None, fincome: Held | None, kind: str | None
) -> None:
    assert classify({"metronome": metronome, "ledger": ledger, "fincome": fincome}) == kind


def _sources(*held: tuple[Source, Held]) -> dict[Source, Documents]:
    sources: dict[Source, Documents] = {"metronome": {}, "ledger": {}, "fincome": {}}
    for source, document in held:
        sources[source][document.id] = document
    return sources


def test_a_difference_names_the_document_from_what_counts_it() -> None:
    sources = _sources(
        ("metronome", replace(VOID, customer_id=None)),
        ("fincome", replace(PAID, month="2026-05")),
        ("metronome", replace(PAID, id="inv-0", month="2026-01")),
        ("ledger", replace(PAID, id="inv-0", month="2026-01")),
        ("fincome", replace(PAID, id="inv-0", month="2026-01")),
    )
    [difference] = find_differences(sources)
    # the month where it counts (in Fincome), the customer from whoever knows it
    assert (difference.id, difference.kind, difference.customer_id, difference.month) == (
        "inv-1",
        "status_differs",
        "cus-1",
        "2026-05",
    )
    assert difference.held["ledger"] is None
    assert difference.held["fincome"] == replace(PAID, month="2026-05")


def test_month_rows_add_up_invoiced_credited_and_net_per_source() -> None:
    sources = _sources(
        *((source, PAID) for source in ("metronome", "ledger", "fincome")),
        *((source, CREDIT) for source in ("metronome", "ledger", "fincome")),
        ("metronome", replace(PAID, id="eur", currency="EUR", amount=D(7))),
        ("ledger", replace(PAID, id="eur", currency="EUR", amount=D(7))),
        ("fincome", replace(PAID, id="eur", currency="EUR", amount=D(8))),
        ("fincome", replace(VOID, id="void")),  # counts nothing
        ("ledger", replace(PAID, id="empty", currency=None, amount=D(0))),  # adds nothing
    )
    metrics = {
        ("2026-04", "USD"): MetricTotals(invoiced=D(120), revenue=D(100)),
        ("2026-04", "EUR"): MetricTotals(invoiced=D(8), revenue=D(8)),
        ("2026-03", "USD"): MetricTotals(invoiced=D(5), revenue=D(5)),  # Fincome alone has it
    }
    rows = {(row.month, row.currency): row for row in month_rows(sources, metrics)}

    usd = rows["2026-04", "USD"]
    for source in ("metronome", "ledger", "fincome"):
        totals = usd.series[source]
        assert (totals.invoiced, totals.credited, totals.net, totals.documents) == (
            D(120),
            D(20),
            D(100),
            2,
        )
    assert usd.agrees
    eur = rows["2026-04", "EUR"]
    assert (eur.series_agree, eur.metrics_agree, eur.agrees) == (False, True, False)
    lonely = rows["2026-03", "USD"]
    assert (lonely.series_agree, lonely.metrics_agree) == (True, False)


def test_without_metrics_a_month_is_judged_on_the_three_series() -> None:
    sources = _sources(*((source, PAID) for source in ("metronome", "ledger", "fincome")))
    [row] = month_rows(sources, None)
    assert row.metrics is None
    assert row.agrees
