"""Planning rows into writes against a ledger snapshot (pure, no I/O)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from destinations.fincome.body import canonical_body, row_hash
from destinations.fincome.schema import collection
from destinations.fincome.steps import LedgerSnapshot, dependency_waves, latest_by_id, plan_batch
from tests.unit.destinations.samples import graph

INVOICES = collection("invoices")
CREDIT_NOTES = collection("credit_notes")
CUSTOMERS = collection("customers")


def _invoice() -> dict[str, Any]:
    return graph()["invoices"][0]


def _line_hashes(invoice: dict[str, Any]) -> dict[str, str]:
    return {
        line["id"]: row_hash("invoice_line_items", line) for line in invoice["invoice_line_items"]
    }


def _known(invoice: dict[str, Any]) -> LedgerSnapshot:
    """The ledger after `invoice` and its lines were pushed."""
    return LedgerSnapshot(
        hashes={invoice["id"]: row_hash("invoices", invoice)},
        line_hashes=_line_hashes(invoice),
        lines_of={invoice["id"]: [line["id"] for line in invoice["invoice_line_items"]]},
    )


def test_an_unknown_row_is_one_create_embedding_its_lines() -> None:
    invoice = _invoice()
    plan = plan_batch(INVOICES, [invoice], LedgerSnapshot())
    [row] = plan.rows
    [step] = row.steps
    assert step.action == "create"
    assert step.body is not None
    assert step.body == {
        **canonical_body("invoices", invoice),
        "invoice_line_items": [
            canonical_body("invoice_line_items", line) for line in invoice["invoice_line_items"]
        ],
    }
    assert [(e.collection, e.id, e.parent_id) for e in step.record] == [
        ("invoices", "inv_1", None),
        ("invoice_line_items", "inv_1:L0", "inv_1"),
        ("invoice_line_items", "inv_1:L1", "inv_1"),
    ]


def test_lines_get_their_parent_id_filled_in() -> None:
    invoice = _invoice()
    for line in invoice["invoice_line_items"]:
        del line["invoice_id"]
    [row] = plan_batch(INVOICES, [invoice], LedgerSnapshot()).rows
    assert row.steps[0].body is not None
    lines = row.steps[0].body["invoice_line_items"]
    assert {line["invoice_id"] for line in lines} == {"inv_1"}


def test_a_row_the_ledger_holds_with_the_same_hash_needs_nothing() -> None:
    invoice = _invoice()
    plan = plan_batch(INVOICES, [invoice], _known(invoice))
    assert plan.rows == []
    assert plan.unchanged == ["inv_1"]


def test_a_changed_header_is_one_update_without_lines_that_can_recreate_with_them() -> None:
    invoice = _invoice()
    known = _known(invoice)
    invoice["status"] = "void"
    [row] = plan_batch(INVOICES, [invoice], known).rows
    [step] = row.steps
    assert step.action == "update"
    assert step.body == canonical_body("invoices", invoice, op="update")
    assert "invoice_line_items" not in step.body
    assert step.create_body is not None
    assert len(step.create_body["invoice_line_items"]) == 2


def test_lines_are_diffed_one_by_one_against_the_ledger() -> None:
    invoice = _invoice()
    known = _known(invoice)
    changed, removed = invoice["invoice_line_items"]
    changed["description"] = "Seats (corrected)"
    invoice["invoice_line_items"] = [changed, {**removed, "id": "inv_1:L2"}]
    [row] = plan_batch(INVOICES, [invoice], known).rows
    assert [(s.action, s.item_id, s.blocking) for s in row.steps] == [
        ("update", "inv_1:L0", False),
        ("create", "inv_1:L2", False),
        ("delete", "inv_1:L1", False),
    ]
    update = row.steps[0]
    assert update.body == canonical_body("invoice_line_items", changed, op="update")
    assert update.create_body == canonical_body("invoice_line_items", changed)


def test_lines_not_given_are_left_alone() -> None:
    invoice = _invoice()
    known = _known(invoice)
    for absent in ({k: v for k, v in invoice.items() if k != "invoice_line_items"},
                   {**invoice, "invoice_line_items": None}):  # fmt: skip
        plan = plan_batch(INVOICES, [absent], known)
        assert plan.unchanged == ["inv_1"]


def test_an_empty_line_list_deletes_every_line_the_ledger_holds() -> None:
    invoice = _invoice()
    known = _known(invoice)
    [row] = plan_batch(INVOICES, [{**invoice, "invoice_line_items": []}], known).rows
    assert [(s.action, s.item_id) for s in row.steps] == [
        ("delete", "inv_1:L0"),
        ("delete", "inv_1:L1"),
    ]


def test_a_deleted_credit_note_takes_its_lines_first() -> None:
    known = LedgerSnapshot(hashes={"cn_1": "h"}, lines_of={"cn_1": ["cn_1:L0"]})
    [row] = plan_batch(CREDIT_NOTES, [{"id": "cn_1", "_deleted": True}], known).rows
    assert [(s.action, s.collection, s.item_id, s.blocking) for s in row.steps] == [
        ("delete", "credit_note_line_items", "cn_1:L0", False),
        ("delete", "credit_notes", "cn_1", True),
    ]


def test_rows_that_cannot_become_requests_are_rejected_with_a_reason() -> None:
    invoice = _invoice()
    foreign = _invoice()
    foreign["invoice_line_items"][0]["invoice_id"] = "inv_9"
    rows = [
        {"id": "cus_1", "_deleted": True},
        {"name": "no id"},
        {"id": "cus_2", "custom_properties": "not json"},
    ]
    plan = plan_batch(CUSTOMERS, rows, LedgerSnapshot())
    reasons = {r.record_id: r.reason for r in plan.rejects}
    assert reasons["cus_1"] == "customers cannot be deleted: the Fincome API has no delete for it"
    assert reasons["(no id)"] == "the row has no id"
    assert "custom_properties" in reasons["cus_2"]
    assert all(r.stage == "push" and r.collection == "customers" for r in plan.rejects)
    [reject] = plan_batch(INVOICES, [foreign], LedgerSnapshot()).rejects
    assert reject.reason == "line inv_1:L0 belongs to inv_9, not inv_1"
    assert plan_batch(INVOICES, [invoice], LedgerSnapshot()).rejects == []


def test_an_amount_json_cannot_carry_exactly_is_rejected_before_sending() -> None:
    price = {"id": "p1", "amount": Decimal("0.12345678901234567891"), "currency_code": "EUR"}
    [reject] = plan_batch(collection("prices"), [price], LedgerSnapshot()).rejects
    assert reject.record_id == "p1"
    assert "more digits than a JSON number can carry exactly" in reject.reason


def test_a_line_row_records_its_parent() -> None:
    line = _invoice()["invoice_line_items"][0]
    [row] = plan_batch(collection("invoice_line_items"), [line], LedgerSnapshot()).rows
    assert row.steps[0].record[0].parent_id == "inv_1"


def test_the_last_row_of_an_id_wins_within_a_batch() -> None:
    rows = [{"id": "a", "name": "1"}, {"id": "b"}, {"id": "a", "name": "2"}, {"name": "x"}]
    assert latest_by_id(rows) == [{"id": "b"}, {"id": "a", "name": "2"}, {"name": "x"}]


def test_rows_referencing_rows_of_the_same_batch_wait_for_them() -> None:
    rows = [
        {"id": "grandchild", "root_parent_id": "child"},
        {"id": "child", "root_parent_id": "root"},
        {"id": "root"},
        {"id": "elsewhere", "root_parent_id": "known_before"},
    ]
    plan = plan_batch(CUSTOMERS, rows, LedgerSnapshot())
    waves = [[row.item_id for row in wave] for wave in dependency_waves(plan.rows)]
    assert waves == [["root", "elsewhere"], ["child"], ["grandchild"]]


def test_a_reference_cycle_still_goes_out_in_one_last_wave() -> None:
    rows = [{"id": "a", "root_parent_id": "b"}, {"id": "b", "root_parent_id": "a"}, {"id": "c"}]
    plan = plan_batch(CUSTOMERS, rows, LedgerSnapshot())
    waves = [[row.item_id for row in wave] for wave in dependency_waves(plan.rows)]
    assert waves == [["c"], ["a", "b"]]


def _prorating(invoice_id: str, target: str | None) -> dict[str, Any]:
    """An invoice whose one line prorates `target` (a line of another invoice, or none)."""
    invoice = {**_invoice(), "id": invoice_id}
    [line, *_] = invoice["invoice_line_items"]
    invoice["invoice_line_items"] = [
        {**line, "id": f"{invoice_id}:L0", "invoice_id": invoice_id,
         "proration_target_line_item_id": target},
    ]  # fmt: skip
    return invoice


def test_an_invoice_whose_line_prorates_a_line_of_another_waits_for_that_invoice() -> None:
    """The prorated line's target is created with its own invoice: send that one first."""
    rows = [
        _prorating("a-seat-purchase", "c-later-month:L0"),
        _prorating("b-unrelated", None),
        _prorating("c-later-month", "d-month:L0"),
        _prorating("d-month", None),
        _prorating("e-self", "e-self:L0"),
        _prorating("f-outside", "not-in-this-batch:L3"),
    ]
    plan = plan_batch(INVOICES, rows, LedgerSnapshot())
    waves = [[row.item_id for row in wave] for wave in dependency_waves(plan.rows)]
    assert waves == [
        ["b-unrelated", "d-month", "e-self", "f-outside"],
        ["c-later-month"],
        ["a-seat-purchase"],
    ]


