"""Each generated customer's story: which plans it had, when, and how it is billed.

A story is a plan family and a timeline kind: `steady` (on one plan since before the window),
`new_signup` (starts inside the window), `trial` (new signup whose first period is a free
trial), `upgrade` (one plan ends on a month boundary and the next starts the same instant) or
`churn` (the plan ends; most churned customers are archived a few days later). Flags add a
paying parent (plan-era: its draw is kept, hierarchies are contracts' now), no billing
provider, or legacy rounding of line totals.
`SCRIPTED_STORIES` go to the first customers so a small account already shows every case.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.metronome.catalog import Plan
from sandbox.metronome.periods import Period, add_months, billing_periods, months_between
from sandbox.metronome.usage import UsageProfile
from sandbox.metronome.wire import iso

UPGRADE_PATHS = {"starter": "growth", "growth": "enterprise"}


@dataclass(frozen=True)
class StoryOutline:
    family: str
    timeline: str
    paying_parent: bool = False  # was billed to a parent (hierarchies are contracts' now)
    has_billing_provider: bool = True
    rounds_line_totals: bool = False
    archived_after_churn: bool = True


SCRIPTED_STORIES = (
    StoryOutline("enterprise", "steady"),  # the parent of the hierarchy below
    StoryOutline("growth", "steady", paying_parent=True),
    StoryOutline("starter", "upgrade"),
    StoryOutline("growth", "trial"),
    StoryOutline("starter", "churn"),
    StoryOutline("growth_eu", "steady"),
    StoryOutline("credits", "steady"),
    StoryOutline("quarterly", "steady"),
    StoryOutline("growth", "steady", rounds_line_totals=True),
    StoryOutline("enterprise", "new_signup"),
    StoryOutline("starter", "steady", has_billing_provider=False),
    StoryOutline("growth_eu", "churn"),
)

_FAMILY_WEIGHTS = {
    "starter": 30, "growth": 28, "enterprise": 9, "growth_eu": 15, "credits": 9, "quarterly": 6,
}  # fmt: skip
_TIMELINE_WEIGHTS = {"steady": 52, "new_signup": 16, "trial": 8, "upgrade": 10, "churn": 14}


def draw_outline(rng: random.Random, index: int) -> StoryOutline:
    if index < len(SCRIPTED_STORIES):
        return SCRIPTED_STORIES[index]
    family = rng.choices(list(_FAMILY_WEIGHTS), list(_FAMILY_WEIGHTS.values()))[0]
    timeline = rng.choices(list(_TIMELINE_WEIGHTS), list(_TIMELINE_WEIGHTS.values()))[0]
    if timeline == "upgrade" and family not in UPGRADE_PATHS:
        timeline = "steady"
    return StoryOutline(
        family,
        timeline,
        paying_parent=family != "enterprise" and rng.random() < 0.04,
        has_billing_provider=rng.random() > 0.06,
        rounds_line_totals=rng.random() < 0.015,
        archived_after_churn=rng.random() < 0.7,
    )


@dataclass
class Subscription:
    """A customer plan (Metronome's CustomerPlan) plus what its invoices need."""

    id: str
    customer_id: str
    plan: Plan
    starting_on: datetime
    ending_before: datetime | None
    trial_ending_before: datetime | None
    usage: UsageProfile
    outline: StoryOutline
    net_payment_terms_days: int = 30
    custom_fields: dict[str, str] = field(default_factory=dict)

    def periods(self, start_from: datetime, now: datetime) -> list[Period]:
        """Billing periods from `start_from` that have begun by `now`, up to the plan's end."""
        until = self.ending_before or add_months(now, self.plan.months_per_period + 1)
        found = []
        for period in billing_periods(
            self.starting_on, self.plan.months_per_period, start_from, until
        ):
            if period.start > now:
                break
            found.append(period)
        return found

    def period_index(self, period: Period) -> int:
        return months_between(self.starting_on, period.start) // self.plan.months_per_period

    def in_trial(self, period: Period) -> bool:
        return self.trial_ending_before is not None and period.start < self.trial_ending_before

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "plan_id": self.plan.id,
            "plan_name": self.plan.name,
            "plan_description": self.plan.description,
            "starting_on": iso(self.starting_on),
            "net_payment_terms_days": self.net_payment_terms_days,
            "custom_fields": self.custom_fields,
        }
        if self.ending_before is not None:
            body["ending_before"] = iso(self.ending_before)
        if self.trial_ending_before is not None:
            body["trial_info"] = {
                "ending_before": iso(self.trial_ending_before),
                "spending_caps": [],
            }
        return body


@dataclass(frozen=True)
class Span:
    """When one plan of a story runs: [starting_on, ending_before)."""

    family: str
    starting_on: datetime
    ending_before: datetime | None
    trial: bool = False


def plan_spans(
    rng: random.Random, outline: StoryOutline, window_start: datetime, months: int
) -> list[Span]:
    """The plans of a story on the calendar; `window_start` is the first generated month."""
    before_window = add_months(window_start, -rng.randint(1, 36))
    inside_window = add_months(window_start, rng.randint(0, months))
    if outline.timeline == "new_signup":
        return [Span(outline.family, inside_window, None)]
    if outline.timeline == "trial":
        return [Span(outline.family, inside_window, None, trial=True)]
    if outline.timeline == "upgrade":
        switch = add_months(window_start, rng.randint(min(1, months), months))
        return [
            Span(outline.family, before_window, switch),
            Span(UPGRADE_PATHS[outline.family], switch, None),
        ]
    if outline.timeline == "churn":
        # end at least a month before the open period so the customer can be archived
        target = add_months(window_start, rng.randint(min(1, months), max(1, months - 1)))
        return [Span(outline.family, before_window, target)]
    return [Span(outline.family, before_window, None)]


def align_end(span: Span, months_per_period: int) -> datetime | None:
    """Plans end on a period boundary: round the end up to the next one."""
    if span.ending_before is None:
        return None
    elapsed = months_between(span.starting_on, span.ending_before)
    periods = max(1, -(-elapsed // months_per_period))
    return add_months(span.starting_on, periods * months_per_period)


def archive_moment(
    rng: random.Random, outline: StoryOutline, last_end: datetime | None, now: datetime
) -> datetime | None:
    """Most churned customers are archived 1-20 days after their plan ended."""
    if not outline.archived_after_churn or outline.timeline != "churn":
        return None
    if last_end is None or last_end >= now:
        return None
    moment = last_end + timedelta(days=rng.randint(1, 20), seconds=rng.randrange(86400))
    return min(moment, now - timedelta(seconds=1))
