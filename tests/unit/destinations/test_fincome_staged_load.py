"""A dlt load's rows staged as desired state and pushed by the one path (no dlt, no network):
what the destination adapter sends for what a load gives, against an in-memory ledger."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destinations.fincome import FincomeClient, LedgerStore
from destinations.fincome.destination import restored_rows
from destinations.fincome.executor import ExecutionReport
from destinations.fincome.staged_load import StagedLoad
from tests.unit.destinations.fake_fincome import FakeFincome, client_of
from tests.unit.destinations.samples import graph


@pytest.fixture
def fake() -> FakeFincome:
    return FakeFincome()


@pytest.fixture
def client(fake: FakeFincome) -> Iterator[FincomeClient]:
    # one step at a time, so the order of calls is deterministic
    with client_of(fake, max_concurrency=1) as client:
        yield client


@pytest.fixture
def ledger() -> LedgerStore:
    return LedgerStore(duckdb.connect())


def push(
    ledger: LedgerStore, client: FincomeClient, **tables: list[dict[str, Any]]
) -> tuple[ExecutionReport, StagedLoad]:
    staged = StagedLoad(ledger, "fincome_load_test")
    for name, rows in tables.items():
        staged.add(name, rows)
    try:
        return staged.push(client), staged
    finally:
        staged.drop()


def test_tables_in_any_order_go_out_parents_first_lines_inside_their_invoice(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    rows = graph()
    for line in rows["invoices"][0]["invoice_line_items"]:
        del line["invoice_id"]  # the parent fills it in
    push(ledger, client, **dict(reversed(rows.items())))
    order = [collection for _, collection, _ in fake.calls]
    assert order == sorted(order, key=list(graph()).index)
    assert order.count("invoices") == 2
    assert "invoice_line_items" not in order
    embedded = fake.bodies["inv_1"]["invoice_line_items"]
    assert {line["invoice_id"] for line in embedded} == {"inv_1"}
    assert fake.calls.index(("POST", "customers", "cus_parent")) < fake.calls.index(
        ("POST", "customers", "cus_1")
    )  # a customer after the customer it names, in one load


def test_the_same_rows_again_send_nothing(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    push(ledger, client, **graph())
    fake.calls.clear()
    push(ledger, client, **graph())
    assert fake.calls == []


def test_listed_lines_are_diffed_one_by_one_and_unlisted_ones_deleted(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    [invoice, _] = graph()["invoices"]
    push(ledger, client, invoices=[invoice])
    fake.calls.clear()
    changed, removed = invoice["invoice_line_items"]
    changed["description"] = "Seats (corrected)"
    invoice["invoice_line_items"] = [changed, {**removed, "id": "inv_1:L2"}]
    push(ledger, client, invoices=[invoice])
    assert sorted(fake.calls) == [
        ("DELETE", "invoice_line_items", "inv_1:L1"),
        ("PATCH", "invoice_line_items", "inv_1:L0"),
        ("POST", "invoice_line_items", "inv_1:L2"),
    ]


@pytest.mark.parametrize("lines", ["absent", None])
def test_lines_not_given_are_left_alone(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome, lines: str | None
) -> None:
    [invoice, _] = graph()["invoices"]
    push(ledger, client, invoices=[invoice])
    fake.calls.clear()
    header = {k: v for k, v in invoice.items() if k != "invoice_line_items"}
    given = header if lines == "absent" else {**header, "invoice_line_items": None}
    push(ledger, client, invoices=[given])
    assert fake.calls == []


def test_an_empty_line_list_deletes_every_line_the_ledger_holds(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    [invoice, _] = graph()["invoices"]
    push(ledger, client, invoices=[invoice])
    fake.calls.clear()
    push(ledger, client, invoices=[{**invoice, "invoice_line_items": []}])
    assert sorted(fake.calls) == [
        ("DELETE", "invoice_line_items", "inv_1:L0"),
        ("DELETE", "invoice_line_items", "inv_1:L1"),
    ]


def test_a_deleted_credit_note_takes_its_lines_first_each_once(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    rows = graph()
    push(ledger, client, **rows)
    fake.calls.clear()
    push(ledger, client, credit_notes=[{"id": "cn_1", "_deleted": True}])
    assert fake.calls == [
        ("DELETE", "credit_note_line_items", "cn_1:L0"),
        ("DELETE", "credit_notes", "cn_1"),
    ]


def test_a_deleted_record_the_ledger_does_not_know_is_deleted_all_the_same(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    push(ledger, client, subscriptions=[{"id": "sub_9", "_deleted": True}])
    assert fake.calls == [("DELETE", "subscriptions", "sub_9")]


def test_rows_that_cannot_become_requests_are_refused_with_a_reason_before_sending(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    invoices = graph()["invoices"]
    invoices[0]["invoice_line_items"][0]["invoice_id"] = "inv_9"
    invoices[1]["invoice_line_items"].append(invoices[1]["invoice_line_items"][0])
    _, staged = push(
        ledger,
        client,
        customers=[
            {"id": "cus_1", "_deleted": True},
            {"name": "no id"},
            {"id": "cus_2", "custom_properties": "not json"},
        ],
        prices=[{"id": "p1", "amount": Decimal("0.12345678901234567891"), "currency_code": "EUR"}],
        invoices=invoices,
    )
    reasons = {r.record_id: r.reason for r in staged.refused}
    assert reasons["cus_1"] == "customers cannot be deleted: the Fincome API has no delete for it"
    assert reasons["(no id)"] == "the row has no id"
    assert "custom_properties" in reasons["cus_2"]
    assert "more digits than a JSON number can carry exactly" in reasons["p1"]
    assert reasons["inv_1"] == "line inv_1:L0 belongs to inv_9, not inv_1"
    assert reasons["inv_2"] == "line inv_2:L0 is listed twice"
    assert fake.calls == []  # a refused invoice takes none of its lines along
    assert {r["record_id"] for r in ledger.open_rejects()} == set(reasons)


def test_the_row_read_last_wins(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    push(ledger, client, products=[{"id": "a", "name": "1"}, {"id": "a", "name": "2"}])
    assert fake.calls == [("POST", "products", "a")]
    assert fake.bodies["a"]["name"] == "2"


def test_a_refusal_is_a_reject_and_the_rest_lands(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    fake.refuse[("POST", "cus_1")] = 422
    report, _ = push(ledger, client, customers=graph()["customers"])
    assert report.rejected == 1
    assert ledger.hashes("customers", ["cus_parent", "cus_1"]).keys() == {"cus_parent"}
    [reject] = ledger.open_rejects()
    assert (reject["collection"], reject["record_id"]) == ("customers", "cus_1")
    assert reject["payload"]["name"] == "Acme SAS"


def test_keys_dlt_dropped_come_back_and_variant_values_are_refused_with_a_reason(
    ledger: LedgerStore, client: FincomeClient, fake: FakeFincome
) -> None:
    columns = {
        "id": {"name": "id", "data_type": "text"},
        "name": {"name": "name", "data_type": "text"},
        "period_length": {"name": "period_length", "data_type": "bigint"},
        "period_length▶v_text": {"data_type": "text", "variant": True},
    }
    batch: list[dict[str, Any]] = [
        {"id": "ok", "period_length": 1},
        {"id": "bad", "period_length▶v_text": "twelve"},
    ]
    rows = list(restored_rows(batch, columns))
    assert rows == [
        {"id": "ok", "name": None, "period_length": 1},
        {"id": "bad", "name": None, "period_length": "twelve"},
    ]
    _, staged = push(ledger, client, prices=rows)
    assert fake.calls == [("POST", "prices", "ok")]
    [refused] = staged.refused
    assert (refused.record_id, refused.reason) == ("bad", "period_length: 'twelve' is not a number")


amounts = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False)
texts = st.text(alphabet="abcXYZ 09-", max_size=8)


@st.composite
def invoices(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for n in range(draw(st.integers(1, 3))):
        invoice_id = f"inv_{n}"
        lines = [
            {
                "id": f"{invoice_id}:L{k}",
                "type": draw(st.sampled_from(["subscription", "one_off"])),
                "amount_excluding_tax_after_discount": draw(amounts),
                "tax_amount": draw(amounts),
                "currency_code": "EUR",
                "description": draw(st.none() | texts),
                "quantity": draw(st.none() | st.integers(0, 1000)),
            }
            for k in range(draw(st.integers(0, 3)))
        ]
        rows.append(
            {
                "id": invoice_id,
                "customer_id": "cus_1",
                "date": "2024-02-01T00:00:00Z",
                "status": draw(st.sampled_from(["open", "paid", "void"])),
                "invoice_number": draw(st.none() | texts),
                "custom_properties": draw(st.dictionaries(texts, texts, max_size=2)),
                "invoice_line_items": lines,
            }
        )
    return rows


@given(first=invoices(), second=invoices())
@settings(max_examples=25, deadline=None)
def test_once_acknowledged_a_load_is_never_sent_again(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    fake = FakeFincome()
    with client_of(fake) as client:
        ledger = LedgerStore(duckdb.connect())
        push(ledger, client, invoices=first)
        push(ledger, client, invoices=second)
        fake.calls.clear()
        report, staged = push(ledger, client, invoices=second)
    assert (fake.calls, staged.refused, report.rejected) == ([], [], 0)
