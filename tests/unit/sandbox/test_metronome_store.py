"""The Metronome emulator's store: pagination, filters, void/regenerate, inject/patch, advance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from sandbox.metronome.clock import advance
from sandbox.metronome.errors import BadRequest, NotFound
from sandbox.metronome.filters import CustomerFilter, InvoiceFilter
from sandbox.metronome.generator import AccountSettings
from sandbox.metronome.paging import PageRequest
from sandbox.metronome.params import InvoiceQuery
from sandbox.metronome.store import MetronomeStore, merge_patch
from tests.fixtures.metronome import totals_problems

NOW = datetime(2026, 6, 15, tzinfo=UTC)
OPEN = InvoiceFilter()


@pytest.fixture
def store() -> MetronomeStore:
    return MetronomeStore(AccountSettings(seed=7, customers=12, months=6, now=NOW))


def parse(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def all_invoices(
    store: MetronomeStore,
    customer_id: str,
    invoice_filter: InvoiceFilter = OPEN,
    *,
    limit: int = 1,
    descending: bool = False,
) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        request = PageRequest(limit, cursor, descending)
        page = parse(store.list_invoices(customer_id, InvoiceQuery(invoice_filter, request)))
        assert len(page["data"]) <= limit
        found += page["data"]
        cursor = page["next_page"]
        if cursor is None:
            return found


def busiest_customer(store: MetronomeStore) -> str:
    customer_id: str = max(store.customer_by_id, key=lambda c: len(store.book.of_customer(c)))
    return customer_id


def test_customer_pages_visit_every_active_customer_once(store: MetronomeStore) -> None:
    seen, cursor = [], None
    while True:
        page = parse(store.list_customers(CustomerFilter(), PageRequest(5, cursor)))
        seen += [customer["id"] for customer in page["data"]]
        if (cursor := page["next_page"]) is None:
            break
    active = [c for c in store.customers if c.detail["archived_at"] is None]
    assert sorted(seen) == seen == sorted(c.detail["id"] for c in active)


def test_only_archived_lists_archived_customers_only(store: MetronomeStore) -> None:
    page = parse(store.list_customers(CustomerFilter(only_archived=True), PageRequest(100)))
    assert page["data"]
    assert all(customer["archived_at"] for customer in page["data"])


def test_customers_filter_by_ids_and_ingest_alias(store: MetronomeStore) -> None:
    wanted = [entry.detail for entry in store.customers[:3] if not entry.detail["archived_at"]]
    by_ids = CustomerFilter(customer_ids=frozenset(c["id"] for c in wanted))
    page = parse(store.list_customers(by_ids, PageRequest(100)))
    assert {c["id"] for c in page["data"]} == {c["id"] for c in wanted}
    alias = wanted[0]["ingest_aliases"][0]
    page = parse(store.list_customers(CustomerFilter(ingest_alias=alias), PageRequest(100)))
    assert [c["id"] for c in page["data"]] == [wanted[0]["id"]]


@pytest.mark.parametrize("descending", [False, True])
def test_invoice_pages_of_one_visit_every_invoice_once_in_issued_order(
    store: MetronomeStore, descending: bool
) -> None:
    customer_id = busiest_customer(store)
    invoices = all_invoices(store, customer_id, descending=descending)
    keys = [(invoice["issued_at"], invoice["id"]) for invoice in invoices]
    assert keys == sorted(keys, reverse=descending)
    assert len(invoices) == len(store.book.of_customer(customer_id)) > 3


def test_a_cursor_survives_an_invoice_added_between_pages(store: MetronomeStore) -> None:
    customer_id = busiest_customer(store)
    first = parse(store.list_invoices(customer_id, InvoiceQuery(OPEN, PageRequest(2))))
    early = {"id": "early", "customer_id": customer_id, "issued_at": "2000-01-01T00:00:00Z"}
    store.inject(json.dumps(early).encode())
    rest = parse(
        store.list_invoices(customer_id, InvoiceQuery(OPEN, PageRequest(100, first["next_page"])))
    )
    ids = [i["id"] for i in first["data"] + rest["data"]]
    assert "early" not in ids  # it sorts before the cursor: the next pages do not repeat it
    assert len(ids) == len(set(ids)) == len(store.book.of_customer(customer_id)) - 1


def test_a_foreign_cursor_is_a_bad_request(store: MetronomeStore) -> None:
    with pytest.raises(BadRequest):
        store.list_invoices(
            busiest_customer(store), InvoiceQuery(OPEN, PageRequest(5, "not-a-cursor"))
        )


def test_status_filter(store: MetronomeStore) -> None:
    customer_id = busiest_customer(store)
    drafts = all_invoices(store, customer_id, InvoiceFilter(statuses=frozenset({"DRAFT"})))
    assert drafts
    assert {invoice["status"] for invoice in drafts} == {"DRAFT"}


def test_dates_filter_on_the_billing_period(store: MetronomeStore) -> None:
    customer_id = busiest_customer(store)
    march = InvoiceFilter(
        starting_on=datetime(2026, 3, 1, tzinfo=UTC),
        ending_before=datetime(2026, 4, 1, tzinfo=UTC),
    )
    invoices = all_invoices(store, customer_id, march)
    assert invoices
    for invoice in invoices:
        assert invoice["start_timestamp"] == "2026-03-01T00:00:00Z"
        assert invoice["end_timestamp"] == "2026-04-01T00:00:00Z"  # ends by, not after


def test_credit_type_filter(store: MetronomeStore) -> None:
    eur = store.account.catalog.credit_types[1]
    euro_customers = [
        c.detail["id"] for c in store.customers if c.subscriptions[0].plan.credit_type == eur
    ]
    usd_only = InvoiceFilter(credit_type_id=store.account.catalog.credit_types[0].id)
    assert all_invoices(store, euro_customers[0], usd_only) == []


def test_unknown_ids_are_not_found(store: MetronomeStore) -> None:
    customer_id = busiest_customer(store)
    with pytest.raises(NotFound):
        store.customer("nope")
    with pytest.raises(NotFound):
        store.list_invoices("nope", InvoiceQuery(OPEN, PageRequest(5)))
    with pytest.raises(NotFound):
        store.invoice(customer_id, "nope")
    other_customer_invoice = next(s.key for s in store.book if s.listed_under != customer_id)
    with pytest.raises(NotFound):
        store.invoice(customer_id, other_customer_invoice)
    with pytest.raises(NotFound):
        store.plan_detail("nope")


def finalized_plan_invoice(store: MetronomeStore) -> str:
    return next(
        s.key for s in store.book if s.status == "FINALIZED" and s.body["type"] == "PLAN_ARREARS"
    )


def test_void_keeps_the_id_and_regenerate_makes_a_new_finalized_invoice(
    store: MetronomeStore,
) -> None:
    invoice_id = finalized_plan_invoice(store)
    voided = store.stored_invoice(invoice_id)
    assert store.void(invoice_id) == invoice_id
    assert voided.body["status"] == "VOID"
    new_id = store.regenerate(invoice_id)
    assert new_id != invoice_id
    replacement = parse(store.invoice(voided.listed_under, new_id))["data"]
    assert replacement["status"] == "FINALIZED"
    assert replacement["start_timestamp"] == voided.body["start_timestamp"]
    assert store.regenerate(invoice_id) == new_id  # a retried call gets the same answer


def test_drafts_do_not_void_and_only_voided_invoices_regenerate(store: MetronomeStore) -> None:
    draft = next(s.key for s in store.book if s.status == "DRAFT")
    with pytest.raises(BadRequest):
        store.void(draft)
    with pytest.raises(BadRequest):
        store.regenerate(finalized_plan_invoice(store))
    with pytest.raises(NotFound):
        store.void("nope")


def test_an_injected_invoice_is_served_byte_for_byte(store: MetronomeStore) -> None:
    customer_id = busiest_customer(store)
    raw = f'{{"id": "odd", "customer_id": "{customer_id}", "total": 1.10, "line_items": 7}}'
    raw_bytes = raw.encode()
    assert store.inject(raw_bytes) == "odd"
    assert store.invoice(customer_id, "odd") == b'{"data":' + raw_bytes + b"}"
    assert raw_bytes in store.list_invoices(customer_id, InvoiceQuery(OPEN, PageRequest(100)))


def test_injection_needs_a_known_customer_and_makes_up_missing_ids(
    store: MetronomeStore,
) -> None:
    with pytest.raises(BadRequest):
        store.inject(b'{"customer_id": "nobody"}')
    with pytest.raises(BadRequest):
        store.inject(b"[1, 2]")
    customer_id = busiest_customer(store)
    key = store.inject(b'{"total": null}', customer_id=customer_id)
    assert key.startswith("injected-")
    assert store.invoice(customer_id, key) == b'{"data":{"total": null}}'


def test_patch_merges_fields_and_keeps_the_id(store: MetronomeStore) -> None:
    invoice_id = next(s.key for s in store.book if "external_invoice" in s.body)
    patched = parse(store.patch(invoice_id, b'{"external_invoice": {"external_status": "VOID"}}'))
    assert patched["data"]["external_invoice"]["external_status"] == "VOID"
    assert patched["data"]["external_invoice"]["billing_provider_type"] == "stripe"
    with pytest.raises(BadRequest):
        store.patch(invoice_id, b'{"id": "other"}')


def test_merge_patch_removes_nulls_and_leaves_its_inputs_alone() -> None:
    target = {"a": {"b": 1, "c": 2}, "d": 3}
    assert merge_patch(target, {"a": {"b": None}, "d": [4]}) == {"a": {"c": 2}, "d": [4]}
    assert target == {"a": {"b": 1, "c": 2}, "d": 3}


def test_advance_finalizes_ended_drafts_and_opens_the_next_period(store: MetronomeStore) -> None:
    drafts = {s.key: s.body for s in store.book if s.status == "DRAFT"}
    report = advance(store, days=31)  # 2026-07-16: June ended more than 24 h ago
    assert report["now"] == "2026-07-16T00:00:00Z"
    assert report["finalized"]
    assert report["created"]
    for invoice_id in report["finalized"]:
        final = store.stored_invoice(invoice_id).body
        assert final["status"] == "FINALIZED"
        assert final["end_timestamp"] == "2026-07-01T00:00:00Z"
        assert final["subtotal"] > drafts[invoice_id]["subtotal"]  # the rest of June's usage
        outline = store.customer_by_id[final["customer_id"]].subscriptions[0].outline
        assert totals_problems(final, rounded_lines=outline.rounds_line_totals) == []
    for invoice_id in report["created"]:
        assert store.stored_invoice(invoice_id).body["status"] == "DRAFT"
    assert advance(store, days=0)["finalized"] == []


def test_advance_voids_and_regenerates_on_request(store: MetronomeStore) -> None:
    report = advance(store, days=1, void=2, regenerate=True)
    assert len(report["voided"]) == 2
    assert set(report["regenerated"]) == set(report["voided"])
    for voided_id, new_id in report["regenerated"].items():
        assert store.stored_invoice(voided_id).status == "VOID"
        assert store.stored_invoice(new_id).status == "FINALIZED"
    again = MetronomeStore(AccountSettings(seed=7, customers=12, months=6, now=NOW))
    assert advance(again, days=1, void=2, regenerate=True) == report  # deterministic


def test_advance_settles_open_stripe_invoices_past_their_terms(store: MetronomeStore) -> None:
    def open_ids() -> set[str]:
        return {
            s.key
            for s in store.book
            if s.body.get("external_invoice", {}).get("external_status") in {"SENT", "FINALIZED"}
        }

    before = open_ids()
    report = advance(store, days=90)
    assert before
    assert before <= set(report["settled"])
    assert set(report["settled"].values()) <= {"PAID", "PAYMENT_FAILED"}
