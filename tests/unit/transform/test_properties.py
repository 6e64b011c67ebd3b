"""Properties of the whole transform: money adds up, output is stable, junk never crashes it."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from destinations.fincome.body import body_hash, canonical_body
from pipelines.transform.customer_mapping import INTERNAL_ERROR
from pipelines.transform.engine import DesiredState, desired_state
from pipelines.transform.inputs import StagedCatalog, StagedCustomer
from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import (
    AS_OF,
    EUR,
    JPY,
    KWD,
    USD,
    catalog,
    customer,
    customer_plan,
    invoice,
    line,
    sub_line,
)

D = Decimal
FACTORS = {"USD (cents)": (D("0.01"), 2), "EUR": (D(1), 2), "JPY": (D(1), 0), "KWD": (D(1), 3)}
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False)


@st.composite
def priced_invoices(draw: st.DrawFn, invoice_id: str) -> dict[str, Any]:
    """A well-formed invoice whose total is its lines' exact sum, in a random currency."""
    credit_type = draw(st.sampled_from([USD, EUR, JPY, KWD]))
    items = []
    for _ in range(draw(st.integers(0, 4))):
        subs = [sub_line(draw(amounts)) for _ in range(draw(st.integers(0, 3)))]
        extra = draw(st.sampled_from([D(0), D(0), draw(amounts)]))  # sometimes a remainder
        total = sum((s["subtotal"] for s in subs), D(0)) + extra
        items.append(line(total, subs, credit_type=credit_type))
    adjustments = [
        {"name": "adj", "total": draw(amounts), "credit_type": credit_type}
        for _ in range(draw(st.integers(0, 2)))
    ]
    return invoice(
        invoice_id, lines=items, credit_type=credit_type, invoice_adjustments=adjustments
    )


def _converted_total(raw: dict[str, Any]) -> Decimal:
    factor, exponent = FACTORS[raw["credit_type"]["name"]]
    return (raw["total"] * factor).quantize(D(1).scaleb(-exponent))


@PROFILE
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True), st.data())
def test_every_invoice_s_lines_add_up_exactly_to_its_converted_total(
    ids: list[int], data: st.DataObject
) -> None:
    raws = [data.draw(priced_invoices(f"inv-{n}")) for n in ids]
    state = _map(raws)
    assert state.rejects == []
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in state.rows["invoice_line_items"]:
        amount = row["amount_excluding_tax_after_discount"]
        sums[row["invoice_id"]] += amount
        assert amount or not amount.is_signed()  # no -0.00: DuckDB would not keep its sign
        _, exponent = FACTORS[
            {"USD": "USD (cents)"}.get(row["currency_code"], row["currency_code"])
        ]
        assert -row["amount_excluding_tax_after_discount"].as_tuple().exponent == exponent
    for raw in raws:
        assert sums[raw["id"]] == _converted_total(raw)


@PROFILE
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=4, unique=True), st.data())
def test_same_input_gives_the_same_rows_in_the_same_order(
    ids: list[int], data: st.DataObject
) -> None:
    raws = [data.draw(priced_invoices(f"inv-{n}")) for n in ids]
    first = _map(raws)
    again = _map(raws)
    shuffled = _map(random.Random(len(ids)).sample(raws, len(raws)))
    assert first == again
    assert first.rows == shuffled.rows


def _map(raws: list[dict[str, Any]], options: MappingOptions | None = None) -> DesiredState:
    bundle = StagedCustomer(customer(), [customer_plan()], raws)
    return desired_state(catalog(), [bundle], options or MappingOptions(), AS_OF)


# -- junk --------------------------------------------------------------------------------

SPECIAL = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-1e999",
        "1e30",
        "1e-45",
        "0",
        "-0.5",
        "",
        " ",
        "DRAFT",
        "FINALIZED",
        "VOID",
        "CORRECTION",
        "USD (cents)",
        "EUR",
        "2024-03-01T00:00:00Z",
        "2024-02-30",
        "\ud800x",
        "\x00",
        "ünï©ødé 🧾",
        "inv-1",
        "cus-1",
        "ch-api",
        "plan-pro",
        "cp-1",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.decimals()
    | st.text(max_size=8)
    | SPECIAL
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(SCALARS.map(str), inner, max_size=3)
    ),
    max_leaves=6,
)


