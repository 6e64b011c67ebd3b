"""Which billing periods to re-read for each customer, and the cursor that remembers it.

Invoices have no `updated_at`, drafts change until they finalize and a FINALIZED invoice can
still turn VOID, so "everything after the last value" would miss changes. Instead each
customer keeps a `CustomerCursor`: the start of the latest billing period seen and the start
of the oldest invoice that was still DRAFT. The next run asks Metronome for the periods that
start on or after the earlier of (latest period - lookback) and (oldest draft), so recent
invoices are re-read (voids show up) and every draft is read again until it is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


def to_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BillingWindow:
    """Periods starting on or after `starting_on` and ending before `ending_before`.

    These are Metronome's own invoice-list filters; `None` leaves that side open.
    """

    starting_on: datetime | None = None
    ending_before: datetime | None = None

    def params(self) -> dict[str, str]:
        params = {}
        if self.starting_on is not None:
            params["starting_on"] = to_rfc3339(self.starting_on)
        if self.ending_before is not None:
            params["ending_before"] = to_rfc3339(self.ending_before)
        return params


@dataclass(frozen=True)
class CustomerCursor:
    latest_period_start: datetime
    oldest_draft_start: datetime | None = None

    def to_state(self) -> dict[str, str | None]:
        draft = self.oldest_draft_start
        return {
            "latest_period_start": to_rfc3339(self.latest_period_start),
            "oldest_draft_start": to_rfc3339(draft) if draft else None,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> CustomerCursor | None:
        if not state:
            return None
        draft = state.get("oldest_draft_start")
        return cls(
            latest_period_start=parse_rfc3339(state["latest_period_start"]),
            oldest_draft_start=parse_rfc3339(draft) if draft else None,
        )


class PeriodTracker:
    """Watches the invoices of one customer go by and remembers what the cursor needs."""

    def __init__(self) -> None:
        self.latest_start: datetime | None = None
        self.oldest_draft_start: datetime | None = None

    def observe(self, invoice: dict[str, Any]) -> None:
        raw = invoice.get("start_timestamp")
        if not raw:  # no billing period: nothing a period filter could find again
            return
        start = parse_rfc3339(raw)
        if self.latest_start is None or start > self.latest_start:
            self.latest_start = start
        if invoice.get("status") == "DRAFT" and (
            self.oldest_draft_start is None or start < self.oldest_draft_start
        ):
            self.oldest_draft_start = start


@dataclass(frozen=True)
class InvoiceReadPlan:
    """How this run reads invoices: incremental (default), full refresh, or a backfill window.

    A backfill reads exactly its window and never moves a cursor; a full refresh reads every
    period and rebuilds the cursors from what it saw; otherwise each customer's window comes
    from its cursor, and a customer without one (new) gets its full history.
    """

    lookback_days: int = 45
    full_refresh: bool = False
    backfill: BillingWindow | None = None

    def window(self, cursor: CustomerCursor | None, *, now: datetime) -> BillingWindow:
        if self.backfill is not None:
            return self.backfill
        if self.full_refresh or cursor is None:
            return BillingWindow()
        # invoices dated in the future must not push the window past today's periods
        latest = min(cursor.latest_period_start, now)
        start = latest - timedelta(days=self.lookback_days)
        if cursor.oldest_draft_start is not None:
            start = min(start, cursor.oldest_draft_start)
        return BillingWindow(starting_on=start)

    @property
    def moves_cursors(self) -> bool:
        return self.backfill is None

    def next_cursor(
        self, previous: CustomerCursor | None, seen: PeriodTracker
    ) -> CustomerCursor | None:
        """The cursor after reading a customer's window (callers skip it when a record of
        that customer was rejected, so the rejected record is read again next run)."""
        base = None if self.full_refresh else previous
        latest = seen.latest_start
        if base is not None and (latest is None or base.latest_period_start > latest):
            latest = base.latest_period_start
        if latest is None:
            return None
        return CustomerCursor(
            latest_period_start=latest, oldest_draft_start=seen.oldest_draft_start
        )
