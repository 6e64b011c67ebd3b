"""Fincome subscriptions: Metronome customer plans, plus plans and contracts seen only on invoices.

An invoice belongs to the customer plan of its `plan_id` whose [starting_on, ending_before)
holds the invoice's service start (the latest-starting one if several do). Without such a
customer plan its subscription is `{customer_id}:{plan_id}`; a contract invoice's is its
`contract_id`. Those two kinds ("invoice-only") are built from their invoices alone.

| Fincome field | from | rule |
|---|---|---|
| id | customer plan `id` | else `{customer_id}:{plan_id}`; contract invoices: `contract_id` |
| customer_id | customer `id` | |
| status | plan dates vs `as_of` | (1) |
| subscription_set_id | - | null |
| trial_start, trial_end | `starting_on`, `trial_info.ending_before` | only with a trial |
| canceled_at | `ending_before` | once past; invoice-only: end of their latest period |
| effective_cancellation_date | `ending_before` | same as canceled_at |
| subscription_start_date | `starting_on` | invoice-only: earliest service start |
| deal_closed_date | - | null |
| contractual_commitment_end_date | - | null |
| monthly_value | latest finalized invoice with `subscription` lines | (2) |
| currency_code | that invoice | |
| price_id | that invoice's `subscription` lines | their price if they share one, else null |
| custom_properties | plan and customer plan `custom_fields` | (3) |

(1) `canceled` once `ending_before` <= as_of; `trialing` while starting_on <= as_of < trial
    end; else `active` (also for a plan that starts later). Invoice-only: `canceled` when the
    latest period of their non-void invoices (drafts included) ended by as_of, else `active`.
(2) The sum of those lines divided by the invoice's period in months, rounded half-even to
    the currency; null while there is no such invoice. Only the lines linked to this
    subscription count; a contract invoice's lines each divide by their own period in
    calendar months (contract_subscriptions.py). Contract subscriptions are mapped in
    contract_subscriptions.py.
(3) Plan (catalog) custom fields, then customer plan custom fields, plus `metronome_plan_id`,
    `metronome_plan_name`, `metronome_subscription_source` (`customer_plan`, `plan_invoices`
    or `contract`). Contracts: `contract_custom_fields` and `metronome_contract_id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Literal

from destinations.fincome.rows import InvoiceLineItemRow, SubscriptionRow
from pipelines.transform.header import InvoiceHeader, period_of
from pipelines.transform.inputs import Record
from pipelines.transform.money import MONEY_CONTEXT, Currency, sendable
from pipelines.transform.values import (
    Row,
    custom_fields,
    custom_properties,
    identifier,
    optional_datetime,
    optional_record,
    text,
    to_datetime,
)

Source = Literal["customer_plan", "plan_invoices", "contract"]


@dataclass(frozen=True)
class PlanTerm:
    """A customer plan: which plan a customer is on, from when to when."""

    id: str
    plan_id: str
    plan_name: str | None
    starting_on: datetime
    ending_before: datetime | None
    trial_end: datetime | None
    custom_fields: Record

    def holds(self, moment: datetime) -> bool:
        return self.starting_on <= moment and (
            self.ending_before is None or moment < self.ending_before
        )


def read_plan_term(plan: Record) -> PlanTerm:
    trial = optional_record(plan.get("trial_info"), "trial_info")
    return PlanTerm(
        id=identifier(plan.get("id"), "customer plan id"),
        plan_id=identifier(plan.get("plan_id"), "plan_id"),
        plan_name=text(plan.get("plan_name")),
        starting_on=to_datetime(plan.get("starting_on"), "starting_on"),
        ending_before=optional_datetime(plan.get("ending_before"), "ending_before"),
        trial_end=optional_datetime(trial.get("ending_before"), "trial_info.ending_before"),
        custom_fields=custom_fields(plan.get("custom_fields"), "custom_fields"),
    )


def subscription_id(
    header: InvoiceHeader, terms: Iterable[PlanTerm], customer_id: str
) -> str | None:
    """The subscription an invoice belongs to, None when it has no plan or contract."""
    if header.contract_id:
        return header.contract_id
    if not header.plan_id:
        return None
    start = header.service_start
    holding = [t for t in terms if t.plan_id == header.plan_id and start and t.holds(start)]
    if holding:
        return max(holding, key=lambda t: (t.starting_on, t.id)).id
    return f"{customer_id}:{header.plan_id}"


@dataclass(frozen=True, order=True)
class Recurring:
    """What the latest finalized invoice with subscription lines says about a subscription."""

    sort_key: tuple[datetime, datetime, str]  # service start, date, invoice id
    monthly_value: Decimal
    currency_code: str
    price_id: str | None


@dataclass
class SubscriptionFacts:
    """What a customer's invoices say about one subscription; filled invoice by invoice."""

    source: Source
    first_start: datetime | None = None
    last_end: datetime | None = None  # latest period end of non-void invoices, drafts included
    latest: InvoiceHeader | None = None  # newest invoice, for invoice-only subscriptions
    recurring: Recurring | None = None

    def observe(self, header: InvoiceHeader) -> None:
        start = header.service_start
        if start is not None and (self.first_start is None or start < self.first_start):
            self.first_start = start
        if header.status != "VOID" and header.period is not None:
            end = header.period.end
            self.last_end = end if self.last_end is None else max(self.last_end, end)
        if self.latest is None or _newness(header) > _newness(self.latest):
            self.latest = header

    def offer_recurring(self, recurring: Recurring) -> None:
        if self.recurring is None or recurring.sort_key > self.recurring.sort_key:
            self.recurring = recurring


