"""Per-customer invoice windows: lookback, drafts, new customers, full refresh, backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sources.metronome.cursors import (
    BillingWindow,
    CustomerCursor,
    InvoiceReadPlan,
    PeriodTracker,
)

NOW = datetime(2024, 11, 21, tzinfo=UTC)
NOV = datetime(2024, 11, 1, tzinfo=UTC)
AUG = datetime(2024, 8, 1, tzinfo=UTC)


def tracker(*invoices: tuple[str, str | None]) -> PeriodTracker:
    seen = PeriodTracker()
    for status, start in invoices:
        seen.observe({"status": status, "start_timestamp": start})
    return seen


def test_a_new_customer_reads_its_whole_history() -> None:
    assert InvoiceReadPlan().window(None, now=NOW) == BillingWindow()
    assert BillingWindow().params() == {}


def test_the_window_starts_lookback_days_before_the_latest_period() -> None:
    plan = InvoiceReadPlan(lookback_days=45)
    window = plan.window(CustomerCursor(latest_period_start=NOV), now=NOW)
    assert window.starting_on == NOV - timedelta(days=45)
    assert window.params() == {"starting_on": "2024-09-17T00:00:00Z"}


def test_an_old_draft_pulls_the_window_back_to_it() -> None:
    cursor = CustomerCursor(latest_period_start=NOV, oldest_draft_start=AUG)
    assert InvoiceReadPlan().window(cursor, now=NOW).starting_on == AUG


def test_future_periods_never_push_the_window_past_today() -> None:
    future = CustomerCursor(latest_period_start=datetime(2025, 6, 1, tzinfo=UTC))
    window = InvoiceReadPlan(lookback_days=10).window(future, now=NOW)
    assert window.starting_on == NOW - timedelta(days=10)


def test_full_refresh_reads_everything_and_backfill_reads_its_window() -> None:
    cursor = CustomerCursor(latest_period_start=NOV)
    assert InvoiceReadPlan(full_refresh=True).window(cursor, now=NOW) == BillingWindow()
    backfill = BillingWindow(starting_on=AUG, ending_before=NOV)
    assert InvoiceReadPlan(backfill=backfill).window(cursor, now=NOW) == backfill
    assert backfill.params() == {
        "starting_on": "2024-08-01T00:00:00Z",
        "ending_before": "2024-11-01T00:00:00Z",
    }
    assert not InvoiceReadPlan(backfill=backfill).moves_cursors
    assert InvoiceReadPlan(full_refresh=True).moves_cursors


def test_the_next_cursor_remembers_the_latest_period_and_the_oldest_draft() -> None:
    seen = tracker(
        ("FINALIZED", "2024-09-01T00:00:00Z"),
        ("DRAFT", "2024-11-01T00:00:00Z"),
        ("DRAFT", "2024-10-01T00:00:00Z"),
        ("VOID", None),
    )
    cursor = InvoiceReadPlan().next_cursor(None, seen)
    assert cursor == CustomerCursor(
        latest_period_start=NOV, oldest_draft_start=datetime(2024, 10, 1, tzinfo=UTC)
    )


def test_a_finalized_draft_no_longer_holds_the_window_back() -> None:
    previous = CustomerCursor(latest_period_start=NOV, oldest_draft_start=AUG)
    seen = tracker(("FINALIZED", "2024-08-01T00:00:00Z"), ("FINALIZED", "2024-11-01T00:00:00Z"))
    assert InvoiceReadPlan().next_cursor(previous, seen) == CustomerCursor(NOV, None)


def test_an_empty_window_keeps_the_latest_period() -> None:
    previous = CustomerCursor(latest_period_start=NOV)
    assert InvoiceReadPlan().next_cursor(previous, PeriodTracker()) == previous
    assert InvoiceReadPlan().next_cursor(None, PeriodTracker()) is None


def test_full_refresh_rebuilds_the_cursor_from_what_it_saw() -> None:
    previous = CustomerCursor(latest_period_start=NOV, oldest_draft_start=AUG)
    seen = tracker(("FINALIZED", "2024-09-01T00:00:00Z"))
    rebuilt = InvoiceReadPlan(full_refresh=True).next_cursor(previous, seen)
    assert rebuilt == CustomerCursor(datetime(2024, 9, 1, tzinfo=UTC), None)
    assert InvoiceReadPlan(full_refresh=True).next_cursor(previous, PeriodTracker()) is None


def test_cursors_round_trip_through_dlt_state() -> None:
    cursor = CustomerCursor(latest_period_start=NOV, oldest_draft_start=AUG)
    state = cursor.to_state()
    assert state == {
        "latest_period_start": "2024-11-01T00:00:00Z",
        "oldest_draft_start": "2024-08-01T00:00:00Z",
    }
    assert CustomerCursor.from_state(state) == cursor
    assert CustomerCursor.from_state(None) is None
