"""Hypothesis strategies for realistic Metronome accounts, valid by construction.

`accounts()` draws a plan catalog, a few customers with their customer plans and invoices
(line items, sub-line items, tiers, seats, adjustments, external invoices, payers,
corrections, consolidated invoices) and the mapping options, all shaped as staging hands
them to the transform. Every invoice adds up exactly and every reference resolves, so the
transform must map all of it; `junk.py` then breaks these records in every way it can.
Amounts carry more decimal places than their currency has, as Metronome's often do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pipelines.transform.inputs import CatalogLike, CustomerBundleLike, StagedCustomer
from pipelines.transform.options import MappingOptions
from tests.reliability.plan_catalog import (
    CHARGE_IDS,
    CHARGES,
    CREDITS,
    CREDITS_AS_EUR,
    FIAT,
    PLANS,
    UNIT_PLACES,
    Record,
    catalog,
)

LINE_TYPES = ("usage", "fixed", "seat", "subscription", "scheduled", "commit_purchase")
# Contract invoices speak the contract vocabulary; these three bill a service period of
# their own, which a contract line must carry (DESIGN.md §4b).
CONTRACT_LINE_TYPES = ("usage", "subscription", "cpu_conversion", "scheduled", "commit_purchase")
OWN_PERIOD = frozenset({"usage", "subscription", "cpu_conversion"})
INVOICE_TYPES = ("PLAN_ARREARS", "USAGE", "SCHEDULED", "CREDIT_PURCHASE", "SEAT_PURCHASE")
EXTERNAL_STATUSES = ("PAID", "FINALIZED", "PAYMENT_FAILED", "UNCOLLECTIBLE", "VOID", "DRAFT")
TIMESTAMP_STYLES = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.000Z", "%Y-%m-%dT%H:%M:%S+00:00")


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible runs (no example database, derandomized), no per-example deadline."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@dataclass(frozen=True)
class Account:
    """One Metronome account as staged: catalog, customers, and the mapping options."""

    catalog: CatalogLike
    customers: Sequence[CustomerBundleLike]
    options: MappingOptions

    @property
    def record_count(self) -> int:
        catalog = self.catalog
        catalog_size = sum(
            len(table) if isinstance(table, dict) else 1
            for table in (catalog.plans, catalog.plan_charges, catalog.credit_types)
        )
        return catalog_size + sum(
            1 + len(bundle.plans) + len(bundle.invoices) for bundle in self.customers
        )


def timestamp(moment: datetime, style: str = TIMESTAMP_STYLES[0]) -> str:
    return moment.strftime(style)


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)


def amounts(credit_type: Record, low: int = -(10**6), high: int = 10**7) -> st.SearchStrategy:
    """Amounts in the credit type's unit, with up to 3 more places than its minor unit."""
    places = UNIT_PLACES[credit_type["name"]] + 3
    scale = 10**places  # integers scaled down: much faster to draw than st.decimals
    return st.integers(low * scale, high * scale).map(lambda n: _plain(Decimal(n).scaleb(-places)))


def _plain(amount: Decimal) -> Decimal:
    """How staging hands numbers over: no exponent, no negative zero."""
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount


@st.composite
def sub_line_items(
    draw: st.DrawFn, credit_type: Record, period: tuple[datetime, datetime]
) -> Record:
    charge_id = draw(st.sampled_from(CHARGE_IDS))
    sub: Record = {
        "name": CHARGES.get(charge_id, {}).get("name", "Retired charge"),
        "charge_id": charge_id,
        "custom_fields": {},
    }
    shape = draw(st.sampled_from(["tiered", "flat", "seats"]))
    if shape == "tiered":
        return {**sub, **draw(tiered(credit_type, period))}
    quantity: int | Decimal = draw(
        st.integers(0, 40) | st.integers(0, 40_000).map(lambda n: _plain(Decimal(n) / 1000))
    )
    price = draw(amounts(credit_type, 0, 10**5))
    sub.update(quantity=quantity, price=price, subtotal=_plain(quantity * price))
    if shape == "seats":
        sub["start_date"] = timestamp(period[0] + timedelta(days=draw(st.integers(0, 20))))
        sub["end_date"] = timestamp(period[1])
    return sub


@st.composite
def tiered(draw: st.DrawFn, credit_type: Record, period: tuple[datetime, datetime]) -> Record:
    """The tiers of a usage charge and the quantity and subtotal they add up to."""
    tiers, start = [], 0
    for _ in range(draw(st.integers(1, 3))):
        count, price = draw(st.integers(0, 5000)), draw(amounts(credit_type, 0, 50))
        tiers.append(
            {
                "starting_at": start,
                "quantity": count,
                "price": price,
                "subtotal": _plain(count * price),
            }
        )
        start += count
    return {
        "quantity": start,
        "tiers": tiers,
        "subtotal": _plain(sum((t["subtotal"] for t in tiers), Decimal(0))),
        "tier_period": {"starting_at": timestamp(period[0])},
    }


