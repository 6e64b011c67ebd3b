"""Contract customers: drawn from their own RNG stream, `{seed}/contracts`.

Adding contract customers never changes a plan customer: the rate card, the customers,
their contracts (and the plan history of those that moved from a plan) draw only from this
stream. What each story signs is `contract_stories.story_terms`; prices are in `ratecard.py`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.metronome.catalog import Catalog
from sandbox.metronome.contract_stories import (
    STORY_NAMES,
    Calendar,
    StoryTerms,
    draw_story,
    story_terms,
)
from sandbox.metronome.contracts import (
    Contract,
)
from sandbox.metronome.identities import customer_detail, make_identity
from sandbox.metronome.periods import add_months
from sandbox.metronome.ratecard import RateCard, build_rate_card
from sandbox.metronome.stories import StoryOutline, Subscription
from sandbox.metronome.usage import draw_profile
from sandbox.metronome.wire import iso, new_uuid

D = Decimal
ZERO = Decimal(0)
_USAGE_RANGES = {"api": (3e5, 1.2e7), "api_eur": (2e6, 2e7), "compute": (800.0, 5000.0)}


@dataclass
class ContractCustomer:
    detail: dict[str, Any]  # CustomerDetail, with `current_billable_status`
    plan_subscriptions: list[Subscription]  # the plan it had before (moved customers)
    contracts: list[Contract]


@dataclass(frozen=True)
class _Stream:
    rng: random.Random
    seed: int
    card: RateCard
    catalog: Catalog
    calendar: Calendar


def contract_customers(
    seed: int, count: int, catalog: Catalog, *, window_start: datetime, months: int, index0: int
) -> list[ContractCustomer]:
    """`count` contract customers; `index0` numbers them after the plan customers."""
    rng = random.Random(f"{seed}/contracts")
    usd, eur, credits = catalog.credit_types
    card = build_rate_card(rng, {"usd": usd, "eur": eur, "credits": credits})
    stream = _Stream(rng, seed, card, catalog, Calendar(rng, window_start, months))
    customers: list[ContractCustomer] = []
    parents: list[Contract] = []
    for index in range(count):
        story = draw_story(rng, index)
        customer = _customer(stream, story, index0 + index)
        contract = customer.contracts[-1]
        if story == "parent":
            parents.append(contract)
        if story == "child" and parents:
            contract.parent = (parents[-1].id, parents[-1].customer_id)
            parents[-1].children.append((contract.id, contract.customer_id))
        customers.append(customer)
    return customers


def _customer(stream: _Stream, story: str, index: int) -> ContractCustomer:
    rng, calendar = stream.rng, stream.calendar
    customer_id = new_uuid(rng)
    region = "eur" if story == "prepaid_eur" else "usd"
    identity = make_identity(rng, index, "Enterprise", region)
    draft = story_terms(story, rng, stream.card, calendar)
    plans: list[Subscription] = []
    contracts: list[Contract] = []
    if story == "moved":
        plans.append(_previous_plan(rng, customer_id, stream.catalog, draft.start))
        archived = _contract(stream, customer_id, identity.name, StoryTerms(story, draft.start))
        archived.archived_at = draft.start - timedelta(days=5)
        contracts.append(archived)
    contract = _contract(stream, customer_id, identity.name, draft)
    if story == "unbillable":
        contract.unbillable_from = calendar.in_window(2)
    contracts.append(contract)
    created_at = min(
        [c.created_at for c in contracts] + [p.starting_on - timedelta(days=3) for p in plans]
    )
    status_at = contract.unbillable_from or created_at
    detail = customer_detail(customer_id, identity, created_at, max(created_at, status_at), None)
    detail["current_billable_status"] = {
        "value": "billable" if contract.unbillable_from is None else "unbillable",
        "effective_at": iso(status_at),
    }
    return ContractCustomer(detail, plans, contracts)


def _contract(stream: _Stream, customer_id: str, name: str, draft: StoryTerms) -> Contract:
    rng, seed, card = stream.rng, stream.seed, stream.card
    products = card.products
    return Contract(
        id=new_uuid(rng),
        seed=seed,
        customer_id=customer_id,
        name=f"{name}: {STORY_NAMES[draft.story]}",
        credit_type=products["platform_eur" if draft.currency == "eur" else "api"].credit_type,
        rate_card_id=card.id,
        starting_at=draft.start,
        ending_before=None,
        created_at=draft.start
        + timedelta(days=rng.randint(10, 20) if draft.backdated else -rng.randint(3, 25)),
        subscriptions=draft.subscriptions,
        usage={key: (products[key], _baseline(rng, key)) for key in draft.usage},
        growth=rng.uniform(-0.02, 0.06),
        commits=draft.commits,
        scheduled_charges=draft.charges,
        environment=None if draft.story == "seats" else "production",
        net_payment_terms_days=rng.choice((15, 30, 30, 45)),
        custom_fields={"deal_desk_id": f"DD-{rng.randrange(10000, 99999)}"},
    )


def _baseline(rng: random.Random, key: str) -> float:
    low, high = _USAGE_RANGES[key]
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _previous_plan(
    rng: random.Random, customer_id: str, catalog: Catalog, switch: datetime
) -> Subscription:
    """The Growth plan a moved customer had: it ends the instant its contract starts."""
    return Subscription(
        id=new_uuid(rng),
        customer_id=customer_id,
        plan=catalog.plans["growth"],
        starting_on=add_months(switch, -rng.randint(3, 12)),
        ending_before=switch,
        trial_ending_before=None,
        usage=draw_profile(rng, "growth"),
        outline=StoryOutline("growth", "upgrade"),
        custom_fields={"order_form": f"OF-{rng.randrange(10000, 99999)}"},
    )
