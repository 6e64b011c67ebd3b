"""The Fincome emulator's read API over HTTP: metrics and views, their parameters and errors."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.fixtures.fincome import FincomeEmulator, customer_body, invoice_body, line_body, to_json

FRESHNESS = date(2024, 6, 15)


@pytest.fixture
def http(fincome_api: FincomeEmulator) -> httpx.Client:
    fincome_api.reset(freshness_date=FRESHNESS)
    client = fincome_api.client()
    headers = {"content-type": "application/json"}
    client.post(
        "/customers",
        content=to_json(customer_body("cus_1", custom_properties={"tier": "gold"})),
        headers=headers,
    )
    for invoice_id, day, amount, currency in [
        ("inv_1", "2024-05-31T23:59:59Z", "0.10", "EUR"),
        ("inv_2", "2024-06-01T00:00:00Z", "0.20", "EUR"),
        ("inv_3", "2024-06-02T00:00:00Z", "19.99", "USD"),
    ]:
        line = line_body(f"{invoice_id}:L0", invoice_id, amount, currency_code=currency)
        body = invoice_body(invoice_id, "cus_1", [line], date=day)
        assert client.post("/invoices", content=to_json(body), headers=headers).status_code == 201
    return client


def get(http: httpx.Client, path: str, **params: Any) -> httpx.Response:
    if isinstance(params.get("filters"), list):
        params["filters"] = json.dumps(params["filters"])
    return http.get(path, params=params)


def points(response: httpx.Response) -> dict[Any, list[tuple[str, str]]]:
    assert response.status_code == 200, response.text
    return {
        json.dumps(series["keys"]): [(p["period_start"], str(p["value"])) for p in series["points"]]
        for series in json.loads(response.content, parse_float=Decimal)["series"]
    }


def test_metrics_catalogue(http: httpx.Client) -> None:
    families = http.get("/metrics").json()
    slugs = {metric["slug"] for family in families for metric in family["metrics"]}
    assert {"mrr", "arr", "revenue", "invoiced", "credit_notes", "active_customers"} <= slugs
    mrr = next(m for family in families for m in family["metrics"] if m["slug"] == "mrr")
    assert set(mrr) == {
        "slug",
        "label",
        "description",
        "unit",
        "kind",
        "dimensions",
        "natural_dimension",
    }
    dimensions = http.get("/metrics/mrr/dimensions").json()
    assert {
        "id": "customer.custom_properties.tier",
        "label": "Customer tier",
        "filter_only": False,
    } in dimensions


def test_default_range_ends_at_the_freshness_date(http: httpx.Client) -> None:
    body = http.get("/metrics/invoiced").json()
    series_points = body["series"][0]["points"]
    assert len(series_points) == 13
    assert (series_points[0]["period_start"], series_points[-1]["period_start"]) == (
        "2023-06-01",
        "2024-06-01",
    )
    assert series_points[-1]["as_of"] == "2024-06-15"
    assert body["meta"]["freshness_date"] == "2024-06-15"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_start": "2024-05-01", "date_end": "2024-05-31"}, {"EUR": [("2024-05-01", "0.10")]}),
        ({"date_start": "2024-05-01", "date_end": "2024-06-01"},
         {"EUR": [("2024-05-01", "0.10"), ("2024-06-01", "0.20")],
          "USD": [("2024-05-01", "0"), ("2024-06-01", "19.99")]}),
        ({"date_start": "2024-06-30", "date_end": "2024-04-01", "date_step": "quarter"},
         {"EUR": [("2024-04-01", "0.30")], "USD": [("2024-04-01", "19.99")]}),
        ({"date_start": "2024-12-31", "date_end": "2024-01-01", "date_step": "year"},
         {"EUR": [("2024-01-01", "0.30")], "USD": [("2024-01-01", "19.99")]}),
    ],
)  # fmt: skip
def test_revenue_by_currency_per_period_is_exact(
    http: httpx.Client, params: dict[str, str], expected: dict[str, list[tuple[str, str]]]
) -> None:
    got = points(get(http, "/metrics/revenue", dimension="currency", **params))
    assert got == {json.dumps({"currency": code}): values for code, values in expected.items()}


def test_filters_and_converted_totals(http: httpx.Client) -> None:
    euro = [{"field": "currency", "op": "eq", "value": "EUR"}]
    response = get(
        http, "/metrics/invoiced", date_start="2024-06-01", date_end="2024-06-30", filters=euro
    )
    assert (response.json()["currency"], points(response)) == (
        "EUR",
        {"{}": [("2024-06-01", "0.20")]},
    )
    total = get(http, "/metrics/invoiced", date_start="2024-06-01", date_end="2024-06-30")
    assert points(total) == {"{}": [("2024-06-01", "20.21")]}  # 19.99 + 0.20 x 1.08


@pytest.mark.parametrize(
    ("path", "params", "loc", "error_type"),
    [
        ("/metrics/mrr", {"date_step": "week"}, ["query", "date_step"], "literal_error"),
        ("/metrics/mrr", {"date_start": "2024-13-01"},
         ["query", "date_start"], "date_from_datetime_parsing"),
        ("/metrics/mrr", {"date_start": "2024-06-01", "date_end": "2024-05-31"},
         ["query", "date_end"], "date_range"),
        ("/metrics/mrr", {"dimension": "plan"}, ["query", "dimension"], "unknown_dimension"),
        ("/metrics/mrr", {"dimension": "subscription_id"},
         ["query", "dimension"], "unknown_dimension"),
        ("/metrics/mrr", {"filters": "nope"}, ["query", "filters"], "invalid_filter"),
        ("/metrics/mrr", {"filters": [{"field": "plan", "op": "eq", "value": "x"}]},
         ["query", "filters", 0, "field"], "invalid_filter"),
        ("/views/invoices/query", {"limit": 1001}, ["query", "limit"], "less_than_equal"),
        ("/views/invoices/query", {"limit": 0}, ["query", "limit"], "greater_than_equal"),
        ("/views/invoices/query", {"offset": -1}, ["query", "offset"], "greater_than_equal"),
        ("/views/invoices/query", {"order_dir": "up"}, ["query", "order_dir"], "literal_error"),
        ("/views/invoices/query", {"order_by": "nope"}, ["query", "order_by"], "unknown_column"),
        ("/views/invoices/query", {"date_start": "2024-06-01", "date_end": "2024-05-01"},
         ["query", "date_end"], "date_range"),
    ],
)  # fmt: skip
def test_bad_parameters_answer_422(
    http: httpx.Client, path: str, params: dict[str, Any], loc: list[Any], error_type: str
) -> None:
    response = get(http, path, **params)
    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [(loc, error_type)]


def test_a_total_across_an_unknown_currency_is_refused(http: httpx.Client) -> None:
    line = line_body("inv_9:L0", "inv_9", "1", currency_code="XTS")
    http.post("/invoices", content=to_json(invoice_body("inv_9", "cus_1", [line])))
    response = http.get("/metrics/invoiced")
    assert (response.status_code, response.json()["detail"][0]["type"]) == (
        422,
        "fx_rate_not_found",
    )
    assert http.get("/metrics/invoiced", params={"dimension": "currency"}).status_code == 200


def test_unknown_slugs_are_404(http: httpx.Client) -> None:
    assert http.get("/metrics/ltv").status_code == 404
    assert http.get("/metrics/ltv/dimensions").status_code == 404
    assert http.get("/views/payments").status_code == 404
    assert http.get("/views/payments/query").status_code == 404


def test_views_list_describe_and_query(http: httpx.Client) -> None:
    listed = http.get("/views").json()
    assert {view["slug"] for view in listed} == {
        "customers", "subscriptions", "invoices", "invoice_line_items", "credit_notes",
        "credit_note_line_items",
    }  # fmt: skip
    described = http.get("/views/invoices").json()
    names = [column["name"] for column in described["columns"]]
    assert {"id", "customer_id", "date", "status", "currency_code", "total_amount"} <= set(names)
    assert described["time"]["as_of_column"] == "date"
    page = get(http, "/views/invoices/query", limit=2, order_by="total_amount", order_dir="desc")
    body = json.loads(page.content, parse_float=Decimal)
    assert [(row["id"], row["total_amount"]) for row in body["rows"]] == [
        ("inv_3", Decimal("19.99")), ("inv_2", Decimal("0.20")),
    ]  # fmt: skip
    assert body["page"] == {"limit": 2, "offset": 0, "returned": 2, "has_more": True}
    assert set(body) == {"slug", "columns", "rows", "page", "time"}


def test_read_api_needs_the_key(fincome_api: FincomeEmulator) -> None:
    assert httpx.get(fincome_api.url + "/metrics").status_code == 401
    assert httpx.get(fincome_api.url + "/views/invoices/query").status_code == 401