@st.composite
def line_items(
    draw: st.DrawFn, credit_type: Record, period: tuple[datetime, datetime], contract: bool
) -> Record:
    kind = draw(st.sampled_from(CONTRACT_LINE_TYPES if contract else LINE_TYPES))
    line: Record = {
        "name": draw(st.sampled_from(["API calls", "Platform", "Onboarding", "Seats"])),
        "type": kind,
        "credit_type": credit_type,
        "custom_fields": {},
    }
    if draw(st.booleans()):
        line["product_id"] = draw(st.sampled_from(["prod-api", "prod-platform", "prod-seats"]))
    if (contract and kind in OWN_PERIOD) or draw(st.booleans()):
        line["starting_at"], line["ending_before"] = (timestamp(m) for m in period)
    if contract and kind == "subscription":
        line["subscription_id"] = draw(st.sampled_from(["sub-platform", "sub-seats"]))
        line["is_prorated"] = draw(st.booleans())
    subs = draw(st.lists(sub_line_items(credit_type, period), max_size=3))
    remainder = draw(st.sampled_from([Decimal(0), Decimal(0), draw(amounts(credit_type))]))
    line["sub_line_items"] = subs
    line["total"] = _plain(sum((s["subtotal"] for s in subs), remainder))
    if not subs and draw(st.booleans()):
        line["quantity"] = draw(st.integers(1, 10))
    return line


def applied_commit(credit_type: Record, kind: str, total: Decimal) -> Record:
    """A commit or credit drawn down; a POSTPAID one is left out of the invoice's total."""
    return {
        "name": f"{kind} commit",
        "type": "applied_commit_or_credit",
        "total": -abs(total),
        "credit_type": credit_type,
        "applied_commit_or_credit": {"id": "commit-1", "type": kind},
    }


@st.composite
def invoices(draw: st.DrawFn, customer_id: str, number: int, options: MappingOptions) -> Record:
    """One plan or contract invoice of the customer (corrections are added by `customers`)."""
    credit_types = [*FIAT, CREDITS] if options.pricing_units else list(FIAT)
    credit_type = draw(st.sampled_from(credit_types))
    start = add_months(datetime(2024, 1, 1, tzinfo=UTC), draw(st.integers(0, 14)))
    end = add_months(start, draw(st.sampled_from([1, 1, 3, 12])))
    style = draw(st.sampled_from(TIMESTAMP_STYLES))
    contract = draw(st.integers(0, 4)) == 0
    lines = draw(st.lists(line_items(credit_type, (start, end), contract), max_size=3))
    adjustments = [
        {"name": name, "total": total, "credit_type": credit_type, **extra}
        for name, total, extra in draw(
            st.lists(
                st.sampled_from(
                    [
                        ("Monthly minimum", Decimal(500), {}),
                        ("Credit grant", Decimal(-250), {"credit_grant_id": "grant-1"}),
                        ("Rounding", Decimal(0), {}),
                    ]
                ),
                max_size=2,
            )
        )
    ]
    subtotal = sum((line["total"] for line in lines), Decimal(0))
    if draw(st.booleans()):  # commits drawn down, prepaid (counted) or postpaid (not counted)
        kind = draw(st.sampled_from(["PREPAID", "CREDIT", "POSTPAID"]))
        lines.append(applied_commit(credit_type, kind, draw(amounts(credit_type, 0, 10**4))))
        subtotal += lines[-1]["total"] if kind != "POSTPAID" else 0
    invoice: Record = {
        "id": f"{customer_id}-inv-{number}",
        "customer_id": customer_id,
        "type": draw(st.sampled_from(INVOICE_TYPES)),
        "status": draw(st.sampled_from(["FINALIZED", "FINALIZED", "VOID", "DRAFT"])),
        "credit_type": credit_type,
        "start_timestamp": timestamp(start, style),
        "end_timestamp": timestamp(end, style),
        "net_payment_terms_days": 30,
        "custom_fields": draw(st.sampled_from([{}, {"po": "PO-17"}, {"region": "eu", "n": 3}])),
        "customer_custom_fields": {},
        "line_items": lines,
        "invoice_adjustments": adjustments,
        "subtotal": _plain(subtotal),
        "total": _plain(subtotal + sum((a["total"] for a in adjustments), Decimal(0))),
    }
    if draw(st.integers(0, 3)):
        invoice["issued_at"] = timestamp(end + timedelta(days=1), style)
    if contract:
        invoice.update(contract_id=f"{customer_id}-contract", contract_custom_fields={"c": "1"})
    else:
        plan_id = draw(st.sampled_from(sorted(PLANS)))
        invoice.update(plan_id=plan_id, plan_name=PLANS[plan_id]["name"], plan_custom_fields={})
    if draw(st.booleans()):
        invoice["external_invoice"] = {
            "billing_provider_type": "stripe",
            "invoice_id": f"in_{customer_id}_{number}",
            "external_status": draw(st.sampled_from(EXTERNAL_STATUSES)),
        }
    return invoice


