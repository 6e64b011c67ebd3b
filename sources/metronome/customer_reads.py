"""A customer whose lists cannot be read is set aside for this run; too many stop the run.

Metronome answering a customer's invoice, plan or contract list with a 404 (the customer was
just listed) or a body that is not a list (`{"data": null}`) is an error of that request: the
client retries it like a 5xx, and when it still fails, that customer is not read this run.
It is never "no invoices": its cursor stays where it was (the next run reads the same
window again, old drafts included) and an `ExtractReject` of collection `UNREAD` says why,
so the run exits 3 and the reject is resolved by the next run that reads the customer whole.

One such customer is a glitch. `MAX_IN_A_ROW` of them with no good read of the same list in
between, or more than `MAX_SHARE` of the customers read so far (once `MAX_IN_A_ROW` have
failed), is Metronome (or a proxy) answering that list badly: going on would spend one retry
budget per customer for hours, so the run stops with `CustomerReadsFailing` instead.
"""

from __future__ import annotations

import threading
from collections import Counter

from sources.metronome.client import MetronomeError
from sources.metronome.records import ExtractReject, RejectSink

UNREAD = "unread_customers"  # the collection of the rejects for customers not read
MAX_IN_A_ROW = 5
MAX_SHARE = 0.1


class CustomerReadsFailing(MetronomeError):
    """Too many customers could not be read: the run stops."""


class CustomerReads:
    """Shared by every extract thread of one run (thread-safe). Counted per list
    ("invoices", "customer plans", "contracts"): every invoice list failing while the plan
    lists work is still an outage."""

    def __init__(self, max_in_a_row: int = MAX_IN_A_ROW, max_share: float = MAX_SHARE) -> None:
        self._max_in_a_row = max_in_a_row
        self._max_share = max_share
        self._in_a_row: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._read: Counter[str] = Counter()
        self._lock = threading.Lock()

    def succeeded(self, what: str) -> None:
        with self._lock:
            self._in_a_row[what] = 0
            self._read[what] += 1

    def failed(
        self, customer_id: str, what: str, error: MetronomeError, on_reject: RejectSink
    ) -> None:
        """Set this customer aside for the run, or stop the run if too many failed."""
        with self._lock:
            self._in_a_row[what] += 1
            self._failed[what] += 1
            failed, tried = self._failed[what], self._failed[what] + self._read[what]
            too_many = self._in_a_row[what] >= self._max_in_a_row or (
                failed >= self._max_in_a_row and failed > self._max_share * tried
            )
        if too_many:
            raise CustomerReadsFailing(
                f"{failed} of {tried} customers' {what} could not be read "
                f"({self._in_a_row[what]} in a row), the last one's: {error}"
            ) from error
        reason = f"its {what} could not be read this run ({error}); read again next run"
        on_reject(ExtractReject(UNREAD, customer_id, reason, {"customer_id": customer_id}))
