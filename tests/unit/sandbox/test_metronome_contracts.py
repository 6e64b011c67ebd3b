"""The contracts account: every case in the scripted stories, totals, SDK shapes, determinism."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metronome.types.shared.contract_v2 import ContractV2
from metronome.types.v1.customer_detail import CustomerDetail
from metronome.types.v1.customers.invoice import Invoice

from sandbox.metronome.clock import advance
from sandbox.metronome.contract_invoices import build_contract_invoice, contract_slots
from sandbox.metronome.contract_stories import SCRIPTED_CONTRACT_STORIES
from sandbox.metronome.contract_wire import contract_to_api
from sandbox.metronome.generator import Account, AccountSettings, generate_account
from sandbox.metronome.store import MetronomeStore
from sandbox.metronome.wire import parse_timestamp, to_json

NOW = datetime(2026, 6, 15, tzinfo=UTC)
SCRIPTED = len(SCRIPTED_CONTRACT_STORIES)
ZERO = Decimal(0)
Invoice_ = dict[str, Any]


@pytest.fixture(scope="module")
def mixed() -> Account:
    return generate_account(AccountSettings(7, 12, 6, NOW, contract_customers=SCRIPTED))


def contract_invoices(account: Account) -> list[Invoice_]:
    return [invoice for invoice in account.invoices if "contract_id" in invoice]


def total_problem(invoice: Invoice_) -> str | None:
    """The total is the sum of the lines in the invoice's unit, applied POSTPAID excluded."""
    fiat = invoice["credit_type"]["id"]
    counted = [
        line["total"]
        for line in invoice["line_items"]
        if line["credit_type"]["id"] == fiat
        and (line.get("applied_commit_or_credit") or {}).get("type") != "POSTPAID"
    ]
    if sum(counted, ZERO) == invoice["total"] == invoice["subtotal"]:
        return None
    return f"{invoice['id']}: lines {sum(counted, ZERO)} != total {invoice['total']}"


def features(account: Account) -> set[str]:
    found = set()
    for invoice in contract_invoices(account):
        found.add(f"{invoice['type']} invoice")
        found |= {"unbillable invoice"} if invoice["billable_status"] == "unbillable" else set()
        found |= {"payer with contract"} if "contract_id" in invoice.get("payer", {}) else set()
        found |= {"regenerated"} if "regenerated_from_invoice_id" in invoice else set()
        found |= {"constituents"} if invoice.get("constituent_invoices") else set()
        for line in invoice["line_items"]:
            found.add(f"{line['type']} line")
            applied = line.get("applied_commit_or_credit")
            found |= {f"applied {applied['type']}"} if applied else set()
            found |= {"prorated"} if line.get("is_prorated") else set()
            found |= {"true-up"} if "postpaid_commit" in line else set()
            found |= {"origin"} if "origin" in line else set()
            found |= {"tier"} if "tier" in line and line.get("pricing_group_values") else set()
            found |= {"zero quantity"} if line.get("quantity") == 0 else set()
            found |= {f"{_months(line)}-month line"} if line["type"] == "subscription" else set()
    for customer in account.customers:
        status = customer.detail.get("current_billable_status", {}).get("value")
        found |= {f"{status} customer"} if status else set()
        found |= {"moved from a plan"} if customer.subscriptions and customer.contracts else set()
        for contract in customer.contracts:
            found |= {"archived contract"} if contract.archived_at else set()
            found |= {"EUR contract"} if contract.credit_type.name == "EUR" else set()
            for subscription in contract.subscriptions:
                found.add(f"{subscription.collection} {subscription.product.frequency}")
                found |= {"subscription end"} if subscription.ending_before else set()
    return found


EXPECTED = {
    "USAGE invoice", "SCHEDULED invoice", "CREDIT_PURCHASE invoice", "SEAT_PURCHASE invoice",
    "USAGE_CONSOLIDATED invoice", "unbillable invoice", "payer with contract", "regenerated",
    "constituents", "usage line", "subscription line", "scheduled line", "commit_purchase line",
    "applied_commit_or_credit line", "cpu_conversion line", "applied PREPAID", "applied CREDIT",
    "applied POSTPAID", "prorated", "true-up", "origin", "tier", "zero quantity",
    "12-month line", "3-month line", "1-month line", "unbillable customer", "billable customer",
    "moved from a plan", "archived contract", "EUR contract", "ADVANCE ANNUAL",
    "ADVANCE MONTHLY", "ARREARS QUARTERLY", "ARREARS MONTHLY", "subscription end",
}  # fmt: skip