def term_row(
    term: PlanTerm,
    customer_id: str,
    facts: SubscriptionFacts | None,
    plan: Record,
    as_of: datetime,
) -> SubscriptionRow:
    ended = term.ending_before is not None and term.ending_before <= as_of
    trialing = term.trial_end is not None and term.starting_on <= as_of < term.trial_end
    plan_fields = plan.get("custom_fields")
    return subscription_fields(
        term.id,
        customer_id,
        status="canceled" if ended else "trialing" if trialing else "active",
        start=term.starting_on,
        ended_at=term.ending_before if ended else None,
        trial=(term.starting_on, term.trial_end) if term.trial_end else None,
        recurring=facts.recurring if facts else None,
        properties=custom_properties(
            plan_fields if isinstance(plan_fields, Mapping) else {},
            term.custom_fields,
            _source("customer_plan", term.plan_id, term.plan_name or text(plan.get("name"))),
        ),
    )


def invoice_only_row(
    subscription: str, customer_id: str, facts: SubscriptionFacts, as_of: datetime
) -> SubscriptionRow:
    latest = facts.latest
    ended = facts.last_end is None or facts.last_end <= as_of
    if latest is not None and facts.source == "contract":
        properties = custom_properties(
            latest.contract_custom_fields,
            {
                "metronome_contract_id": latest.contract_id,
                "metronome_subscription_source": "contract",
            },
        )
    else:
        plan_id = latest.plan_id if latest else None
        properties = custom_properties(
            latest.plan_custom_fields if latest else {},
            _source("plan_invoices", plan_id, latest.plan_name if latest else None),
        )
    return subscription_fields(
        subscription,
        customer_id,
        status="canceled" if ended else "active",
        start=facts.first_start,
        ended_at=facts.last_end if ended else None,
        trial=None,
        recurring=facts.recurring,
        properties=properties,
    )


def subscription_fields(
    subscription: str,
    customer_id: str,
    *,
    status: str,
    start: datetime | None,
    ended_at: datetime | None,
    trial: tuple[datetime, datetime] | None,
    recurring: Recurring | None,
    properties: Row,
) -> SubscriptionRow:
    return {
        "id": subscription,
        "customer_id": customer_id,
        "status": status,
        "subscription_set_id": None,
        "trial_start": trial[0] if trial else None,
        "trial_end": trial[1] if trial else None,
        "canceled_at": ended_at,
        "effective_cancellation_date": ended_at,
        "subscription_start_date": start,
        "deal_closed_date": None,
        "contractual_commitment_end_date": None,
        "monthly_value": recurring.monthly_value if recurring else None,
        "currency_code": recurring.currency_code if recurring else None,
        "price_id": recurring.price_id if recurring else None,
        "custom_properties": properties,
    }


def _source(source: Source, plan_id: str | None, plan_name: str | None) -> Row:
    return {
        "metronome_plan_id": plan_id,
        "metronome_plan_name": plan_name,
        "metronome_subscription_source": source,
    }


def _newness(header: InvoiceHeader) -> tuple[str, str]:
    moment = header.service_start
    return (moment.isoformat() if moment else "", header.id)


def recurring_of(
    header: InvoiceHeader,
    currency: Currency,
    lines: Iterable[InvoiceLineItemRow],
    subscription: str,
) -> Recurring | None:
    """The monthly value of a finalized invoice's `subscription` lines of `subscription`.

    None without any. A plan invoice's lines are divided by its period in months; a contract
    invoice's each by its own period in calendar months (contract_subscriptions.py).
    """
    recurring = [
        line
        for line in lines
        if line["type"] == "subscription" and line["subscription_id"] == subscription
    ]
    start = header.service_start
    if header.status != "FINALIZED" or not recurring or start is None or header.date is None:
        return None
    months = header.period.months if header.period else 1
    with localcontext(MONEY_CONTEXT):
        total = sum((_monthly(line, header, months) for line in recurring), Decimal(0))
        monthly = currency.round(total)
    if not sendable(monthly):
        return None
    prices = {line["price_id"] for line in recurring}
    return Recurring(
        sort_key=(start, header.date, header.id),
        monthly_value=monthly,
        currency_code=currency.code,
        price_id=prices.pop() if len(prices) == 1 else None,
    )


def _monthly(line: InvoiceLineItemRow, header: InvoiceHeader, invoice_months: int) -> Decimal:
    amount = line["amount_excluding_tax_after_discount"]
    if not header.is_contract:
        return amount / invoice_months
    period = period_of(line["period_start"], line["period_end"])
    assert period is not None  # a subscription line always has its period (`line_type`)
    return amount / period.calendar_months
