"""The rule of each Metronome line item type (contract-era invoices, DESIGN.md §4b).

| Metronome line item | Fincome line | type | period | subscription_id |
|---|---|---|---|---|
| `subscription` | yes | `subscription` | its own (1) | its `subscription_id` (2) |
| `subscription`, `is_prorated` | yes | `subscription` | its own partial one | (2), (3) |
| `usage` | yes | `subscription` (4) | its own (1) | the contract (5) |
| `cpu_conversion` | yes: the fiat money of custom-unit spend | `subscription` | its own (1) | (5) |
| a line in a custom pricing unit | yes, amount 0 (6) | by its own type | | (5) |
| `scheduled`, `commit_purchase` | yes | `one_off` | none | (5) |
| `applied_commit_or_credit` PREPAID / CREDIT | yes, negative (7) | `one_off` | none | (5) |
| `applied_commit_or_credit` POSTPAID | no: not money (8) | | | |
| any line with `postpaid_commit` (a true-up) | yes | `one_off` | none | (5) |
| any other type or shape | the invoice is set aside with the reason (9) | | | |

(1) `starting_at` / `ending_before` of the line, never the invoice's: an annual subscription
    line on a monthly invoice keeps its year. A `subscription`, `usage` or `cpu_conversion`
    line without both is a reject.
(2) Required on a `subscription` line (else a reject); the Fincome subscription of that id
    (contract_subscriptions.py).
(3) `proration_target_line_item_id`: the full-period line of the same subscription whose
    period holds the prorated one, among the customer's finalized invoices; else null.
(4) As on plan invoices: a charge of its service period, counted in MRR.
(5) The contract's own subscription (id = `contract_id`): usage, conversions, one-off charges
    and commits are the contract's variable and one-time revenue, kept apart from the fixed
    price of its subscriptions, whose `monthly_value` must stay their price.
(6) On a fiat invoice, lines in a custom pricing unit are converted by the `cpu_conversion`
    line (or drawn from a commit in that unit): they carry no amount of their own. Their
    amount in units stays in `metronome_custom_unit_total` / `metronome_custom_unit`. A line
    in another fiat currency than its invoice is a reject.
(7) A positive applied line is a reject (Metronome documents them as negative).
(8) Metronome leaves the application of a postpaid commit out of the invoice total (it is
    paid in arrears by its true-up): it becomes the invoice's `metronome_postpaid_applied`.
(9) An unknown `type`, an applied line without its `applied_commit_or_credit` (or with an
    unknown kind), an `applied_commit_or_credit` on another line type.
`[mapping.line_types]` overrides the type per product, as for plan lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipelines.transform.inputs import Record
from pipelines.transform.options import LineType
from pipelines.transform.values import (
    MappingError,
    optional_identifier,
    optional_record,
    preview,
    text,
)

APPLIED = "applied_commit_or_credit"
APPLIED_KINDS = frozenset({"PREPAID", "POSTPAID", "CREDIT"})
# Metronome's line item types on contract invoices (the SDK's `LineItem.type` docstring).
CONTRACT_LINE_TYPES: dict[str, LineType] = {
    "usage": "subscription",
    "subscription": "subscription",
    "cpu_conversion": "subscription",
    "scheduled": "one_off",
    "commit_purchase": "one_off",
    APPLIED: "one_off",
}
NEEDS_OWN_PERIOD = frozenset({"usage", "subscription", "cpu_conversion"})


@dataclass(frozen=True)
class ContractRule:
    """How one contract-era line item maps."""

    line_type: LineType
    subscription_ref: str | None = None  # the Metronome subscription of a `subscription` line
    prorated: bool = False
    postpaid_applied: bool = False  # not money: left out of the lines
    ids: tuple[tuple[str, str | None], ...] = ()  # Metronome ids kept as custom properties


def contract_rule(item: Record, where: str, total: Decimal, has_period: bool) -> ContractRule:
    """The rule of a line item of a contract invoice, or `MappingError` when none covers it."""
    kind = (text(item.get("type")) or "").lower()
    fixed = CONTRACT_LINE_TYPES.get(kind)
    if fixed is None:
        raise MappingError(f"{where} has type {preview(item.get('type'))}: no rule maps it")
    applied_kind = _applied_kind(item, kind, where)
    if applied_kind is not None and total > 0:
        raise MappingError(f"{where} applies a commit or credit with a positive total")
    if kind in NEEDS_OWN_PERIOD and not has_period:
        raise MappingError(f"{where} is a {kind} line without its own service period")
    reference = optional_identifier(item.get("subscription_id"))
    if kind == "subscription" and reference is None:
        raise MappingError(f"{where} is a subscription line without subscription_id")
    true_up = optional_record(item.get("postpaid_commit"), f"{where}.postpaid_commit")
    return ContractRule(
        line_type="one_off" if true_up else fixed,
        subscription_ref=reference if kind == "subscription" else None,
        prorated=item.get("is_prorated") is True,
        postpaid_applied=applied_kind == "POSTPAID",
        ids=(
            ("metronome_line_type", kind),
            ("metronome_subscription_id", reference),
            ("metronome_is_prorated", "true" if item.get("is_prorated") is True else None),
            ("metronome_applied_type", applied_kind),
            ("metronome_commit_id", optional_identifier(item.get("commit_id"))),
            ("metronome_scheduled_charge_id", optional_identifier(item.get("scheduled_charge_id"))),
            ("metronome_postpaid_commit_id", optional_identifier(true_up.get("id"))),
            *_origin(item, where),
        ),
    )


def _applied_kind(item: Record, kind: str, where: str) -> str | None:
    detail = optional_record(item.get(APPLIED), f"{where}.{APPLIED}")
    if kind != APPLIED:
        if detail:
            raise MappingError(f"{where} is a {kind} line carrying {APPLIED}: no rule maps it")
        return None
    if not detail:
        raise MappingError(f"{where} is an {APPLIED} line without its {APPLIED}")
    applied_kind = text(detail.get("type"))
    if applied_kind not in APPLIED_KINDS:
        raise MappingError(f"{where}.{APPLIED}.type {preview(detail.get('type'))} is unknown")
    return applied_kind


def _origin(item: Record, where: str) -> tuple[tuple[str, str | None], ...]:
    """Where a USAGE_CONSOLIDATED line was copied from."""
    origin = optional_record(item.get("origin"), f"{where}.origin")
    return (
        ("metronome_origin_customer_id", optional_identifier(origin.get("customer_id"))),
        ("metronome_origin_invoice_id", optional_identifier(origin.get("invoice_id"))),
        ("metronome_origin_line_item_id", optional_identifier(origin.get("line_item_id"))),
    )
