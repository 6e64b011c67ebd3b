"""Fincome metrics on a small hand-built account with known answers.

acme (enterprise, FR) pays 1200 USD a year from 2024-01-01 (100/month MRR) plus a 500 setup;
acme_sub, a child of acme, adds a 50 USD month from 2024-03-10; beta (smb, US) pays 90 EUR
for February and March, 120 EUR for April, then stops; gamma has a void subscription invoice
and a June one-off of 0.10 + 0.20 USD. acme gets a 100 USD credit note in February (sent
negative), beta a 30 EUR one in March (sent positive). EUR is 1.08 USD.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from sandbox.fincome.filters import Filter
from sandbox.fincome.metrics import METRICS, MetricQuery, metric_result
from sandbox.fincome.periods import Grain, periods_between
from sandbox.fincome.store import FincomeStore
from tests.fixtures.fincome import credit_line_body, credit_note_body, invoice_body, line_body

FRESHNESS = date(2024, 12, 31)


def _subscription_line(
    line_id: str, amount: str, start: str, end: str, **fields: Any
) -> dict[str, Any]:
    invoice_id = line_id.partition(":")[0]
    period = {"period_start": f"{start}T00:00:00Z", "period_end": f"{end}T00:00:00Z"}
    return line_body(line_id, invoice_id, amount, type="subscription", **period, **fields)


def _invoice(
    invoice_id: str, customer: str, day: str, lines: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    return invoice_body(invoice_id, customer, lines, date=f"{day}T09:00:00Z", **fields)


@pytest.fixture(scope="module")
def store() -> FincomeStore:
    store = FincomeStore()
    for body in (
        {
            "id": "acme",
            "name": "Acme",
            "country": "FR",
            "custom_properties": {"segment": "enterprise"},
        },
        {"id": "acme_sub", "name": "Acme Sub", "root_parent_id": "acme"},
        {"id": "beta", "name": "Beta", "country": "US", "custom_properties": {"segment": "smb"}},
        {"id": "gamma", "name": "Gamma"},
    ):
        store.create("customers", body)
    eur = {"currency_code": "EUR"}
    for body in (
        _invoice("inv_a1", "acme", "2024-01-05", [
            _subscription_line("inv_a1:L0", "1200", "2024-01-01", "2025-01-01"),
            line_body("inv_a1:L1", "inv_a1", "500"),
        ], custom_properties={"plan": "pro"}),
        _invoice("inv_s1", "acme_sub", "2024-03-10",
                 [_subscription_line("inv_s1:L0", "50", "2024-03-10", "2024-04-10")]),
        _invoice("inv_b1", "beta", "2024-02-01",
                 [_subscription_line("inv_b1:L0", "90", "2024-02-01", "2024-03-01", **eur)]),
        _invoice("inv_b2", "beta", "2024-03-01",
                 [_subscription_line("inv_b2:L0", "90", "2024-03-01", "2024-04-01", **eur)]),
        _invoice("inv_b3", "beta", "2024-04-01",
                 [_subscription_line("inv_b3:L0", "120", "2024-04-01", "2024-05-01", **eur)]),
        _invoice("inv_g1", "gamma", "2024-04-15", [
            _subscription_line("inv_g1:L0", "999", "2024-04-15", "2024-05-15"),
        ], status="void"),
        _invoice("inv_g2", "gamma", "2024-06-20", [
            line_body("inv_g2:L0", "inv_g2", "0.10"), line_body("inv_g2:L1", "inv_g2", "0.20"),
        ]),
    ):  # fmt: skip
        store.create("invoices", body)
    acme_credit = credit_line_body("cn_1:L0", "cn_1", "-100", invoice_line_item_id="inv_a1:L1")
    store.create(
        "credit_notes", credit_note_body("cn_1", "inv_a1", [acme_credit], date="2024-02-10")
    )
    beta_credit = credit_line_body("cn_2:L0", "cn_2", "30", currency_code="EUR")
    store.create(
        "credit_notes", credit_note_body("cn_2", "inv_b2", [beta_credit], date="2024-03-15")
    )
    return store


def compute(
    store: FincomeStore,
    slug: str,
    *,
    start: str = "2024-01-01",
    end: str = "2024-12-31",
    grain: Grain = "month",
    dimension: str | None = None,
    filters: tuple[Filter, ...] = (),
) -> dict[str, Any]:
    periods = periods_between(date.fromisoformat(start), date.fromisoformat(end), grain)
    query = MetricQuery(periods, grain, FRESHNESS, dimension, list(filters))
    return metric_result(store, METRICS[slug], query, company_id=7)


def values(result: dict[str, Any]) -> dict[Any, list[Decimal | int]]:
    return {
        (series["keys"] or {None: None}).popitem()[1]: [p["value"] for p in series["points"]]
        for series in result["series"]
    }


def months(*values: str | int) -> list[Decimal]:
    """Twelve monthly values: those given for January onwards, then zeros."""
    given = [Decimal(value) for value in values]
    return given + [Decimal(0)] * (12 - len(given))


STEADY = ["100"] * 8  # May..December: acme alone

CASES: list[tuple[str, dict[str, Any], dict[Any, list[Any]]]] = [
    ("invoiced", {"dimension": "currency"},
     {"EUR": months(0, 90, 90, 120), "USD": months(1700, 0, 50, 0, 0, "0.30")}),
    ("credit_notes", {"dimension": "currency"}, {"EUR": months(0, 0, 30), "USD": months(0, 100)}),
    ("revenue", {"dimension": "currency"},
     {"EUR": months(0, 90, 60, 120), "USD": months(1700, -100, 50, 0, 0, "0.30")}),
    ("invoiced", {"grain": "quarter"}, {None: [Decimal("1944.40"), Decimal("129.90"), 0, 0]}),
    ("invoiced", {"grain": "year"}, {None: [Decimal("2074.30")]}),
    ("revenue", {"grain": "quarter", "dimension": "currency"},
     {"EUR": [150, 120, 0, 0], "USD": [1650, Decimal("0.30"), 0, 0]}),
    ("mrr", {}, {None: months(100, "197.20", "247.20", "229.60", *STEADY)}),
    ("mrr", {"dimension": "currency"},
     {"EUR": months(0, 90, 90, 120), "USD": months(100, 100, 150, 100, *STEADY)}),
    ("mrr", {"grain": "quarter"}, {None: [Decimal("247.20"), 100, 100, 100]}),
    ("mrr", {"grain": "year"}, {None: [100]}),
    ("mrr", {"start": "2024-03-01", "end": "2024-04-30", "dimension": "customer_id"},
     {"acme": [150, 100], "beta": [Decimal("97.20"), Decimal("129.60")]}),
    ("arr", {"start": "2024-01-01", "end": "2024-01-31"}, {None: [1200]}),
    ("active_customers", {}, {None: [1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]}),
    ("new_customers", {}, {None: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}),
    ("churned_customers", {}, {None: [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]}),
    ("new_mrr", {}, {None: months(100, "97.20")}),
    ("expansion_mrr", {}, {None: months(0, 0, 50, "32.40")}),
    ("contraction_mrr", {}, {None: months(0, 0, 0, -50)}),
    ("churned_mrr", {}, {None: months(0, 0, 0, 0, "-129.60")}),
    ("active_customers", {"dimension": "customer.custom_properties.segment"},
     {"enterprise": [1] * 12, "smb": [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]}),
    ("invoiced", {"dimension": "invoice.custom_properties.plan", "grain": "year"},
     {"pro": [1700], None: [Decimal("374.30")]}),
    ("mrr", {"filters": (Filter("customer_country", "eq", "US"),), "start": "2024-02-01",
             "end": "2024-05-31"},
     {None: [Decimal("97.20"), Decimal("97.20"), Decimal("129.60"), 0]}),
    ("invoiced", {"filters": (Filter("currency", "eq", "EUR"),), "grain": "year"}, {None: [300]}),
    ("invoiced", {"filters": (Filter("line_type", "eq", "one_off"),), "grain": "year"},
     {None: [Decimal("500.30")]}),
    ("invoiced", {"filters": (Filter("customer_id", "in", ["acme", "gamma"]),), "grain": "year",
                  "dimension": "customer_id"}, {"acme": [1750], "gamma": [Decimal("0.30")]}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("slug", "options", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(CASES)],
)
def test_metric_values(
    store: FincomeStore, slug: str, options: dict[str, Any], expected: dict[Any, list[Any]]
) -> None:
    assert values(compute(store, slug, **options)) == expected


def test_amounts_in_their_own_currency_are_exact(store: FincomeStore) -> None:
    june = values(compute(store, "invoiced", dimension="currency"))["USD"][5]
    assert str(june) == "0.30"


def test_result_shape(store: FincomeStore) -> None:
    result = compute(store, "mrr", start="2024-11-02", end="2024-12-01", dimension="customer_id")
    described = ("slug", "unit", "currency", "kind", "timegrain", "dimensions")
    assert {key: result[key] for key in described} == {
        "slug": "mrr", "unit": "currency", "currency": "USD", "kind": "point_in_time",
        "timegrain": "month", "dimensions": ["customer_id"],
    }  # fmt: skip
    (series,) = result["series"]
    assert (series["keys"], series["label"]) == ({"customer_id": "acme"}, "Acme")
    assert series["points"][1] == {
        "period_start": date(2024, 12, 1), "period_end": date(2024, 12, 31),
        "value": Decimal(100), "as_of": FRESHNESS,
    }  # fmt: skip
    meta = result["meta"]
    assert (meta["company_id"], meta["min_available_date"], meta["freshness_date"]) == (
        7, date(2024, 1, 5), FRESHNESS,
    )  # fmt: skip
    assert (meta["series_total"], meta["series_returned"]) == (1, 1)


def test_counts_have_no_currency_and_empty_totals_are_zero(store: FincomeStore) -> None:
    result = compute(store, "active_customers", start="2023-01-01", end="2023-02-28")
    assert result["currency"] is None
    assert values(result) == {None: [0, 0]}


def test_a_pinned_currency_is_the_results_currency(store: FincomeStore) -> None:
    pinned = compute(store, "mrr", filters=(Filter("currency", "in", ["EUR"]),))
    assert pinned["currency"] == "EUR"
    assert compute(store, "mrr", dimension="currency")["currency"] is None
