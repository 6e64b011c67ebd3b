"""Contract customers' stories: which contract each one signed, on which calendar.

`SCRIPTED_CONTRACT_STORIES` go to the first contract customers so nine of them show every
case; later ones draw a story by weight (hierarchies are scripted only):

| story | contract |
|---|---|
| annual | ANNUAL ADVANCE platform (12,000 USD a year on a monthly invoice), tiered usage with pricing and presentation groups, a monthly promotional credit (applied CREDIT) |
| seats | SEAT_BASED seats billed at once when added mid-month (SEAT_PURCHASE, prorated), analyst seats whose change prorates on the next invoice, QUARTERLY ARREARS support with an end date, usage in one region only (zero lines) |
| prepaid_eur | EUR: MONTHLY ARREARS platform, a prepaid commit (CREDIT_PURCHASE invoice, applied PREPAID lines), a scheduled onboarding charge in two installments (SCHEDULED) |
| postpaid | a postpaid commit: applied POSTPAID lines outside the total, then a SCHEDULED true-up (`postpaid_commit`) |
| custom_unit | GPU compute priced in Cloud credits, a monthly credit grant in credits, the rest converted to USD (`cpu_conversion`) |
| unbillable | the customer turned unbillable mid-window: its later invoices are `billable_status: unbillable` |
| parent, child | an account hierarchy: the child's invoices name the parent as `payer`, the parent gets USAGE_CONSOLIDATED invoices of both |
| moved | a customer that moved from the Growth plan to a contract (plan invoices before, contract invoices after) and archived a draft contract |
"""  # noqa: E501

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.metronome.contracts import (
    ContractCommit,
    ContractSubscription,
    ScheduledCharge,
    Segment,
)
from sandbox.metronome.periods import add_months, months_between
from sandbox.metronome.ratecard import RateCard
from sandbox.metronome.wire import new_uuid

D = Decimal
ZERO = Decimal(0)

SCRIPTED_CONTRACT_STORIES = (
    "annual", "seats", "prepaid_eur", "postpaid", "custom_unit", "unbillable", "parent",
    "child", "moved",
)  # fmt: skip
_STORY_WEIGHTS = {
    "annual": 15, "seats": 20, "prepaid_eur": 12, "postpaid": 10, "custom_unit": 10,
    "unbillable": 5, "moved": 28,
}  # fmt: skip
STORY_NAMES = {
    "annual": "Platform Annual", "seats": "Team Seats", "prepaid_eur": "Prepaid EU",
    "postpaid": "Committed Spend", "custom_unit": "GPU Credits", "unbillable": "Pilot",
    "parent": "Group Master Agreement", "child": "Subsidiary Order", "moved": "Contract Migration",
}  # fmt: skip


def draw_story(rng: random.Random, index: int) -> str:
    if index < len(SCRIPTED_CONTRACT_STORIES):
        return SCRIPTED_CONTRACT_STORIES[index]
    return rng.choices(list(_STORY_WEIGHTS), list(_STORY_WEIGHTS.values()))[0]


class Calendar:
    """Dates of a story relative to the window: `months` full months before now's month."""

    def __init__(self, rng: random.Random, window_start: datetime, months: int) -> None:
        self.rng = rng
        self.window_start = window_start
        self.months = months

    def before_window(self) -> datetime:
        return add_months(self.window_start, -self.rng.randint(2, 14))

    def in_window(self, offset: int) -> datetime:
        """The month `offset` months into the window, never past now's month."""
        return add_months(self.window_start, min(offset, self.months))

    def mid_month(self, offset: int, day: int) -> datetime:
        return self.in_window(offset) + timedelta(days=day)


@dataclass
class StoryTerms:
    """What a story builds before it becomes a Contract."""

    story: str
    start: datetime
    subscriptions: list[ContractSubscription] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)
    commits: list[ContractCommit] = field(default_factory=list)
    charges: list[ScheduledCharge] = field(default_factory=list)
    currency: str = "usd"
    backdated: bool = False  # signed after it started: its first commit invoice is historical


# A story's terms, drawn from the contracts stream on the story's calendar.
TermsBuilder = Callable[[random.Random, RateCard, Calendar], StoryTerms]


def _subscription(
    rng: random.Random,
    card: RateCard,
    key: str,
    collection: str,
    quantities: list[tuple[datetime, int]],
    **options: Any,
) -> ContractSubscription:
    """A subscription from the first quantity's date; later ones are mid-period changes."""
    return ContractSubscription(
        id=new_uuid(rng),
        product=card.products[key],
        collection=collection,
        starting_at=quantities[0][0],
        ending_before=options.pop("ending_before", None),
        quantities=tuple((at, D(quantity)) for at, quantity in quantities),
        **options,
    )


def _monthly_segments(
    rng: random.Random, start: datetime, months: int, amount: Decimal
) -> tuple[Segment, ...]:
    return tuple(
        Segment(new_uuid(rng), add_months(start, i), add_months(start, i + 1), amount)
        for i in range(months)
    )


