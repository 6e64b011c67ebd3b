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
from datetime import datetime, timedelta

from sandbox.metronome.periods import add_months

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