@pytest.mark.parametrize("feature", sorted(EXPECTED))
def test_the_scripted_stories_show_every_case(mixed: Account, feature: str) -> None:
    assert feature in features(mixed)


def test_contract_invoices_add_up_with_the_postpaid_rule(mixed: Account) -> None:
    assert [p for i in contract_invoices(mixed) if (p := total_problem(i))] == []


def test_an_applied_postpaid_line_is_outside_the_total(mixed: Account) -> None:
    postpaid = [
        invoice
        for invoice in contract_invoices(mixed)
        if any(
            (line.get("applied_commit_or_credit") or {}).get("type") == "POSTPAID"
            for line in invoice["line_items"]
        )
    ]
    assert postpaid
    for invoice in postpaid:
        assert sum((line["total"] for line in invoice["line_items"]), ZERO) < invoice["total"]


def test_everything_validates_against_the_sdk(mixed: Account) -> None:
    for invoice in mixed.invoices:
        Invoice.model_validate(json.loads(to_json(invoice)))
    for customer in mixed.customers:
        CustomerDetail.model_validate(json.loads(to_json(customer.detail)))
        for contract in customer.contracts:
            body = contract_to_api(contract, NOW, balance=True, ledgers=True)
            assert ContractV2.model_validate(json.loads(to_json(body))).customer_id
    assert all(
        "contract_id" in invoice["payer"] for invoice in mixed.invoices if "payer" in invoice
    )


def test_plan_customers_do_not_change_when_contract_customers_are_added(mixed: Account) -> None:
    plans_only = generate_account(AccountSettings(7, 12, 6, NOW))
    ids = {invoice["id"] for invoice in plans_only.invoices}
    same = [invoice for invoice in mixed.invoices if invoice["id"] in ids]
    assert to_json(same) == to_json(plans_only.invoices)
    details = [customer.detail for customer in mixed.customers[:12]]
    assert to_json(details) == to_json([c.detail for c in plans_only.customers])


def test_same_settings_give_a_byte_identical_contracts_account() -> None:
    settings_ = AccountSettings(3, 4, 6, NOW, contract_customers=14)
    first, again = generate_account(settings_), generate_account(settings_)
    assert to_json(first.invoices) == to_json(again.invoices)
    contracts = [contract_to_api(c, NOW) for r in first.customers for c in r.contracts]
    assert to_json(contracts) == to_json(
        [contract_to_api(c, NOW) for r in again.customers for c in r.contracts]
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 14), months=st.integers(0, 8))
def test_any_contracts_account_adds_up(seed: int, count: int, months: int) -> None:
    account = generate_account(AccountSettings(seed, 2, months, NOW, contract_customers=count))
    assert [p for i in contract_invoices(account) if (p := total_problem(i))] == []


def test_a_draft_finalizes_under_its_id_as_a_pure_function_of_its_slot() -> None:
    store = MetronomeStore(AccountSettings(7, 2, 6, NOW, contract_customers=SCRIPTED))
    drafts = {s.key for s in store.book if s.status == "DRAFT" and "contract_id" in s.body}
    report = advance(store, days=31)
    assert drafts <= set(report["finalized"])
    contracts = {contract.id: contract for contract in store.contracts()}
    start = store.settings.window_start
    for contract in contracts.values():
        for slot in contract_slots(contract, start, store.now):
            built = build_contract_invoice(contract, slot, store.now, contracts)
            stored = store.book.get(built["id"])
            assert stored is not None
            if stored.status != "VOID" and built["id"] in drafts:
                assert stored.body == built


def _months(line: dict[str, Any]) -> int:
    start, end = parse_timestamp(line["starting_at"]), parse_timestamp(line["ending_before"])
    assert start is not None
    assert end is not None
    return (end.year - start.year) * 12 + end.month - start.month
