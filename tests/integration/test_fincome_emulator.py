"""The Fincome emulator over real HTTP: status codes per verb, auth, wire format, faults."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sandbox.common.server import serve_in_thread, spawned
from sandbox.fincome.app import build_app
from tests.fixtures.fincome import (
    FincomeEmulator,
    credit_note_body,
    customer_body,
    invoice_body,
    line_body,
    to_json,
)

JSON = {"content-type": "application/json"}


@pytest.fixture
def http(fincome_api: FincomeEmulator) -> httpx.Client:
    return fincome_api.client()


def post(http: httpx.Client, path: str, body: object) -> httpx.Response:
    return http.post(path, content=to_json(body), headers=JSON)


def seed_invoice(http: httpx.Client) -> None:
    assert post(http, "/customers", customer_body("cus_1")).status_code == 201
    assert post(http, "/invoices", invoice_body("inv_1")).status_code == 201


def test_crud_status_codes(http: httpx.Client) -> None:
    created = post(http, "/customers", customer_body("cus_1"))
    assert created.status_code == 201
    assert set(created.json()) >= {"created_at", "updated_at", "id", "custom_properties"}
    assert post(http, "/customers", customer_body("cus_1")).json() == {
        "detail": "customers 'cus_1' already exists"
    }
    assert http.get("/customers/cus_1").status_code == 200
    assert http.get("/customers/nope").status_code == 404
    updated = http.patch("/customers/cus_1", json={"name": "Renamed"})
    assert (updated.status_code, updated.json()["name"]) == (202, "Renamed")
    assert http.patch("/customers/nope", json={"name": "x"}).status_code == 404


@pytest.mark.parametrize("collection", ["customers", "products", "prices", "invoices"])
def test_collections_without_delete_answer_405(http: httpx.Client, collection: str) -> None:
    response = http.delete(f"/{collection}/anything")
    assert (response.status_code, response.json()) == (405, {"detail": "Method Not Allowed"})


def test_delete_answers_204_then_404(http: httpx.Client) -> None:
    seed_invoice(http)
    assert post(http, "/credit_notes", credit_note_body()).status_code == 201
    response = http.delete("/credit_notes/cn_1")
    assert (response.status_code, response.content) == (204, b"")
    assert http.get("/credit_note_line_items/cn_1:L0").status_code == 404
    assert http.delete("/credit_notes/cn_1").status_code == 404
    assert http.delete("/invoice_line_items/inv_1:L0").status_code == 204
    assert http.get("/invoices/inv_1").json()["invoice_line_items"] == []


def test_unknown_collection_is_404(http: httpx.Client) -> None:
    assert http.post("/clients", json={"id": "x"}).status_code == 404


def test_key_is_required_in_the_configured_header(fincome_api: FincomeEmulator) -> None:
    url = fincome_api.url + "/customers/x"
    assert httpx.get(url).json() == {"detail": "Not authenticated"}
    assert httpx.get(url, headers={"X-API-KEY": "wrong"}).status_code == 401
    bearer = {"Authorization": f"Bearer {fincome_api.api_key}"}
    assert httpx.get(url, headers=bearer).status_code == 401
    assert httpx.get(url, headers={"x-api-key": fincome_api.api_key}).status_code == 404


def test_key_header_is_configurable() -> None:
    with serve_in_thread(build_app(api_key="secret", key_header="Fincome-Key")) as server:
        assert (
            httpx.get(server.url + "/customers/x", headers={"fincome-key": "secret"}).status_code
            == 404
        )
        assert (
            httpx.get(server.url + "/customers/x", headers={"X-API-KEY": "secret"}).status_code
            == 401
        )


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]),
        (b'{"id": ', [{"type": "json_invalid", "loc": ["body", 7], "msg": "JSON decode error",
                       "input": {}, "ctx": {"error": "Expecting value"}}]),
        (b'{"id": NaN}', [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                           "input": {}, "ctx": {"error": "NaN is not valid JSON"}}]),
    ],
)  # fmt: skip
def test_unreadable_bodies_answer_fastapi_422(
    http: httpx.Client, raw: bytes, detail: object
) -> None:
    response = http.post("/customers", content=raw, headers=JSON)
    assert (response.status_code, response.json()) == (422, {"detail": detail})


def test_validation_error_shape(http: httpx.Client) -> None:
    response = post(http, "/prices", {"id": "p", "amount": "12"})
    assert response.status_code == 422
    error = {
        "type": "float_type",
        "loc": ["body", "amount"],
        "msg": "Input should be a valid number",
    }
    assert response.json() == {"detail": [{**error, "input": "12"}]}


def test_money_keeps_every_digit(http: httpx.Client, fincome_api: FincomeEmulator) -> None:
    post(http, "/customers", customer_body("cus_1"))
    amount = "12345678901234.123456789"
    body = invoice_body("inv_1", lines=[line_body(amount=amount)])
    response = post(http, "/invoices", body)
    assert f'"amount_excluding_tax_after_discount":{amount},' in response.text
    stored = fincome_api.state()["invoice_line_items"]["inv_1:L0"]
    assert stored["amount_excluding_tax_after_discount"] == Decimal(amount)


def test_invoice_whose_line_exists_conflicts_as_a_whole(
    http: httpx.Client, fincome_api: FincomeEmulator
) -> None:
    seed_invoice(http)
    body = invoice_body(
        "inv_2", lines=[line_body("inv_2:L0", "inv_2"), line_body("inv_1:L0", "inv_2")]
    )
    assert post(http, "/invoices", body).status_code == 409
    state = fincome_api.state()
    assert set(state["invoices"]) == {"inv_1"}
    assert set(state["invoice_line_items"]) == {"inv_1:L0"}


def test_applied_error_fault_stores_the_write_and_answers_500(
    http: httpx.Client, fincome_api: FincomeEmulator
) -> None:
    post(http, "/customers", customer_body("cus_1"))
    fincome_api.set_faults(
        rules=[{"kind": "applied_error", "method": "POST", "path_contains": "/invoices"}]
    )
    assert post(http, "/invoices", invoice_body("inv_1")).status_code == 500
    assert set(fincome_api.state()["invoice_line_items"]) == {"inv_1:L0"}
    assert post(http, "/invoices", invoice_body("inv_1")).status_code == 409  # a naive retry


def test_applied_error_rate_applies_every_write(
    http: httpx.Client, fincome_api: FincomeEmulator
) -> None:
    fincome_api.set_faults(applied_error_rate=1.0)
    statuses = [post(http, "/customers", customer_body(f"cus_{i}")).status_code for i in range(3)]
    assert statuses == [500, 500, 500]
    assert set(fincome_api.state()["customers"]) == {"cus_0", "cus_1", "cus_2"}


def test_request_log_groups_calls_by_endpoint(
    http: httpx.Client, fincome_api: FincomeEmulator
) -> None:
    seed_invoice(http)
    http.get("/invoices/inv_1")
    http.get("/invoice_line_items/inv_1:L0")
    http.get("/invoices/nope")
    log = fincome_api.requests()
    assert log["by_route"] == {
        "POST /customers": 1,
        "POST /invoices": 1,
        "GET /invoices/{id}": 2,
        "GET /invoice_line_items/{id}": 1,
    }
    assert log["by_status"] == {"200": 2, "201": 2, "404": 1}


def test_python_m_sandbox_serves_the_emulator() -> None:
    with spawned(
        "fincome", ["--api-key", "k", "--key-header", "Fincome-Key", "--seed", "9"]
    ) as server:
        headers = {"Fincome-Key": "k"}
        created = httpx.post(server.url + "/customers", json={"id": "c"}, headers=headers)
        assert created.status_code == 201
        metric = httpx.get(server.url + "/metrics/mrr", headers=headers).json()
        assert metric["meta"]["company_id"] == 9
