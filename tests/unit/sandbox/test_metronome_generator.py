"""The Metronome account generator: deterministic, internally consistent, every edge case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.metronome.generator import Account, AccountSettings, generate_account, utc_day
from sandbox.metronome.wire import USD_CENTS_ID, parse_timestamp, to_json
from tests.fixtures.metronome import PINNED_ACCOUNT, PINNED_NOW, totals_problems

NOW = datetime(2026, 6, 15, tzinfo=UTC)
Invoice = dict[str, Any]


@pytest.fixture(scope="module")
def default_account() -> Account:
    return generate_account(AccountSettings(seed=1, customers=60, months=12, now=NOW))


@pytest.fixture(scope="module")
def pinned_account() -> Account:
    seed, customers, months = (PINNED_ACCOUNT[k] for k in ("seed", "customers", "months"))
    return generate_account(AccountSettings(seed, customers, months, PINNED_NOW))


def serialised(account: Account) -> bytes:
    details = [customer.detail for customer in account.customers]
    plans = [s.to_api() for customer in account.customers for s in customer.subscriptions]
    charges = [c.to_api() for plan in account.catalog.plans.values() for c in plan.charges]
    return to_json([details, plans, charges, account.invoices, account.replacements])


def rounding_customers(account: Account) -> set[str]:
    return {
        customer.detail["id"]
        for customer in account.customers
        if customer.subscriptions[0].outline.rounds_line_totals
    }


def inconsistent_invoices(account: Account) -> dict[str, list[str]]:
    rounding = rounding_customers(account)
    found = {}
    for invoice in account.invoices:
        rounded = invoice["customer_id"] in rounding and invoice["type"] == "PLAN_ARREARS"
        if problems := totals_problems(invoice, rounded_lines=rounded):
            found[invoice["id"]] = problems
    return found


def test_same_settings_give_a_byte_identical_account() -> None:
    account_settings = AccountSettings(seed=3, customers=20, months=6, now=NOW)
    first = serialised(generate_account(account_settings))
    assert first == serialised(generate_account(account_settings))
    other_seed = AccountSettings(seed=4, customers=20, months=6, now=NOW)
    assert first != serialised(generate_account(other_seed))


def test_every_invoice_adds_up(default_account: Account) -> None:
    assert inconsistent_invoices(default_account) == {}


def test_only_flagged_customers_have_lines_that_do_not_add_up(default_account: Account) -> None:
    rounding = rounding_customers(default_account)
    strict = [
        invoice["customer_id"]
        for invoice in default_account.invoices
        if totals_problems(invoice)  # no rounding allowance
    ]
    assert strict  # the deliberate few exist...
    assert set(strict) <= rounding  # ...and only there


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    customers=st.integers(1, 14),
    months=st.integers(0, 8),
    now=st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
)
def test_any_account_adds_up_within_its_window(
    seed: int, customers: int, months: int, now: datetime
) -> None:
    account = generate_account(AccountSettings(seed, customers, months, now))
    assert inconsistent_invoices(account) == {}
    window_start = AccountSettings(seed, customers, months, now).window_start
    for invoice in account.invoices:
        start, end = _period(invoice)
        assert window_start <= start <= now
        assert (invoice["status"] == "DRAFT") == (now < end + timedelta(hours=24))


def test_plan_invoices_cover_whole_months_issued_the_day_after(default_account: Account) -> None:
    regenerated = set(default_account.replacements.values())  # issued when regenerated
    for invoice in default_account.invoices:
        start, end = _period(invoice)
        assert start.day == end.day == 1
        assert start.time() == end.time() == datetime.min.time()
        if invoice["type"] == "PLAN_ARREARS" and invoice["id"] not in regenerated:
            assert parse_timestamp(invoice["issued_at"]) == end + timedelta(days=1)


def test_the_window_is_the_months_before_now_plus_the_open_month(
    default_account: Account,
) -> None:
    starts = {_period(invoice)[0] for invoice in default_account.invoices}
    assert min(starts) == datetime(2025, 6, 1, tzinfo=UTC)
    assert max(starts) == datetime(2026, 6, 1, tzinfo=UTC)
    drafts = [i for i in default_account.invoices if i["status"] == "DRAFT"]
    assert drafts
    for draft in drafts:  # only the open period (a month, or a quarter) is still a draft
        start, end = _period(draft)
        assert start <= NOW < end


def test_regenerated_invoices_replace_their_voided_one(default_account: Account) -> None:
    by_id = {invoice["id"]: invoice for invoice in default_account.invoices}
    assert default_account.replacements
    for voided_id, new_id in default_account.replacements.items():
        voided, replacement = by_id[voided_id], by_id[new_id]
        assert voided["status"] == "VOID"
        assert replacement["status"] == "FINALIZED"
        assert _period(voided) == _period(replacement)
        assert voided["total"] == replacement["total"]


def test_corrections_point_at_finalized_invoices_of_their_customer(
    default_account: Account,
) -> None:
    by_id = {invoice["id"]: invoice for invoice in default_account.invoices}
    corrections = [i for i in default_account.invoices if i["type"] == "CORRECTION"]
    assert corrections
    for correction in corrections:
        corrected = by_id[correction["correction_record"]["corrected_invoice_id"]]
        assert corrected["status"] == "FINALIZED"
        assert corrected["customer_id"] == correction["customer_id"]
        assert _period(corrected) == _period(correction)
        assert correction["created_at"] > corrected["issued_at"]  # same RFC 3339 format
        assert _charge_ids(correction) <= _charge_ids(corrected)


def test_upgrades_end_one_plan_where_the_next_starts(default_account: Account) -> None:
    upgrades = [c.subscriptions for c in default_account.customers if len(c.subscriptions) > 1]
    assert upgrades
    for first, second in upgrades:
        assert first.ending_before == second.starting_on
        assert first.plan.id != second.plan.id


def test_plan_invoices_name_no_payer(default_account: Account) -> None:
    """Account hierarchies belong to contracts (`payer` needs a contract id)."""
    assert not [invoice for invoice in default_account.invoices if "payer" in invoice]


def test_now_defaults_to_the_start_of_the_current_utc_day() -> None:
    today = utc_day(None)
    assert today.tzinfo == UTC
    assert today.time() == datetime.min.time()
    assert datetime.now(UTC) - today < timedelta(days=1)
    assert utc_day(datetime(2026, 6, 15, 10, 30)) == datetime(2026, 6, 15, 10, 30, tzinfo=UTC)


def features_of(account: Account) -> set[str]:
    """Names of the edge cases an account shows (the table in the generator's docstrings)."""
    found = set()
    catalog = account.catalog
    if len(catalog.plans) == 6:
        found.add("six plans")
    charge_types = {c.charge_type for plan in catalog.plans.values() for c in plan.charges}
    if charge_types == {"usage", "fixed", "seat", "minimum"}:
        found.add("every charge type")
    units = [(unit.id, unit.name, unit.is_currency) for unit in catalog.credit_types]
    if units[0] == (USD_CENTS_ID, "USD (cents)", True) and units[1][1:] == ("EUR", True):
        found.add("USD (cents) and EUR")
    if units[2][1:] == ("Cloud credits", False):
        found.add("custom pricing unit")
    for customer in account.customers:
        found |= _customer_features(customer.detail)
        for subscription in customer.subscriptions:
            found |= {"trial"} if subscription.trial_ending_before else set()
            found |= {"ended plan"} if subscription.ending_before else set()
    for invoice in account.invoices:
        found |= _invoice_features(invoice)
    if account.replacements:
        found.add("regenerated")
    return found


def _customer_features(detail: dict[str, Any]) -> set[str]:
    found = {f"name with {kind}" for kind, char in NAME_MARKS.items() if char in detail["name"]}
    if detail["archived_at"]:
        found.add("archived customer")
    if {"email", "country", "segment"} <= set(detail["custom_fields"]) and detail["ingest_aliases"]:
        found.add("custom fields and aliases")
    return found


NAME_MARKS = {"accents": "é", "CJK": "株", "emoji": "🚀"}


def _invoice_features(invoice: Invoice) -> set[str]:
    found = {f"{invoice['status']} {invoice['type']}", f"in {invoice['credit_type']['name']}"}
    if "external_invoice" in invoice:
        found.add(f"external {invoice['external_invoice']['external_status']}")
    elif invoice["status"] == "FINALIZED":
        found.add("finalized without external invoice")
    if invoice["status"] == "FINALIZED" and invoice["total"] == 0:
        found.add("zero total")
    if invoice["type"] == "CORRECTION":
        found.add("credit correction" if invoice["total"] < 0 else "debit correction")
    if invoice["credit_type"]["id"] == USD_CENTS_ID and invoice["total"] % 1:
        found.add("fractional cents")
    if _months(invoice) == 3:
        found.add("quarterly period")
    for adjustment in invoice["invoice_adjustments"]:
        if adjustment["total"] > 0:
            found.add("minimum true-up")
        if adjustment["total"] < 0 and "credit_grant_id" in adjustment:
            found.add("credit grant")
    for line in invoice["line_items"]:
        found |= _line_features(line)
    return found


def _line_features(line: dict[str, Any]) -> set[str]:
    found = {"fractional quantity"} if line["quantity"] % 1 else set()
    if "sub_line_items" not in line:
        found.add("line without sub-lines")
    for sub_line in line.get("sub_line_items", []):
        if len(sub_line.get("tiers", [])) > 1 and "tier_period" in sub_line:
            found.add("tiers")
        if "start_date" in sub_line and "end_date" in sub_line:
            found.add("seat dates")
    return found


EXPECTED_FEATURES = {
    "six plans", "every charge type", "USD (cents) and EUR", "custom pricing unit",
    "trial", "ended plan", "regenerated", "name with accents", "name with CJK",
    "name with emoji", "archived customer", "custom fields and aliases",
    "FINALIZED PLAN_ARREARS", "DRAFT PLAN_ARREARS", "VOID PLAN_ARREARS", "FINALIZED CORRECTION",
    "in USD (cents)", "in EUR", "in Cloud credits", "external PAID", "external PAYMENT_FAILED",
    "external UNCOLLECTIBLE", "external SENT", "external FINALIZED", "external VOID",
    "finalized without external invoice", "zero total", "credit correction",
    "debit correction", "fractional cents", "quarterly period",
    "minimum true-up", "credit grant", "fractional quantity", "line without sub-lines",
    "tiers", "seat dates",
}  # fmt: skip


@pytest.fixture(scope="module")
def default_features(default_account: Account) -> set[str]:
    return features_of(default_account)


@pytest.fixture(scope="module")
def pinned_features(pinned_account: Account) -> set[str]:
    return features_of(pinned_account)


@pytest.mark.parametrize("feature", sorted(EXPECTED_FEATURES))
def test_the_default_and_the_pinned_accounts_show_every_feature(
    feature: str, default_features: set[str], pinned_features: set[str]
) -> None:
    assert feature in default_features
    assert feature in pinned_features


def _period(invoice: Invoice) -> tuple[datetime, datetime]:
    start = parse_timestamp(invoice["start_timestamp"])
    end = parse_timestamp(invoice["end_timestamp"])
    assert start is not None
    assert end is not None
    return start, end


def _charge_ids(invoice: Invoice) -> set[str]:
    return {
        sub_line["charge_id"]
        for line in invoice["line_items"]
        for sub_line in line.get("sub_line_items", [])
    }


def _months(invoice: Invoice) -> int:
    start, end = _period(invoice)
    return (end.year - start.year) * 12 + end.month - start.month


def test_money_is_decimal_throughout(default_account: Account) -> None:
    invoice = default_account.invoices[0]
    assert isinstance(invoice["total"], Decimal)
    assert all(isinstance(line["total"], Decimal) for line in invoice["line_items"])
