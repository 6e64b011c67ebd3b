"""The Metronome emulator's state and rules, kept apart from the routes (as in moto).

`MetronomeStore` holds one generated account (price book, customers, customer plans,
invoices) and its clock `now`. Reads answer ready-to-send JSON bytes, lists in Metronome's
envelope; writes are Metronome's void and regenerate plus the test helpers inject and patch.
Moving the clock is `clock.advance`; `/_emulator/state` is `snapshot.dump`.

Orders (Metronome documents none but the invoices'): customers by id; a customer's invoices
by (`issued_at`, id), ascending or descending; plans, charges, credit types and customer
plans as generated.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.metronome.book import InvoiceBook, StoredInvoice, invoice_sort_key
from sandbox.metronome.contract_invoices import historical
from sandbox.metronome.contract_params import ContractGetQuery, ContractListQuery
from sandbox.metronome.contract_wire import contract_to_api
from sandbox.metronome.contracts import Contract
from sandbox.metronome.errors import BadRequest, NotFound
from sandbox.metronome.filters import CustomerFilter
from sandbox.metronome.generator import Account, AccountSettings, generate_account
from sandbox.metronome.lifecycle import mark_void, regenerated
from sandbox.metronome.paging import PageRequest, keyset_page, single
from sandbox.metronome.params import InvoiceQuery
from sandbox.metronome.stories import Subscription
from sandbox.metronome.wire import to_json

SORTS = ("date_asc", "date_desc")


@dataclass
class CustomerEntry:
    detail: dict[str, Any]
    subscriptions: list[Subscription]
    json: bytes
    plans: list[bytes]
    contracts: list[Contract]  # by (starting_at, id)


class MetronomeStore:
    def __init__(self, settings: AccountSettings, *, default_sort: str = "date_asc") -> None:
        if default_sort not in SORTS:
            raise ValueError(f"default_sort must be one of {SORTS}")
        self.default_sort = default_sort
        self.load(generate_account(settings))

    def load(self, account: Account) -> None:
        """Replace everything with `account`, its clock at the account's `now`."""
        self.account = account
        self.settings = account.settings
        self.now = account.settings.now
        self.rng = random.Random(f"{account.settings.seed}/api")  # ids the API makes
        entries = [
            CustomerEntry(
                record.detail,
                record.subscriptions,
                to_json(record.detail),
                [to_json(subscription.to_api()) for subscription in record.subscriptions],
                sorted(record.contracts, key=_contract_key),
            )
            for record in account.customers
        ]
        self.customers = sorted(entries, key=lambda entry: entry.detail["id"])
        self.customer_by_id = {entry.detail["id"]: entry for entry in self.customers}
        self.book = InvoiceBook()
        for invoice in account.invoices:
            self.book.put(StoredInvoice(invoice["id"], invoice, invoice["customer_id"]))
        self.replacements = dict(account.replacements)
        self._injected = 0
        plans = list(account.catalog.plans.values())
        self._plans = [to_json(plan.summary()) for plan in plans]
        self._plan_details = {plan.id: single(to_json(plan.detail())) for plan in plans}
        self._charges = {plan.id: [to_json(c.to_api()) for c in plan.charges] for plan in plans}
        self._credit_types = [to_json(unit.to_api()) for unit in account.catalog.credit_types]

    def subscriptions(self) -> Iterator[Subscription]:
        for entry in self.customers:
            yield from entry.subscriptions

    def contracts(self) -> Iterator[Contract]:
        for entry in self.customers:
            yield from entry.contracts

    # reads

    def list_customers(self, customer_filter: CustomerFilter, request: PageRequest) -> bytes:
        return keyset_page(
            self.customers,
            request,
            key=lambda entry: (entry.detail["id"],),
            render=lambda entry: entry.json,
            keep=lambda entry: customer_filter.matches(entry.detail),
        ).to_json()

    def customer(self, customer_id: str) -> bytes:
        return single(self._customer(customer_id).json)

    def customer_plans(self, customer_id: str, request: PageRequest) -> bytes:
        return _positional_page(self._customer(customer_id).plans, request)

    def list_invoices(self, customer_id: str, query: InvoiceQuery) -> bytes:
        entry = self._customer(customer_id)
        invoice_filter = query.filter
        if not query.include_historical_commit_invoices and entry.contracts:
            hidden = frozenset(i for c in entry.contracts for i in historical(c, self.now))
            invoice_filter = dataclasses.replace(invoice_filter, hidden=hidden)
        render = _without_zero_lines if query.skip_zero_qty_line_items else StoredInvoice.json
        return keyset_page(
            self.book.of_customer(customer_id),
            query.page,
            key=invoice_sort_key,
            render=render,
            keep=None if invoice_filter.is_open else invoice_filter.matches,
        ).to_json()

    def invoice(self, customer_id: str, invoice_id: str, skip_zero_lines: bool = False) -> bytes:
        self._customer(customer_id)
        stored = self.book.get(invoice_id)
        if stored is None or stored.listed_under != customer_id:
            raise NotFound(f"invoice {invoice_id} not found for customer {customer_id}")
        return single(_without_zero_lines(stored) if skip_zero_lines else stored.json())

    def list_contracts(self, query: ContractListQuery) -> bytes:
        """A customer's contracts by `starting_at` then id, paged by a body `cursor`."""
        entry = self._customer(query.customer_id)
        return keyset_page(
            entry.contracts,
            PageRequest(limit=query.limit, cursor=query.cursor),
            key=_contract_key,
            render=lambda contract: to_json(
                contract_to_api(
                    contract,
                    self.now,
                    balance=query.include_balance,
                    ledgers=query.include_ledgers,
                )
            ),
            keep=lambda contract: _listed(contract, query),
        ).to_json(cursor_field="cursor")

    def contract(self, query: ContractGetQuery) -> bytes:
        entry = self._customer(query.customer_id)
        found = next((c for c in entry.contracts if c.id == query.contract_id), None)
        if found is None:
            raise NotFound(f"contract {query.contract_id} not found for {query.customer_id}")
        body = contract_to_api(
            found,
            query.as_of_date or self.now,
            balance=query.include_balance,
            ledgers=query.include_ledgers,
        )
        return single(to_json(body))

    def plans(self, request: PageRequest) -> bytes:
        return _positional_page(self._plans, request)

    def plan_detail(self, plan_id: str) -> bytes:
        if plan_id not in self._plan_details:
            raise NotFound(f"plan {plan_id} not found")
        return self._plan_details[plan_id]

    def plan_charges(self, plan_id: str, request: PageRequest) -> bytes:
        if plan_id not in self._charges:
            raise NotFound(f"plan {plan_id} not found")
        return _positional_page(self._charges[plan_id], request)

    def credit_types(self, request: PageRequest) -> bytes:
        return _positional_page(self._credit_types, request)

    # Metronome's writes

    def void(self, invoice_id: str) -> str:
        stored = self.stored_invoice(invoice_id)
        if stored.status == "DRAFT":
            raise BadRequest(f"invoice {invoice_id} is a DRAFT; only finalized invoices void")
        if stored.status != "VOID":
            mark_void(stored.body)
            self.replace_body(stored, stored.body)
        return invoice_id

    def regenerate(self, invoice_id: str) -> str:
        """A new FINALIZED invoice for a voided one; asking again answers the same id."""
        stored = self.stored_invoice(invoice_id)
        if stored.status != "VOID":
            raise BadRequest(f"invoice {invoice_id} is {stored.status}; only VOID regenerates")
        if invoice_id not in self.replacements:
            replacement = regenerated(stored.body, self.rng, self.now, self.now)
            self.book.put(StoredInvoice(replacement["id"], replacement, stored.listed_under))
            self.replacements[invoice_id] = replacement["id"]
        return self.replacements[invoice_id]

    # test helpers

    def inject(self, raw: bytes, customer_id: str | None = None) -> str:
        """Store an invoice exactly as sent; it is listed under `customer_id` (else its own)."""
        body = _json_object(raw)
        listed_under = customer_id or body.get("customer_id")
        if not isinstance(listed_under, str) or listed_under not in self.customer_by_id:
            raise BadRequest("an injected invoice needs the customer_id of a known customer")
        key = body.get("id")
        if not isinstance(key, str):
            self._injected += 1
            key = f"injected-{self._injected}"
        self.book.put(StoredInvoice(key, body, listed_under, raw=raw.strip()))
        return key

    def patch(self, invoice_id: str, raw: bytes) -> bytes:
        """Merge fields into an invoice (RFC 7386: objects merge, null removes a field)."""
        stored = self.stored_invoice(invoice_id)
        changes = _json_object(raw)
        if "id" in changes and changes["id"] != stored.body.get("id"):
            raise BadRequest("an invoice's id cannot be changed")
        return single(self.replace_body(stored, merge_patch(stored.body, changes)).json())

    # shared with the clock

    def stored_invoice(self, invoice_id: str) -> StoredInvoice:
        stored = self.book.get(invoice_id)
        if stored is None:
            raise NotFound(f"invoice {invoice_id} not found")
        return stored

    def replace_body(self, stored: StoredInvoice, body: dict[str, Any]) -> StoredInvoice:
        """Store a changed invoice body: re-indexed, re-serialised on the next read."""
        fresh = StoredInvoice(stored.key, body, stored.listed_under)
        self.book.put(fresh)
        return fresh

    def _customer(self, customer_id: str) -> CustomerEntry:
        entry = self.customer_by_id.get(customer_id)
        if entry is None:
            raise NotFound(f"customer {customer_id} not found")
        return entry


