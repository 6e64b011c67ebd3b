"""A generated Metronome contract: what it sells, on which calendar, and who pays.

These are the emulator's own terms; `contract_wire.py` renders them as the SDK's ContractV2
and `contract_invoices.py` bills them. Every date is a month start except quantity changes,
which happen mid-month so that they prorate. Prices live on the rate card
(`ratecard.py`): a subscription's monthly value is `quantity x product.price /
MONTHS_PER_PERIOD[product.frequency]`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sandbox.metronome.catalog import CreditType
from sandbox.metronome.periods import Period, add_months, billing_periods
from sandbox.metronome.ratecard import MONTHS_PER_PERIOD, RateCardProduct
from sandbox.metronome.wire import iso, new_uuid


@dataclass(frozen=True)
class ContractSubscription:
    id: str
    product: RateCardProduct  # a SUBSCRIPTION product: its frequency and price per period
    collection: str  # ADVANCE | ARREARS
    starting_at: datetime
    ending_before: datetime | None
    quantities: tuple[tuple[datetime, Decimal], ...]  # (from, quantity), the first at start
    seat_based: bool = False  # SEAT_BASED: seats added mid-period are billed at once
    prorate_on_next_invoice: bool = False  # else BILL_IMMEDIATELY (a SEAT_PURCHASE invoice)

    @property
    def months(self) -> int:
        assert self.product.frequency is not None
        return MONTHS_PER_PERIOD[self.product.frequency]

    def periods(self, until: datetime) -> list[Period]:
        """Its billing periods that start before `until` (and before its end)."""
        end = until if self.ending_before is None else min(until, self.ending_before)
        return list(billing_periods(self.starting_at, self.months, self.starting_at, end))

    def quantity_at(self, moment: datetime) -> Decimal:
        current = self.quantities[0][1]
        for starting_at, quantity in self.quantities:
            if starting_at <= moment:
                current = quantity
        return current

    def changes(self) -> list[tuple[datetime, Decimal, Decimal]]:
        """Mid-period quantity changes: (when, quantity before, quantity after)."""
        pairs = zip(self.quantities, self.quantities[1:], strict=False)
        return [(after[0], before[1], after[1]) for before, after in pairs]

    def period_of(self, moment: datetime) -> Period:
        return next(p for p in self.periods(add_months(moment, self.months)) if p.end > moment)


@dataclass(frozen=True)
class Segment:
    id: str
    start: datetime
    end: datetime
    amount: Decimal


@dataclass(frozen=True)
class ContractCommit:
    """A prepaid or postpaid commit, or a credit (`kind` CREDIT), drawn down by usage."""

    id: str
    kind: str  # PREPAID | POSTPAID | CREDIT
    name: str
    product: RateCardProduct  # the FIXED product the commit is sold as
    applies_to: RateCardProduct  # the usage product that draws it down
    segments: tuple[Segment, ...]  # monthly access (one for a postpaid commit)
    price: Decimal = Decimal(0)  # what a prepaid commit's CREDIT_PURCHASE invoice bills
    priority: int = 1

    @property
    def credit_type(self) -> CreditType:
        return self.applies_to.credit_type

    @property
    def starting_at(self) -> datetime:
        return self.segments[0].start

    @property
    def ending_before(self) -> datetime:
        return self.segments[-1].end

    def segment_for(self, period: Period) -> Segment | None:
        return next((s for s in self.segments if s.start <= period.start < s.end), None)


@dataclass(frozen=True)
class ScheduledCharge:
    id: str
    product: RateCardProduct
    items: tuple[tuple[str, datetime, Decimal], ...]  # (item id, timestamp, amount)


@dataclass
class Contract:
    id: str
    seed: int
    customer_id: str
    name: str
    credit_type: CreditType  # the fiat currency its invoices are in
    rate_card_id: str
    starting_at: datetime
    ending_before: datetime | None
    created_at: datetime
    subscriptions: list[ContractSubscription]
    usage: dict[str, tuple[RateCardProduct, float]]  # key -> (product, monthly baseline)
    growth: float
    commits: list[ContractCommit] = field(default_factory=list)
    scheduled_charges: list[ScheduledCharge] = field(default_factory=list)
    parent: tuple[str, str] | None = None  # (contract id, customer id) paying for it
    children: list[tuple[str, str]] = field(default_factory=list)
    environment: str | None = "production"
    archived_at: datetime | None = None
    has_billing_provider: bool = True
    unbillable_from: datetime | None = None
    net_payment_terms_days: int = 30
    custom_fields: dict[str, str] = field(default_factory=dict)

    def usage_periods(self, start_from: datetime, now: datetime) -> list[Period]:
        """Monthly usage statement periods from `start_from` that have begun by `now`."""
        until = add_months(now, 1) if self.ending_before is None else self.ending_before
        periods = billing_periods(self.starting_at, 1, max(start_from, self.starting_at), until)
        return [period for period in periods if period.start <= now]

    def invoice_rng(self, kind: str, start: datetime) -> random.Random:
        """The RNG of one invoice: its id first, then its draws (a DRAFT and the FINALIZED
        invoice it becomes share both)."""
        return random.Random(f"{self.seed}/{self.id}/{kind}/{iso(start)}")

    def invoice_id(self, kind: str, start: datetime) -> str:
        return new_uuid(self.invoice_rng(kind, start))

    def billable_at(self, moment: datetime) -> bool:
        return self.unbillable_from is None or moment < self.unbillable_from