def _commit(
    rng: random.Random,
    card: RateCard,
    kind: str,
    product: str,
    applies_to: str,
    *,
    segments: tuple[Segment, ...],
    name: str,
    price: Decimal = ZERO,
) -> ContractCommit:
    return ContractCommit(
        new_uuid(rng),
        kind,
        name,
        card.products[product],
        card.products[applies_to],
        segments,
        price,
        priority=1 if kind != "CREDIT" else 2,
    )


def _annual(rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
    start = calendar.in_window(1)
    draft = StoryTerms("annual", start, usage=["api"])
    draft.subscriptions.append(_subscription(rng, card, "platform_annual", "ADVANCE", [(start, 1)]))
    credit = _monthly_segments(rng, start, 12, D(5000))
    draft.commits.append(
        _commit(rng, card, "CREDIT", "credit", "api", segments=credit, name="Promotional credit")
    )
    return draft


def _seats(rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
    start = calendar.before_window()
    draft = StoryTerms("seats", start, usage=["api"])
    seats = rng.randint(8, 30)
    added = calendar.mid_month(2, 14)
    draft.subscriptions.append(
        _subscription(
            rng,
            card,
            "seats",
            "ADVANCE",
            [(start, seats), (added, seats + 5)],
            seat_based=True,
        )
    )
    changed = calendar.mid_month(3, 9)
    draft.subscriptions.append(
        _subscription(
            rng,
            card,
            "analyst_seats",
            "ADVANCE",
            [(start, 3), (changed, 8)],
            prorate_on_next_invoice=True,
        )
    )
    quarters = -(-months_between(start, calendar.in_window(3)) // 3)
    end = add_months(start, 3 * max(quarters, 1))
    draft.subscriptions.append(
        _subscription(rng, card, "support_quarterly", "ARREARS", [(start, 1)], ending_before=end)
    )
    return draft


def _prepaid_eur(rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
    start = calendar.in_window(1)
    draft = StoryTerms("prepaid_eur", start, usage=["api_eur"], currency="eur")
    draft.subscriptions.append(_subscription(rng, card, "platform_eur", "ARREARS", [(start, 1)]))
    segments = _monthly_segments(rng, start, 12, D(1500))
    draft.commits.append(
        _commit(
            rng,
            card,
            "PREPAID",
            "prepaid_eur",
            "api_eur",
            segments=segments,
            name="Prepaid usage EU",
            price=D(16200),
        )
    )
    items = tuple((new_uuid(rng), add_months(start, i), D(2000)) for i in range(2))
    draft.charges.append(ScheduledCharge(new_uuid(rng), card.products["onboarding_eur"], items))
    return draft


def _postpaid(rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
    """Backdated to the window's start, with a prepaid top-up bought that first day."""
    start = calendar.in_window(0)
    draft = StoryTerms("postpaid", start, usage=["api"], backdated=True)
    draft.subscriptions.append(
        _subscription(rng, card, "platform_monthly", "ADVANCE", [(start, 1)])
    )
    end = max(calendar.in_window(3), add_months(start, 1))
    months = months_between(start, end)
    segment = Segment(new_uuid(rng), start, end, D(400000) * months)
    draft.commits.append(
        _commit(
            rng,
            card,
            "POSTPAID",
            "postpaid",
            "api",
            segments=(segment,),
            name="Minimum spend commitment",
        )
    )
    top_up = _monthly_segments(rng, start, 2, D(20000))
    draft.commits.append(
        _commit(
            rng, card, "PREPAID", "prepaid", "api", segments=top_up, name="Prepaid top-up",
            price=D(40000),
        )
    )  # fmt: skip
    return draft


def _custom_unit(rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
    start = calendar.before_window()
    draft = StoryTerms("custom_unit", start, usage=["compute"])
    draft.subscriptions.append(
        _subscription(rng, card, "platform_monthly", "ADVANCE", [(start, 1)])
    )
    credit = _monthly_segments(rng, start, 36, D(500))
    draft.commits.append(
        _commit(
            rng,
            card,
            "CREDIT",
            "compute_credit",
            "compute",
            segments=credit,
            name="Included GPU credits",
        )
    )
    return draft


def _plain(story: str, collection: str, subscription: str, quantity: int) -> TermsBuilder:
    def build(rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
        start = calendar.in_window(2) if story == "moved" else calendar.before_window()
        draft = StoryTerms(story, start, usage=["api"])
        draft.subscriptions.append(
            _subscription(rng, card, subscription, collection, [(start, quantity)])
        )
        return draft

    return build


_TERMS: dict[str, TermsBuilder] = {
    "annual": _annual,
    "seats": _seats,
    "prepaid_eur": _prepaid_eur,
    "postpaid": _postpaid,
    "custom_unit": _custom_unit,
    "unbillable": _plain("unbillable", "ARREARS", "platform_monthly", 2),
    "parent": _plain("parent", "ADVANCE", "platform_monthly", 1),
    "child": _plain("child", "ADVANCE", "seats", 10),
    "moved": _plain("moved", "ADVANCE", "platform_monthly", 1),
}


def story_terms(story: str, rng: random.Random, card: RateCard, calendar: Calendar) -> StoryTerms:
    """The contract terms of `story`, drawn from `rng`."""
    return _TERMS[story](rng, card, calendar)
