"""Contract customers: drawn from their own RNG stream, `{seed}/contracts`.

Adding contract customers never changes a plan customer: the rate card, the customers,
their contracts (and the plan history of those that moved from a plan) draw only from this
stream. Each story's terms are in `contract_stories.py`; prices in `ratecard.py`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.metronome.catalog import Catalog
from sandbox.metronome.contract_stories import STORY_NAMES, Calendar, draw_story
from sandbox.metronome.contracts import (
    Contract,
    ContractCommit,
    ContractSubscription,
    ScheduledCharge,
    Segment,
)
from sandbox.metronome.identities import make_identity
from sandbox.metronome.periods import add_months, months_between
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


@dataclass
class _Draft:
    """What a story builds before it becomes a Contract."""

    story: str
    start: datetime
    subscriptions: list[ContractSubscription] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)
    commits: list[ContractCommit] = field(default_factory=list)
    charges: list[ScheduledCharge] = field(default_factory=list)
    currency: str = "usd"
    backdated: bool = False  # signed after it started: its first commit invoice is historical


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
    draft = _DRAFTS[story](rng, stream.card, calendar)
    plans: list[Subscription] = []
    contracts: list[Contract] = []
    if story == "moved":
        plans.append(_previous_plan(rng, customer_id, stream.catalog, draft.start))
        archived = _contract(stream, customer_id, identity.name, _Draft(story, draft.start))
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
    detail = {
        "id": customer_id,
        "external_id": identity.ingest_aliases[0],
        "ingest_aliases": identity.ingest_aliases,
        "name": identity.name,
        "custom_fields": identity.custom_fields,
        "customer_config": {"salesforce_account_id": identity.salesforce_account_id},
        "created_at": iso(created_at),
        "updated_at": iso(max(created_at, status_at)),
        "archived_at": None,
        "current_billable_status": {
            "value": "billable" if contract.unbillable_from is None else "unbillable",
            "effective_at": iso(status_at),
        },
    }
    return ContractCustomer(detail, plans, contracts)


def _contract(stream: _Stream, customer_id: str, name: str, draft: _Draft) -> Contract:
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


def _annual(rng: random.Random, card: RateCard, calendar: Calendar) -> _Draft:
    start = calendar.in_window(1)
    draft = _Draft("annual", start, usage=["api"])
    draft.subscriptions.append(_subscription(rng, card, "platform_annual", "ADVANCE", [(start, 1)]))
    credit = _monthly_segments(rng, start, 12, D(5000))
    draft.commits.append(
        _commit(rng, card, "CREDIT", "credit", "api", segments=credit, name="Promotional credit")
    )
    return draft


def _seats(rng: random.Random, card: RateCard, calendar: Calendar) -> _Draft:
    start = calendar.before_window()
    draft = _Draft("seats", start, usage=["api"])
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


def _prepaid_eur(rng: random.Random, card: RateCard, calendar: Calendar) -> _Draft:
    start = calendar.in_window(1)
    draft = _Draft("prepaid_eur", start, usage=["api_eur"], currency="eur")
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


def _postpaid(rng: random.Random, card: RateCard, calendar: Calendar) -> _Draft:
    """Backdated to the window's start, with a prepaid top-up bought that first day."""
    start = calendar.in_window(0)
    draft = _Draft("postpaid", start, usage=["api"], backdated=True)
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


def _custom_unit(rng: random.Random, card: RateCard, calendar: Calendar) -> _Draft:
    start = calendar.before_window()
    draft = _Draft("custom_unit", start, usage=["compute"])
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


def _plain(story: str, collection: str, subscription: str, quantity: int) -> Any:
    def build(rng: random.Random, card: RateCard, calendar: Calendar) -> _Draft:
        start = calendar.in_window(2) if story == "moved" else calendar.before_window()
        draft = _Draft(story, start, usage=["api"])
        draft.subscriptions.append(
            _subscription(rng, card, subscription, collection, [(start, quantity)])
        )
        return draft

    return build


_DRAFTS = {
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
