"""Fincome subscriptions of Metronome contract subscriptions (`contracts[].subscriptions[]`).

Each subscription of a staged contract is a Fincome subscription, whether or not it has
lines yet; a `subscription` line naming a subscription no staged contract holds gets one
too, built from its lines ("line-only"). A contract's other lines (usage, conversions,
one-off charges, commits) belong to the contract's own subscription (subscriptions.py,
source `contract`), which exists only when such a line does.

| Fincome field | from | rule |
|---|---|---|
| id | subscription `id` | a staged subscription without id is a reject |
| customer_id | customer `id` | |
| status | `starting_at`, `ending_before` vs as_of | (1) |
| canceled_at, effective_cancellation_date | `ending_before` | once past |
| subscription_start_date | `starting_at` | line-only: its earliest line start |
| trial_start, trial_end, subscription_set_id, deal_closed_date | - | null |
| contractual_commitment_end_date | - | null |
| monthly_value | its latest full-period line | (2) |
| currency_code | that line's invoice | |
| price_id | - | null: contract rates are not plan charges |
| custom_properties | subscription `custom_fields` | (3) |

(1) `canceled` once `ending_before` <= as_of, else `active` (also before it starts).
    Line-only: `canceled` once the latest period of its lines on non-void invoices ended.
(2) Among its `subscription` lines on FINALIZED invoices that are not prorated, those of the
    latest service period (then invoice date, id): their amount divided by that period's
    length in calendar months as Fincome counts them (an annual 12,000 line is 1,000, a
    quarterly 3,000 line is 1,000, a week of March 7/31 of a month), rounded half-even to
    the currency. A prorated line never sets it; null while there is no full-period line.
(3) Plus `metronome_contract_id`, `metronome_subscription_name`, `metronome_billing_frequency`,
    `metronome_collection_schedule`, `metronome_product_id`, `metronome_subscription_source`
    (`contract_subscription`, or `subscription_lines` for line-only ones).

Prorated lines get `proration_target_line_item_id`: the line of the same subscription, on a
FINALIZED invoice of the customer, not prorated, whose period holds theirs (the earliest such
line by invoice date and id); null when none is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import localcontext

from destinations.fincome.rows import InvoiceLineItemRow, SubscriptionRow
from pipelines.transform.header import Period
from pipelines.transform.inputs import Record
from pipelines.transform.money import MONEY_CONTEXT, Currency, sendable
from pipelines.transform.subscriptions import Recurring, subscription_fields
from pipelines.transform.values import (
    Row,
    custom_fields,
    custom_properties,
    identifier,
    optional_datetime,
    optional_record,
    records,
    text,
    to_datetime,
)


@dataclass(frozen=True)
class ContractSubscription:
    id: str
    contract_id: str
    starting_at: datetime
    ending_before: datetime | None
    properties: Row


def read_contract_subscription(subscription: Record, contract_id: str) -> ContractSubscription:
    rate = optional_record(subscription.get("subscription_rate"), "subscription_rate")
    product = optional_record(rate.get("product"), "subscription_rate.product")
    return ContractSubscription(
        id=identifier(subscription.get("id"), "subscription id"),
        contract_id=contract_id,
        starting_at=to_datetime(subscription.get("starting_at"), "starting_at"),
        ending_before=optional_datetime(subscription.get("ending_before"), "ending_before"),
        properties=custom_properties(
            custom_fields(subscription.get("custom_fields"), "custom_fields"),
            {
                "metronome_contract_id": contract_id,
                "metronome_subscription_name": text(subscription.get("name")),
                "metronome_billing_frequency": text(rate.get("billing_frequency")),
                "metronome_collection_schedule": text(subscription.get("collection_schedule")),
                "metronome_product_id": text(product.get("id")),
                "metronome_subscription_source": "contract_subscription",
            },
        ),
    )


def contract_subscriptions(contract: Record) -> list[Record]:
    """The subscriptions of a staged contract; `MappingError` if they are not a list."""
    return records(contract.get("subscriptions"), "subscriptions")


@dataclass(frozen=True)
class SubscriptionLine:
    """A mapped `subscription` line of a contract invoice, with what its rules need."""

    subscription: str  # the Metronome subscription id
    row: InvoiceLineItemRow  # the Fincome line, its proration target still to set
    period: Period
    prorated: bool
    finalized: bool  # on a FINALIZED invoice (not VOID)
    counted: bool  # on a non-void invoice
    order: tuple[datetime, str]  # invoice date, invoice id
    currency: Currency


def set_proration_targets(lines: Sequence[SubscriptionLine]) -> None:
    """Point each prorated line at the full-period line whose period holds its own."""
    full = sorted((line for line in lines if line.finalized and not line.prorated), key=_order)
    for line in lines:
        if not line.prorated:
            continue
        target = next(
            (
                candidate
                for candidate in full
                if candidate.subscription == line.subscription
                and candidate.period.start <= line.period.start
                and line.period.end <= candidate.period.end
            ),
            None,
        )
        line.row["proration_target_line_item_id"] = target.row["id"] if target else None


def recurring_by_subscription(lines: Iterable[SubscriptionLine]) -> dict[str, Recurring]:
    """Each subscription's monthly value from its latest full-period lines."""
    latest: dict[str, list[SubscriptionLine]] = {}
    for line in lines:
        if not line.finalized or line.prorated:
            continue
        kept = latest.get(line.subscription)
        if kept is None or _recency(line) > _recency(kept[0]):
            latest[line.subscription] = [line]
        elif _recency(line) == _recency(kept[0]):
            kept.append(line)
    found = {}
    for subscription, group in latest.items():
        recurring = _recurring(group)
        if recurring is not None:
            found[subscription] = recurring
    return found


def _recurring(group: list[SubscriptionLine]) -> Recurring | None:
    first = group[0]
    with localcontext(MONEY_CONTEXT):
        total = sum(line.row["amount_excluding_tax_after_discount"] for line in group)
        monthly = first.currency.round(total / first.period.calendar_months)
    if not sendable(monthly):
        return None
    return Recurring((first.period.start, *first.order), monthly, first.currency.code, None)


def _recency(line: SubscriptionLine) -> tuple[datetime, datetime, str]:
    return (line.period.start, *line.order)


def _order(line: SubscriptionLine) -> tuple[datetime, str]:
    return line.order


def subscription_row(
    subscription: ContractSubscription,
    customer_id: str,
    recurring: Recurring | None,
    as_of: datetime,
) -> SubscriptionRow:
    end = subscription.ending_before
    ended = end is not None and end <= as_of
    return subscription_fields(
        subscription.id,
        customer_id,
        status="canceled" if ended else "active",
        start=subscription.starting_at,
        trial=None,
        ended_at=end if ended else None,
        recurring=recurring,
        properties=subscription.properties,
    )


def line_only_row(
    subscription: str,
    customer_id: str,
    lines: Sequence[SubscriptionLine],
    recurring: Recurring | None,
    as_of: datetime,
) -> SubscriptionRow:
    """A subscription known only from its lines (its contract is not staged)."""
    counted = [line for line in lines if line.counted] or list(lines)
    last_end = max(line.period.end for line in counted)
    ended = last_end <= as_of
    return subscription_fields(
        subscription,
        customer_id,
        status="canceled" if ended else "active",
        start=min(line.period.start for line in lines),
        trial=None,
        ended_at=last_end if ended else None,
        recurring=recurring,
        properties={"metronome_subscription_source": "subscription_lines"},
    )
