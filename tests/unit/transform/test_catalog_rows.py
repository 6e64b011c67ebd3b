"""Products and prices: built once from the catalog and what synced lines used of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pipelines.transform.engine import desired_state
from pipelines.transform.inputs import StagedCustomer
from pipelines.transform.options import MappingOptions
from tests.unit.transform.builders import (
    AS_OF,
    EUR,
    by_id,
    catalog,
    charge,
    customer,
    invoice,
    line,
    rows,
    run,
    sub_line,
)

D = Decimal


def test_a_price_per_used_charge() -> None:
    state = run(invoice(), cat=catalog(charge(custom_fields={"gl": "4100"}), charge("ch-unused")))
    assert rows(state, "prices") == [
        {
            "id": "ch-api",
            "name": "API calls",
            "period_unit": "month",
            "period_length": 1,
            "product_id": "prod-api",
            "type": "recurring",
            "amount": D("0.02"),
            "currency_code": "USD",
            "custom_properties": {
                "gl": "4100",
                "metronome_charge_type": "usage",
                "metronome_plan_id": "plan-pro",
                "metronome_plan_name": "Pro",
            },
        }
    ]


def test_a_tiered_charge_has_no_amount_and_euro_is_whole_units() -> None:
    tiered = charge(prices=[{"tier": 0, "value": 2}, {"tier": 1000, "value": 1}], credit_type=EUR)
    item = line(10, credit_type=EUR)
    state = run(invoice(lines=[item], credit_type=EUR), cat=catalog(tiered))
    [price] = rows(state, "prices")
    assert (price["amount"], price["currency_code"]) == (None, "EUR")


def test_price_type_is_configurable() -> None:
    state = run(invoice(), options=MappingOptions(price_type="one_off"))
    assert rows(state, "prices")[0]["type"] == "one_off"


def _quarterly(invoice_id: str, start: str, end: str) -> dict[str, Any]:
    return invoice(invoice_id, start_timestamp=start, end_timestamp=end)


def test_period_length_is_the_plans_usual_invoice_period_unless_configured() -> None:
    invoices = [
        _quarterly("q1", "2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z"),
        _quarterly("q2", "2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z"),
        _quarterly("stub", "2024-07-01T00:00:00Z", "2024-07-20T00:00:00Z"),  # a short last period
    ]
    assert rows(run(*invoices), "prices")[0]["period_length"] == 3
    configured = MappingOptions(plan_period_months={"plan-pro": 12})
    assert rows(run(*invoices, options=configured), "prices")[0]["period_length"] == 12


def test_products_are_named_by_the_charge_else_the_newest_line() -> None:
    named = line(1000, name="API calls (old name)")
    unnamed_old = line(500, [], name="Old name", product_id="prod-x", type="usage")
    unnamed_new = line(500, [], name="New name", product_id="prod-x", type="usage")
    state = run(
        invoice("inv-a", lines=[named, unnamed_old], issued_at="2024-02-02T00:00:00Z"),
        invoice("inv-b", lines=[unnamed_new]),
    )
    assert {key: row["name"] for key, row in by_id(state, "products").items()} == {
        "prod-api": "API",
        "prod-x": "New name",
    }


def test_synthetic_products_for_adjustments_and_lines_without_product() -> None:
    adjustment = {"name": "Credit", "total": -100, "credit_type": {}}
    unlinked = line(100, [], product_id=None)
    state = run(invoice(lines=[line(), unlinked], invoice_adjustments=[adjustment]))
    assert {row["id"]: row["name"] for row in rows(state, "products")} == {
        "metronome:adjustment": "Invoice adjustments (Metronome)",
        "metronome:unlinked": "Charges without a product (Metronome)",
        "prod-api": "API",
    }


def test_a_price_brings_its_product_even_when_lines_name_another() -> None:
    item = line(1000, [sub_line(1000)], product_id="prod-line")
    state = run(invoice(lines=[item]))
    assert sorted(row["id"] for row in rows(state, "products")) == ["prod-api", "prod-line"]


def test_no_price_for_a_charge_missing_from_the_catalog() -> None:
    item = line(1000, [sub_line(1000, charge_id="ch-gone")])
    assert rows(run(invoice(lines=[item])), "prices") == []


def test_products_and_prices_do_not_depend_on_customer_order() -> None:
    def state_for(order: list[str]) -> Any:
        bundles = [
            StagedCustomer(
                customer(name),
                [],
                [
                    invoice(
                        f"inv-{name}",
                        lines=[line(100, [], name=f"Line {name}", product_id="p")],
                        issued_at=f"2024-04-0{index + 1}T00:00:00Z",
                    )
                ],
            )
            for index, name in enumerate(["a", "b"])
        ]
        by_name = {b.customer["id"]: b for b in bundles}
        ordered = [by_name[name] for name in order]
        return desired_state(catalog(), ordered, MappingOptions(), AS_OF)

    forward, backward = state_for(["a", "b"]), state_for(["b", "a"])
    assert rows(forward, "products") == rows(backward, "products")
    assert rows(forward, "products")[0]["name"] == "Line b"
