"""Customers: contact fields from configurable custom fields, payer hierarchy, archived."""

from __future__ import annotations

import pytest

from pipelines.transform.engine import desired_state
from pipelines.transform.inputs import StagedCustomer
from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import AS_OF, by_id, catalog, customer, invoice, rows, run


def test_customer_fields_and_custom_properties() -> None:
    fields = {"email": "ap@acme.test", "country": "FR", "zip_code": "75002", "segment": "smb"}
    state = run(cust=customer(name="Acmé", custom_fields=fields, ingest_aliases=["a", "b"]))
    assert rows(state, "customers") == [
        {
            "id": "cus-1",
            "root_parent_id": None,
            "name": "Acmé",
            "email": "ap@acme.test",
            "country": "FR",
            "zip_code": "75002",
            "custom_properties": {
                **fields,
                "metronome_ingest_aliases": "a,b",
                "metronome_archived": "false",
            },
        }
    ]


def test_contact_fields_come_from_the_configured_custom_field_keys() -> None:
    fields = {"billing_email": "x@y.test", "iso_country": "DE", "postcode": "10115"}
    options = MappingOptions(
        email_field="billing_email", country_field="iso_country", zip_code_field="postcode"
    )
    [row] = rows(run(cust=customer(custom_fields=fields), options=options), "customers")
    assert (row["email"], row["country"], row["zip_code"]) == ("x@y.test", "DE", "10115")


def test_an_archived_customer_is_still_synced_and_marked() -> None:
    state = run(invoice(), cust=customer(archived_at="2024-05-01T00:00:00Z"))
    [row] = rows(state, "customers")
    assert row["custom_properties"]["metronome_archived"] == "true"
    assert len(rows(state, "invoices")) == 1


def _bundle(customer_id: str, payer: str | None = None, **invoice_fields: object) -> StagedCustomer:
    invoices = []
    if payer is not None:
        invoices.append(
            invoice(f"inv-{customer_id}", payer={"customer_id": payer}, **invoice_fields)
        )
    return StagedCustomer(customer(customer_id), [], invoices)


def _customers(*bundles: StagedCustomer) -> dict[str, dict[str, object]]:
    return by_id(desired_state(catalog(), bundles, MappingOptions(), AS_OF), "customers")


def test_root_parent_is_the_top_of_the_payer_chain_and_parents_come_first() -> None:
    state = desired_state(
        catalog(),
        [_bundle("a-child", "m-mid"), _bundle("m-mid", "z-root"), _bundle("z-root")],
        MappingOptions(),
        AS_OF,
    )
    ordered = [(row["id"], row["root_parent_id"]) for row in rows(state, "customers")]
    assert ordered == [("z-root", None), ("a-child", "z-root"), ("m-mid", "z-root")]
    child = by_id(state, "customers")["a-child"]
    assert child["custom_properties"]["metronome_payer_customer_id"] == "m-mid"


def test_paying_for_itself_is_no_parent() -> None:
    assert _customers(_bundle("a", "a"))["a"]["root_parent_id"] is None


def test_a_payer_that_is_not_synced_is_no_parent() -> None:
    assert _customers(_bundle("a", "ghost"))["a"]["root_parent_id"] is None


def test_the_topmost_synced_payer_is_the_root_when_the_chain_leaves_the_account() -> None:
    found = _customers(_bundle("a", "b"), _bundle("b", "ghost"))
    assert found["a"]["root_parent_id"] == "b"
    assert found["b"]["root_parent_id"] is None


def test_a_payer_loop_has_no_root() -> None:
    found = _customers(_bundle("a", "b"), _bundle("b", "a"))
    assert found["a"]["root_parent_id"] is None
    assert found["b"]["root_parent_id"] is None


def test_the_newest_invoice_names_the_payer() -> None:
    bundle = StagedCustomer(
        customer("a"),
        [],
        [
            invoice("old", payer={"customer_id": "p-old"}, issued_at="2024-02-02T00:00:00Z"),
            invoice("new", payer={"customer_id": "p-new"}, issued_at="2024-04-02T00:00:00Z"),
        ],
    )
    found = _customers(bundle, _bundle("p-old"), _bundle("p-new"))
    assert found["a"]["root_parent_id"] == "p-new"


def test_a_customer_without_id_is_rejected_and_the_others_go_on() -> None:
    state = desired_state(
        catalog(),
        [StagedCustomer({"name": "nameless"}), StagedCustomer(customer("b"))],
        MappingOptions(),
        AS_OF,
    )
    assert [row["id"] for row in rows(state, "customers")] == ["b"]
    [reject] = state.rejects
    assert (reject.collection, reject.stage) == ("customers", "transform")
    assert "customer id is missing" in reject.reason


def test_a_duplicated_customer_is_rejected_once() -> None:
    state = desired_state(
        catalog(),
        [StagedCustomer(customer("a")), StagedCustomer(customer("a", name="Other"))],
        MappingOptions(),
        AS_OF,
    )
    assert [row["name"] for row in rows(state, "customers")] == ["Acme"]
    assert [r.reason for r in state.rejects] == ["duplicate customer id"]


def test_values_python_cannot_print_are_still_rejected_cleanly() -> None:
    huge = 10**5000  # str() of it raises: every message and property must cope
    state = run(
        invoice("inv-bad", status=huge),
        invoice("inv-ok", custom_fields={"n": huge}),
        cust=customer(name=huge, custom_fields={"big": huge, "nested": [huge]}),
    )
    [row] = rows(state, "customers")
    assert row["name"].startswith("1000")
    assert row["custom_properties"]["nested"] == "<unprintable list>"
    assert [r.record_id for r in state.rejects] == ["inv-bad"]
    assert [r["id"] for r in rows(state, "invoices")] == ["inv-ok"]


def test_an_unexpected_failure_rejects_that_customer_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("pipelines.transform.customer_mapping.read_plan_terms", explode)
    state = desired_state(
        catalog(),
        [StagedCustomer(customer("a")), StagedCustomer(customer("b"))],
        MappingOptions(),
        AS_OF,
    )
    assert rows(state, "customers") == []
    assert [(r.record_id, r.reason) for r in state.rejects] == [
        ("a", "internal mapping error (please report): RuntimeError: bug"),
        ("b", "internal mapping error (please report): RuntimeError: bug"),
    ]