def _mutate(value: Any, data: st.DataObject) -> Any:
    """Walk a valid record, replacing some values (or whole branches) with junk."""
    if data.draw(st.integers(0, 24)) == 0:
        return data.draw(JUNK)
    if isinstance(value, dict):
        mutated = {key: _mutate(item, data) for key, item in value.items()}
        if data.draw(st.integers(0, 11)) == 0 and mutated:
            mutated.pop(data.draw(st.sampled_from(sorted(mutated))))  # a missing field
        return mutated
    if isinstance(value, list):
        items = [_mutate(item, data) for item in value]
        return items + items[:1] if data.draw(st.integers(0, 9)) == 0 else items  # duplicates
    return value


@st.composite
def junk_bundles(draw: st.DrawFn) -> StagedCustomer:
    data = draw(st.data())
    customer_id = draw(st.sampled_from(["cus-1", "cus-2", "cus-3"]))
    adjustments = [{"name": "Credit", "total": -100, "credit_type": USD}]
    first, second = f"{customer_id}:inv-1", f"{customer_id}:inv-2"
    correction = invoice(
        second,
        lines=[line(-500)],
        type="CORRECTION",
        correction_record={"corrected_invoice_id": first, "reason": "r", "memo": "m"},
    )
    raws = [
        invoice(first, lines=[line(), line(70, [])], invoice_adjustments=adjustments),
        correction,
        invoice(f"{customer_id}:inv-3", status="DRAFT", payer={"customer_id": "cus-2"}),
        invoice(f"{customer_id}:inv-4", status="VOID", payer={"customer_id": "cus-3"}),
    ]
    return StagedCustomer(
        _mutate(customer(customer_id, custom_fields={"email": "e@x.test"}), data),
        _mutate([customer_plan(trial_info={"ending_before": "2024-02-01T00:00:00Z"})], data),
        _mutate(raws, data),
    )


@PROFILE
@given(st.lists(junk_bundles(), max_size=3), st.data())
def test_junk_is_rejected_never_raised_and_every_row_is_sendable(
    bundles: list[StagedCustomer], data: st.DataObject
) -> None:
    cat = catalog()
    junk_catalog = StagedCatalog(
        plans=_mutate(dict(cat.plans), data),
        plan_charges=_mutate(dict(cat.plan_charges), data),
        credit_types=_mutate(dict(cat.credit_types), data),
    )
    state = desired_state(junk_catalog, bundles, MappingOptions(), AS_OF)
    assert not [r.reason for r in state.rejects if r.reason.startswith(INTERNAL_ERROR)]
    _assert_sendable(state)


@PROFILE
@given(JUNK, st.lists(JUNK, max_size=3), st.lists(JUNK, max_size=3), JUNK)
def test_shapeless_junk_is_rejected_never_raised(
    junk_customer: Any, plans: list[Any], invoices: list[Any], junk_catalog: Any
) -> None:
    cat = StagedCatalog(plans=junk_catalog, plan_charges=junk_catalog, credit_types=junk_catalog)
    state = desired_state(
        cat, [StagedCustomer(junk_customer, plans, invoices)], MappingOptions(), AS_OF
    )
    assert not [r.reason for r in state.rejects if r.reason.startswith(INTERNAL_ERROR)]
    _assert_sendable(state)


def _assert_sendable(state: DesiredState) -> None:
    """Unique ids, hashable bodies, flat custom properties, and no dangling reference."""
    ids = {name: [row["id"] for row in found] for name, found in state.rows.items()}
    for name, found in ids.items():
        assert len(found) == len(set(found)), name
    for name, found in state.rows.items():
        for row in found:
            body_hash(canonical_body(name, row))
            assert all(type(v) in (str, int) for v in row["custom_properties"].values())
    known = {name: set(found) for name, found in ids.items()}
    references = [
        ("customers", "root_parent_id", "customers"),
        ("prices", "product_id", "products"),
        ("subscriptions", "customer_id", "customers"),
        ("subscriptions", "price_id", "prices"),
        ("invoices", "customer_id", "customers"),
        ("invoice_line_items", "invoice_id", "invoices"),
        ("invoice_line_items", "subscription_id", "subscriptions"),
        ("invoice_line_items", "price_id", "prices"),
        ("credit_notes", "invoice_id", "invoices"),
        ("credit_note_line_items", "credit_note_id", "credit_notes"),
        ("credit_note_line_items", "invoice_line_item_id", "invoice_line_items"),
    ]
    for collection, field, parent in references:
        for row in state.rows[collection]:
            assert row[field] is None or row[field] in known[parent], (collection, field)