amounts = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False)
texts = st.text(alphabet="abcXYZ 09-", max_size=8)


@st.composite
def invoices(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for n in range(draw(st.integers(1, 4))):
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


def _ledger_after(plan_rows: list[Any], before: LedgerSnapshot) -> LedgerSnapshot:
    """The ledger once every planned step was acknowledged."""
    hashes = dict(before.hashes)
    line_hashes = dict(before.line_hashes)
    lines_of = {parent: list(ids) for parent, ids in before.lines_of.items()}
    for row in plan_rows:
        for step in row.steps:
            if step.action == "delete":
                line_hashes.pop(step.item_id, None)
                for ids in lines_of.values():
                    if step.item_id in ids:
                        ids.remove(step.item_id)
            for entry in step.record:
                if entry.parent_id is None:
                    hashes[entry.id] = entry.row_hash
                else:
                    line_hashes[entry.id] = entry.row_hash
                    held = lines_of.setdefault(entry.parent_id, [])
                    if entry.id not in held:
                        held.append(entry.id)
    return LedgerSnapshot(hashes, line_hashes, lines_of)


@given(first=invoices(), second=invoices())
@settings(max_examples=60, deadline=None)
def test_once_acknowledged_a_plan_is_never_needed_again(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    known = _ledger_after(plan_batch(INVOICES, first, LedgerSnapshot()).rows, LedgerSnapshot())
    changes = plan_batch(INVOICES, second, known)
    assert changes.rejects == []
    settled = _ledger_after(changes.rows, known)
    again = plan_batch(INVOICES, second, settled)
    assert again.rows == []
    assert sorted(again.unchanged) == sorted(row["id"] for row in second)
