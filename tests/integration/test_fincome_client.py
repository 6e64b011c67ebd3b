"""The Fincome client against the emulator: the wire format, upserts, errors, faults, reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from destinations.fincome import (
    AuthenticationFailed,
    FincomeClient,
    FincomeSettings,
    ValidationFailed,
)
from destinations.fincome.errors import EndpointMissing
from httpkit import RetryPolicy
from tests.fixtures.fincome import FincomeEmulator, customer_body, invoice_body, line_body


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fincome_api: FincomeEmulator, sleeps: list[float]) -> Iterator[FincomeClient]:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    with FincomeClient(
        FincomeSettings(
            base_url=fincome_api.url, api_key=fincome_api.api_key, requests_per_second=None
        ),
        retry_policy=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        sleep=sleep,
    ) as client:
        yield client


def test_create_read_update_delete_round_trip(client: FincomeClient) -> None:
    assert client.create("customers", customer_body("cus_1")).action == "created"
    assert client.update("customers", "cus_1", {"email": "a@b.test"}).action == "updated"
    assert client.get("customers", "cus_1")["email"] == "a@b.test"
    lines = [line_body("inv_1:L0"), line_body("inv_1:L1", amount="0.10")]
    created = client.create("invoices", invoice_body("inv_1", lines=lines))
    assert created.item is not None
    assert [line["id"] for line in created.item["invoice_line_items"]] == ["inv_1:L0", "inv_1:L1"]
    assert client.delete("invoice_line_items", "inv_1:L1").action == "deleted"
    assert client.delete("invoice_line_items", "inv_1:L1").action == "absent"
    invoice = client.get("invoices", "inv_1")
    assert [line["id"] for line in invoice["invoice_line_items"]] == ["inv_1:L0"]
    assert invoice["invoice_line_items"][0]["amount_excluding_tax_after_discount"] == Decimal(100)


def test_upserts_converge_whatever_fincome_already_holds(
    client: FincomeClient, fincome_api: FincomeEmulator
) -> None:
    client.create("customers", customer_body("cus_1"))
    again = client.create("customers", customer_body("cus_1", name="Renamed"))
    assert again.action == "updated"
    full = invoice_body("inv_1", lines=[line_body("inv_1:L0")])
    recreated = client.update("invoices", "inv_1", {"status": "void"}, create_body=full)
    assert recreated.action == "created"
    state = fincome_api.state()
    assert state["customers"]["cus_1"]["name"] == "Renamed"
    assert set(state["invoice_line_items"]) == {"inv_1:L0"}
    # an invoice create that meets 409 updates the header and upserts every embedded line
    changed = invoice_body("inv_1", status="void", lines=[line_body("inv_1:L0", amount="7")])
    assert client.create("invoices", changed).action == "updated"
    state = fincome_api.state()
    assert state["invoices"]["inv_1"]["status"] == "void"
    assert state["invoice_line_items"]["inv_1:L0"]["amount_excluding_tax_after_discount"] == 7


def test_fincome_refusals_are_typed(client: FincomeClient, fincome_api: FincomeEmulator) -> None:
    with pytest.raises(ValidationFailed) as refused:
        client.create("invoices", invoice_body("inv_1", customer_id="cus_missing"))
    assert refused.value.status_code == 422
    assert any(entry["loc"] == ["body", "customer_id"] for entry in refused.value.detail)
    assert refused.value.reason.startswith("Fincome refused the body: body.customer_id: ")
    client.create("customers", customer_body("cus_1"))
    with pytest.raises(EndpointMissing) as no_delete:  # the seed lists no customer delete
        client.delete("customers", "cus_1")
    assert no_delete.value.status_code == 405
    assert no_delete.value.key == "destination.fincome.paths.customers"


def test_a_wrong_key_is_an_authentication_failure_that_never_shows_the_key(
    fincome_api: FincomeEmulator,
) -> None:
    wrong = "sk_not_the_right_key_555"
    client = FincomeClient(FincomeSettings(base_url=fincome_api.url, api_key=wrong))
    with client, pytest.raises(AuthenticationFailed) as raised:
        client.create("customers", customer_body())
    assert str(raised.value) == 'POST /customers answered 401: {"detail":"Invalid API key"}'
    assert wrong not in str(raised.value)


def test_retry_after_is_waited_out(
    client: FincomeClient, fincome_api: FincomeEmulator, sleeps: list[float]
) -> None:
    fincome_api.set_faults(
        rules=[{"kind": "throttle", "status": 429, "method": "POST", "retry_after": 0.3}]
    )
    assert client.create("customers", customer_body()).action == "created"
    assert sleeps[0] == 0.3
    assert client.stats.snapshot()["by_status"] == {"201": 1, "429": 1}


def test_a_create_applied_then_answered_500_is_not_duplicated(
    client: FincomeClient, fincome_api: FincomeEmulator
) -> None:
    fincome_api.set_faults(rules=[{"kind": "applied_error", "method": "POST"}])
    assert client.create("customers", customer_body("cus_1")).action == "updated"
    assert list(fincome_api.state()["customers"]) == ["cus_1"]
    assert fincome_api.requests()["by_status"] == {"202": 1, "409": 1, "500": 1}


def _seed_invoices(client: FincomeClient, count: int) -> None:
    client.create("customers", customer_body("cus_1"))
    for n in range(count):
        invoice_id = f"inv_{n}"
        line = line_body(f"{invoice_id}:L0", invoice_id, amount=f"{10 + n}.25")
        client.create("invoices", invoice_body(invoice_id, lines=[line]))


def test_views_are_described_and_queried_page_by_page(client: FincomeClient) -> None:
    _seed_invoices(client, 5)
    assert "invoices" in {view["slug"] for view in client.views.list()}
    columns = {column["name"] for column in client.views.describe("invoices")["columns"]}
    assert {"id", "total_amount"} <= columns
    rows = list(client.views.query("invoices", order_by="id", page_size=2))
    assert [row["id"] for row in rows] == [f"inv_{n}" for n in range(5)]
    assert rows[0]["total_amount"] == Decimal("10.25")
    paid = client.views.query("invoices", filters=[{"field": "id", "op": "eq", "value": "inv_3"}])
    assert [row["id"] for row in paid] == ["inv_3"]


def test_metrics_are_listed_and_computed(client: FincomeClient) -> None:
    _seed_invoices(client, 2)
    slugs = {m["slug"] for family in client.metrics.list() for m in family["metrics"]}
    assert {"mrr", "invoiced"} <= slugs
    assert client.metrics.dimensions("invoiced")
    result: dict[str, Any] = client.metrics.get(
        "invoiced", date_start=date(2024, 5, 1), date_end=date(2024, 5, 31)
    )
    [series] = result["series"]
    [point] = series["points"]
    assert point["value"] == Decimal("21.50")  # 10.25 + 11.25
