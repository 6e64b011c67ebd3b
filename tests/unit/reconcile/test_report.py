"""The HTML report: self-contained, complete, escaped; the chart's axis."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from html import escape

import pytest

from pipelines.reconcile.chart import _ticks
from pipelines.reconcile.report import render_report
from pipelines.reconcile.wording import explain
from tests.unit.reconcile.sample import NOT_MAPPABLE, sample_reconciliation

CHECKED = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
FETCHES = re.compile(r"<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(", re.IGNORECASE)


def test_the_report_holds_everything_and_fetches_nothing() -> None:
    result = sample_reconciliation()
    page = render_report(result, generated_at=CHECKED, source="data dir /srv/billing")

    assert page.startswith("<!DOCTYPE html>")
    assert FETCHES.findall(page) == []
    assert "Differences found" in page
    assert "Checked 2026-06-15 08:00 UTC from data dir /srv/billing" in page
    assert page.count("<svg") == 2  # one chart per currency
    for difference in result.differences:
        assert escape(difference.id) in page
        assert escape(explain(difference)) in page
    assert "inv-&lt;unknown&gt;" in page
    assert "inv-<unknown>" not in page
    assert "&lt;and escape this&gt;" in page
    assert "Not mappable (1)" in page
    assert "Differences (4)" in page


def test_an_agreeing_account_says_so_plainly() -> None:
    page = render_report(
        sample_reconciliation(tampered=False), generated_at=CHECKED, source="data dir /d"
    )
    assert "Everything matches" in page
    assert "Everything agrees: for each of 24 months in 2 currencies" in page
    assert "None: every invoice and credit note matches." in page
    assert "differs</td>" not in page
    assert "Not mappable" not in page


def test_the_summary_names_the_months_that_differ() -> None:
    page = render_report(sample_reconciliation(), generated_at=CHECKED, source="data dir /d")
    assert (
        "Something differs: 4 invoices and credit notes do not match, in 4 of 24 months "
        "(Mar 2025 USD, Nov 2025 EUR, Feb 2026 USD, Apr 2026 USD), for cus-EUR-1, cus-USD-2, "
        "cus-USD-5 and 1 more customer."
    ) in page
    assert "<h2>Next steps</h2>" in page
    assert "<code>billing-sync repair</code> for 1 missing in Fincome" in page


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 123_456, [0, 25_000, 50_000, 75_000, 100_000, 125_000]),
        (-30, 80, [-50, -25, 0, 25, 50, 75, 100]),
        (0, 0, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]),
        (5, 9, [0, 2, 4, 6, 8, 10]),
    ],
)
def test_the_axis_starts_at_or_below_zero_in_round_steps(
    low: float, high: float, ticks: list[float]
) -> None:
    assert _ticks(low, high) == pytest.approx(ticks)


def test_invoices_left_out_are_no_green_verdict_and_the_next_step_is_named() -> None:
    result = replace(sample_reconciliation(tampered=False), not_mappable=NOT_MAPPABLE)
    page = render_report(result, generated_at=CHECKED, source="data dir /d")

    assert "Everything matches" not in page
    assert '<div class="verdict incomplete">' in page
    assert "What was compared matches, but not everything was compared" in page
    assert "1 invoice left out of every total" in page
    assert "<h2>Next steps</h2>" in page
    assert "<code>billing-sync rejects</code> for 1 invoice left out" in page