@st.composite
def corrections(draw: st.DrawFn, corrected: Record, number: int) -> Record:
    """A correction of `corrected`: a refund (credit note) or an extra charge (an invoice)."""
    sign = draw(st.sampled_from([-1, -1, 1]))
    lines = [
        {**line, "total": sign * abs(line["total"]), "sub_line_items": []}
        for line in corrected["line_items"]
        if line.get("type") != "applied_commit_or_credit"
    ]
    total = _plain(sum((line["total"] for line in lines), Decimal(0)))
    return {
        **corrected,
        "id": f"{corrected['customer_id']}-inv-{number}",
        "type": draw(st.sampled_from(["CORRECTION", corrected["type"]])),
        "status": draw(st.sampled_from(["FINALIZED", "FINALIZED", "VOID"])),
        "created_at": corrected.get("issued_at") or corrected["end_timestamp"],
        "line_items": lines,
        "invoice_adjustments": [],
        "subtotal": total,
        "total": total,
        "correction_record": {
            "corrected_invoice_id": corrected["id"],
            "reason": "overbilled",
            "memo": "API calls counted twice",
        },
    }


@st.composite
def customer_plans(draw: st.DrawFn, customer_id: str, number: int) -> Record:
    plan_id = draw(st.sampled_from(sorted(PLANS)))
    start = add_months(datetime(2023, 12, 1, tzinfo=UTC), draw(st.integers(0, 8)))
    plan: Record = {
        "id": f"{customer_id}-cp-{number}",
        "plan_id": plan_id,
        "plan_name": PLANS[plan_id]["name"],
        "plan_description": "",
        "starting_on": timestamp(start),
        "custom_fields": draw(st.sampled_from([{}, {"order_form": "OF-9"}])),
        "customer_id": customer_id,
    }
    if draw(st.booleans()):
        plan["ending_before"] = timestamp(add_months(start, draw(st.integers(1, 30))))
    if draw(st.integers(0, 3)) == 0:
        plan["trial_info"] = {
            "ending_before": timestamp(start + timedelta(days=14)),
            "spending_caps": [],
        }
    return plan


@st.composite
def customer_records(draw: st.DrawFn, customer_id: str) -> Record:
    return {
        "id": customer_id,
        "name": draw(st.sampled_from(["Acme", "Globex Ltd.", "Initech GmbH", "Umbrella"])),
        "external_id": customer_id,
        "ingest_aliases": [customer_id, f"{customer_id}@example.test"],
        "custom_fields": {
            "email": f"billing@{customer_id}.test",
            "country": "FR",
            "zip_code": "75001",
        },
        "customer_config": {"salesforce_account_id": None},
        "created_at": "2023-11-02T10:00:00Z",
        "updated_at": "2024-01-05T10:00:00Z",
        "archived_at": draw(st.sampled_from([None, None, "2025-01-01T00:00:00Z"])),
    }


@st.composite
def customers(
    draw: st.DrawFn, customer_id: str, everyone: list[str], options: MappingOptions
) -> StagedCustomer:
    customer = draw(customer_records(customer_id))
    plans = [draw(customer_plans(customer_id, k)) for k in range(draw(st.integers(0, 2)))]
    bills = [draw(invoices(customer_id, k, options)) for k in range(draw(st.integers(0, 4)))]
    payers = [other for other in everyone if other != customer_id]
    for bill in bills:
        if payers and draw(st.integers(0, 3)) == 0:
            payer = draw(st.sampled_from(payers))
            bill["payer"] = {"customer_id": payer, "contract_id": f"{payer}-contract"}
    pushed = [b for b in bills if b["status"] != "DRAFT"]
    corrects = draw(st.booleans())
    if pushed and corrects:
        bills.append(draw(corrections(draw(st.sampled_from(pushed)), len(bills))))
    if draw(st.integers(0, 5)) == 0:  # an account hierarchy's roll-up of child invoices
        consolidated = draw(invoices(customer_id, len(bills), options))
        origin = {"contract_id": f"{customer_id}-child", "customer_id": f"{customer_id}-child"}
        copies = [
            {**line, "origin": {**origin, "invoice_id": "child-inv", "line_item_id": f"L{n}"}}
            for n, line in enumerate(consolidated["line_items"])
        ]  # every consolidated line is a copy of a constituent's line (the SDK's `origin`)
        constituent = {**origin, "invoice_id": "child-inv"}
        bills.append(
            {
                **consolidated,
                "type": "USAGE_CONSOLIDATED",
                "line_items": copies,
                "constituent_invoices": [constituent],
            }
        )
    return StagedCustomer(customer, plans, bills)


@st.composite
def mapping_options(draw: st.DrawFn) -> MappingOptions:
    return MappingOptions(
        credit_note_sign=draw(st.sampled_from(["negative", "positive"])),
        consolidated_invoices=draw(st.sampled_from(["skip", "keep"])),
        pricing_units=draw(st.sampled_from([{}, CREDITS_AS_EUR])),
    )


@st.composite
def accounts(draw: st.DrawFn, max_customers: int = 3) -> Account:
    options = draw(mapping_options())
    ids = [f"cus-{n}" for n in range(draw(st.integers(1, max_customers)))]
    bundles = [draw(customers(customer_id, ids, options)) for customer_id in ids]
    return Account(catalog(), bundles, options)
