"""The deterministic account generator: same settings, byte-identical account.

`generate_account(AccountSettings(seed, customers, months, now, contract_customers))` builds
the price book, the plan customers with their plan histories, every plan invoice of the
`months` full months before `now`'s month plus the open period (DRAFTs), then history:
payment failures, voids with their regenerated replacements, and corrections (see
`history.py`). Where each edge case comes from: `stories.py` (timelines, archived, trials,
rounding), `identities.py` (unicode names, custom fields, aliases), `invoices.py` and
`rating.py` (amounts).

Then the `contract_customers`, from their own RNG streams (`{seed}/contracts`,
`{seed}/contracts/history`) so that plan customers stay byte-identical whatever their
number: see `contract_stories.py` (the cases, account hierarchies among them),
`contract_invoices.py` (what they bill) and `ratecard.py` (prices, and how to compute MRR).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.metronome.catalog import Catalog, build_catalog
from sandbox.metronome.contract_accounts import contract_customers
from sandbox.metronome.contract_invoices import build_contract_invoice, contract_slots
from sandbox.metronome.contracts import Contract
from sandbox.metronome.history import apply_history
from sandbox.metronome.identities import customer_detail, make_identity, segment_of
from sandbox.metronome.invoices import build_plan_invoice
from sandbox.metronome.periods import add_months, month_start
from sandbox.metronome.stories import (
    StoryOutline,
    Subscription,
    align_end,
    archive_moment,
    draw_outline,
    plan_spans,
)
from sandbox.metronome.usage import draw_profile
from sandbox.metronome.wire import new_uuid


@dataclass(frozen=True)
class AccountSettings:
    seed: int
    customers: int
    months: int
    now: datetime
    contract_customers: int = 0

    @property
    def window_start(self) -> datetime:
        """The first month with invoices: `months` full months before now's month."""
        return add_months(month_start(self.now), -self.months)


@dataclass
class CustomerRecord:
    detail: dict[str, Any]  # Metronome's CustomerDetail
    subscriptions: list[Subscription]  # customer plans
    contracts: list[Contract] = field(default_factory=list)


@dataclass
class Account:
    settings: AccountSettings
    catalog: Catalog
    customers: list[CustomerRecord]
    invoices: list[dict[str, Any]]
    replacements: dict[str, str]  # voided invoice id -> the id of its regenerated invoice


def generate_account(settings: AccountSettings) -> Account:
    if settings.now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(settings.seed)
    catalog = build_catalog(rng)
    parents: list[str] = []  # Enterprise customers that can pay for others
    customers = [
        _customer(rng, index, catalog, settings, parents) for index in range(settings.customers)
    ]
    invoices = [
        build_plan_invoice(subscription, period, settings.now, settings.seed)
        for customer in customers
        for subscription in customer.subscriptions
        for period in subscription.periods(settings.window_start, settings.now)
    ]
    history = apply_history(random.Random(f"{settings.seed}/history"), invoices, settings.now)
    with_contracts = _contract_customers(settings, catalog)
    invoices += history.added + with_contracts.invoices
    replacements = {**history.replacements, **with_contracts.replacements}
    return Account(settings, catalog, customers + with_contracts.customers, invoices, replacements)


def _contract_customers(settings: AccountSettings, catalog: Catalog) -> Account:
    """The contract customers and their invoices, as an account of their own."""
    start, now = settings.window_start, settings.now
    drawn = contract_customers(
        settings.seed,
        settings.contract_customers,
        catalog,
        window_start=start,
        months=settings.months,
        index0=settings.customers,
    )
    customers = [CustomerRecord(c.detail, c.plan_subscriptions, c.contracts) for c in drawn]
    contracts = {c.id: c for customer in customers for c in customer.contracts}
    invoices = [
        build_plan_invoice(subscription, period, now, settings.seed)
        for customer in customers
        for subscription in customer.subscriptions
        for period in subscription.periods(start, now)
    ]
    invoices += [
        build_contract_invoice(contract, slot, now, contracts)
        for contract in contracts.values()
        for slot in contract_slots(contract, start, now)
    ]
    rng = random.Random(f"{settings.seed}/contracts/history")
    history = apply_history(rng, invoices, now, voidable=lambda invoice: True)
    return Account(settings, catalog, customers, invoices + history.added, history.replacements)


def _customer(
    rng: random.Random,
    index: int,
    catalog: Catalog,
    settings: AccountSettings,
    parents: list[str],
) -> CustomerRecord:
    outline = draw_outline(rng, index)
    customer_id = new_uuid(rng)
    region = "eur" if outline.family == "growth_eu" else "usd"
    identity = make_identity(rng, index, segment_of(outline.family), region)
    if outline.paying_parent and parents:
        # Hierarchies belong to contracts now (`payer` needs a contract id); the draw of the
        # plan-era payer stays so that each seed's plan customers stay what they were.
        rng.choice(parents)
    subscriptions = _subscriptions(rng, outline, catalog, settings, customer_id=customer_id)
    if outline.family == "enterprise":
        parents.append(customer_id)
    created_at = subscriptions[0].starting_on - timedelta(
        days=rng.randint(0, 20), seconds=rng.randrange(86400)
    )
    archived_at = archive_moment(rng, outline, subscriptions[-1].ending_before, settings.now)
    changes = [created_at, archived_at]
    for subscription in subscriptions:
        changes += [subscription.starting_on, subscription.ending_before]
    updated_at = max(c for c in changes if c is not None and c <= settings.now)
    detail = customer_detail(customer_id, identity, created_at, updated_at, archived_at)
    return CustomerRecord(detail, subscriptions)


def _subscriptions(
    rng: random.Random,
    outline: StoryOutline,
    catalog: Catalog,
    settings: AccountSettings,
    *,
    customer_id: str,
) -> list[Subscription]:
    subscriptions = []
    for span in plan_spans(rng, outline, settings.window_start, settings.months):
        plan = catalog.plans[span.family]
        trial_end = add_months(span.starting_on, plan.months_per_period) if span.trial else None
        order_form = {"order_form": f"OF-{rng.randrange(10000, 99999)}"}
        subscriptions.append(
            Subscription(
                id=new_uuid(rng),
                customer_id=customer_id,
                plan=plan,
                starting_on=span.starting_on,
                ending_before=align_end(span, plan.months_per_period),
                trial_ending_before=trial_end,
                usage=draw_profile(rng, span.family),
                outline=outline,
                net_payment_terms_days=rng.choice((15, 30, 30, 30, 45, 60)),
                custom_fields={} if span.family == "starter" else order_form,
            )
        )
    return subscriptions


def utc_day(moment: datetime | None) -> datetime:
    """`now` as the emulator uses it: given, or the start of the current UTC day."""
    if moment is None:
        today = datetime.now(UTC)
        return datetime(today.year, today.month, today.day, tzinfo=UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