def _without_zero_lines(stored: StoredInvoice) -> bytes:
    """`skip_zero_qty_line_items`: the invoice without its lines of quantity zero."""
    lines = stored.body.get("line_items")
    if not isinstance(lines, list):
        return stored.json()
    kept = [line for line in lines if not (isinstance(line, dict) and line.get("quantity") == 0)]
    return to_json({**stored.body, "line_items": kept})


def _contract_key(contract: Contract) -> tuple[str, str]:
    return (contract.starting_at.isoformat(), contract.id)


def _listed(contract: Contract, query: ContractListQuery) -> bool:
    if contract.archived_at is not None and not query.include_archived:
        return False
    if query.starting_at is not None and contract.starting_at < query.starting_at:
        return False
    moment = query.covering_date
    if moment is None:
        return True
    ends = contract.ending_before
    return contract.starting_at <= moment and (ends is None or moment < ends)


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A new dict: `patch` merged into `target` without touching either."""
    merged = dict(target)
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = merge_patch(merged[name], value)
        else:
            merged[name] = value
    return merged


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw, parse_float=Decimal)  # exact numbers, as the emulator keeps them
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("the body must be a JSON object")
    return parsed


def _positional_page(items: list[bytes], request: PageRequest) -> bytes:
    """Fixed lists (plans, charges, credit types, customer plans) page by position."""
    numbered = list(enumerate(items))
    return keyset_page(
        numbered, request, key=lambda item: (f"{item[0]:08d}",), render=lambda item: item[1]
    ).to_json()
