"""Cut a Metronome invoice into the lines Fincome will hold, with stable position ids.

| Fincome line id | from |
|---|---|
| `{invoice_id}:L{i}.S{j}` | sub-line item j of line item i (array positions, from 0) |
| `{invoice_id}:L{i}` | line item i when it has no sub-line items |
| `{invoice_id}:L{i}.R` | the part of line item i's total its sub-lines do not explain |
| `{invoice_id}:A{k}` | invoice adjustment k when its total is not zero |

Amounts stay in the invoice's credit type here; `money.balance` converts and rounds them (a
remainder that rounds to zero is then left out: it is rounding noise, not a charge).
Line items applying a postpaid commit are no lines: Metronome leaves them out of the total
(they are kept as the invoice's `postpaid` information). Line items of contract invoices
follow their type's rule (contract_lines.py); a line in a custom pricing unit on a fiat
contract invoice carries no amount (its `cpu_conversion` line is the money).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from pipelines.transform.contract_lines import ContractRule, contract_rule
from pipelines.transform.header import InvoiceHeader, Period, period_of
from pipelines.transform.inputs import Record
from pipelines.transform.values import (
    MappingError,
    Row,
    custom_fields,
    custom_properties,
    decimal_text,
    optional_datetime,
    optional_decimal,
    optional_identifier,
    optional_record,
    preview,
    records,
    text,
    to_decimal,
)

LineKind = Literal["sub_line", "line", "remainder", "adjustment"]
ADJUSTMENT_PRODUCT = "metronome:adjustment"
UNLINKED_PRODUCT = "metronome:unlinked"


@dataclass(frozen=True)
class Tier:
    starting_at: Decimal
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class DraftLine:
    """One future Fincome line, before money conversion."""

    suffix: str  # the part of the id after `{invoice_id}:`
    kind: LineKind
    amount: Decimal  # in the invoice's credit type
    description: str | None
    product_id: str  # Fincome product id
    product_name: str | None  # the Metronome line item's name, a fallback product name
    line_type: str  # Metronome line item `type`, lower case ("adjustment" for adjustments)
    charge_id: str | None = None
    quantity: Decimal | None = None
    period: Period | None = None  # seat dates, else the line item's own period
    tiers: tuple[Tier, ...] = ()
    properties: Row = field(default_factory=dict)  # Metronome custom fields and ids
    contract: ContractRule | None = None  # the rule of a contract invoice's line


@dataclass(frozen=True)
class PostpaidApplied:
    """An applied POSTPAID commit: shown on the invoice, outside its total, so not a line."""

    commit_id: str | None
    amount: Decimal  # in the invoice's credit type


@dataclass(frozen=True)
class Drafted:
    lines: list[DraftLine]
    postpaid: list[PostpaidApplied]


def draft_lines(
    invoice: Record, header: InvoiceHeader, is_fiat: Callable[[object], bool]
) -> Drafted:
    """Every line of the invoice in position order; `MappingError` on malformed ones.

    `is_fiat` tells a currency's credit type from a custom pricing unit's.
    """
    drafts: list[DraftLine] = []
    postpaid: list[PostpaidApplied] = []
    for i, item in enumerate(records(invoice.get("line_items"), "line_items")):
        where = f"line_items[{i}]"
        if not header.is_contract and _is_postpaid_commit(item):
            postpaid.append(_postpaid(item, where))
            continue
        base = _line_item(item, i)
        if header.is_contract:
            rule = contract_rule(item, where, base.amount, base.period is not None)
            if rule.postpaid_applied:
                postpaid.append(_postpaid(item, where))
                continue
            base = _under_rule(base, rule)
        cut = _cut(item, base, where)
        if header.is_contract and _in_custom_unit(item, header, where, is_fiat):
            cut = [_without_amount(draft, item) for draft in cut]
        else:
            _check_credit_type(item, header, where)
        drafts.extend(cut)
    for k, adjustment in enumerate(
        records(invoice.get("invoice_adjustments"), "invoice_adjustments")
    ):
        draft = _adjustment(adjustment, k)
        if draft.amount:
            drafts.append(draft)
    return Drafted(drafts, postpaid)


def _line_item(item: Record, i: int) -> DraftLine:
    """The line item itself, before its sub-lines are cut out of it."""
    where = f"line_items[{i}]"
    name = text(item.get("name"))
    return DraftLine(
        suffix=f"L{i}",
        kind="line",
        amount=to_decimal(item.get("total"), f"{where}.total"),
        description=name,
        product_id=optional_identifier(item.get("product_id")) or UNLINKED_PRODUCT,
        product_name=name,
        line_type=(text(item.get("type")) or "").lower(),
        quantity=optional_decimal(item.get("quantity"), f"{where}.quantity"),
        period=period_of(
            optional_datetime(item.get("starting_at"), f"{where}.starting_at"),
            optional_datetime(item.get("ending_before"), f"{where}.ending_before"),
        ),
        properties=custom_properties(custom_fields(item.get("custom_fields"), where)),
    )


def _under_rule(line: DraftLine, rule: ContractRule) -> DraftLine:
    return replace(
        line, contract=rule, properties=custom_properties(line.properties, dict(rule.ids))
    )


def _cut(item: Record, base: DraftLine, where: str) -> list[DraftLine]:
    """Its sub-lines, and the remainder of its total they do not explain; else itself."""
    subs = records(item.get("sub_line_items"), f"{where}.sub_line_items")
    if not subs:
        return [base]
    drafts = [_sub_line(sub, base, f"{where}.sub_line_items[{j}]", j) for j, sub in enumerate(subs)]
    remainder = base.amount - sum((d.amount for d in drafts), Decimal(0))
    if remainder:
        name = base.description
        drafts.append(
            replace(
                base,
                suffix=f"{base.suffix}.R",
                kind="remainder",
                amount=remainder,
                description=f"{name} (remainder)" if name else "Remainder",
                quantity=None,
            )
        )
    return drafts


def _sub_line(sub: Record, line: DraftLine, where: str, j: int) -> DraftLine:
    seats = period_of(
        optional_datetime(sub.get("start_date"), f"{where}.start_date"),
        optional_datetime(sub.get("end_date"), f"{where}.end_date"),
    )
    charge_id = optional_identifier(sub.get("charge_id"))
    ids = {
        "metronome_charge_id": charge_id,
        "metronome_credit_grant_id": sub.get("credit_grant_id"),
    }
    return replace(
        line,
        suffix=f"{line.suffix}.S{j}",
        kind="sub_line",
        amount=to_decimal(sub.get("subtotal"), f"{where}.subtotal"),
        description=text(sub.get("name")) or line.description,
        charge_id=charge_id,
        quantity=optional_decimal(sub.get("quantity"), f"{where}.quantity"),
        period=seats or line.period,
        tiers=_tiers(sub.get("tiers"), f"{where}.tiers"),
        properties=custom_properties(
            line.properties, custom_fields(sub.get("custom_fields"), where), ids
        ),
    )


def _adjustment(adjustment: Record, k: int) -> DraftLine:
    where = f"invoice_adjustments[{k}]"
    grant_fields = custom_fields(adjustment.get("credit_grant_custom_fields"), where)
    grant_id = {"metronome_credit_grant_id": adjustment.get("credit_grant_id")}
    amount = to_decimal(adjustment.get("total"), f"{where}.total")
    # A charge that is not a credit grant is a minimum commitment's true-up.
    is_minimum = amount > 0 and not adjustment.get("credit_grant_id")
    return DraftLine(
        suffix=f"A{k}",
        kind="adjustment",
        amount=amount,
        description=text(adjustment.get("name")),
        product_id=ADJUSTMENT_PRODUCT,
        product_name=None,
        line_type="minimum" if is_minimum else "adjustment",
        properties=custom_properties(grant_fields, grant_id),
    )


def _tiers(value: object, where: str) -> tuple[Tier, ...]:
    return tuple(
        Tier(
            starting_at=to_decimal(tier.get("starting_at"), f"{where}[{n}].starting_at"),
            quantity=to_decimal(tier.get("quantity"), f"{where}[{n}].quantity"),
            price=to_decimal(tier.get("price"), f"{where}[{n}].price"),
        )
        for n, tier in enumerate(records(value, where))
    )


def _is_postpaid_commit(item: Record) -> bool:
    applied = item.get("applied_commit_or_credit")
    return isinstance(applied, dict) and applied.get("type") == "POSTPAID"


def _postpaid(item: Record, where: str) -> PostpaidApplied:
    applied = optional_record(item.get("applied_commit_or_credit"), where)
    amount = to_decimal(item.get("total"), f"{where}.total")
    return PostpaidApplied(optional_identifier(applied.get("id")), amount)


def _in_custom_unit(
    item: Record, header: InvoiceHeader, where: str, is_fiat: Callable[[object], bool]
) -> bool:
    """A line in a custom pricing unit on an invoice in a currency (converted elsewhere)."""
    credit_type = item.get("credit_type")
    line_id = text(optional_record(credit_type, f"{where}.credit_type").get("id"))
    invoice_id = text(optional_record(header.credit_type, "credit_type").get("id"))
    if line_id is None or line_id == invoice_id:
        return False
    return is_fiat(header.credit_type) and not is_fiat(credit_type)


def _without_amount(draft: DraftLine, item: Record) -> DraftLine:
    unit = optional_record(item.get("credit_type"), "credit_type")
    properties = {
        "metronome_custom_unit_total": decimal_text(draft.amount),
        "metronome_custom_unit": text(unit.get("name")) or text(unit.get("id")),
    }
    return replace(
        draft, amount=Decimal(0), properties=custom_properties(draft.properties, properties)
    )


def _check_credit_type(item: Record, header: InvoiceHeader, where: str) -> None:
    """Lines in another unit than the invoice would make its total meaningless."""
    # compared as text: an id that is a number (NaN even) must not make the comparison raise
    line_type = text(optional_record(item.get("credit_type"), f"{where}.credit_type").get("id"))
    invoice_type = text(optional_record(header.credit_type, "credit_type").get("id"))
    if line_type is not None and invoice_type is not None and line_type != invoice_type:
        raise MappingError(
            f"{where} is in credit type {preview(line_type)} but the invoice is in "
            f"{preview(invoice_type)}"
        )
