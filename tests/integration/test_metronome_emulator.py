"""The Metronome emulator over real HTTP on loopback: wire format, rules, control plane."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.common.server import spawned
from sandbox.metronome.generator import AccountSettings, generate_account
from tests.fixtures.metronome import PINNED_ACCOUNT, PINNED_NOW, MetronomeEmulator

ALL_CUSTOMERS = PINNED_ACCOUNT["customers"] + PINNED_ACCOUNT["contract_customers"]
STAINLESS_HEADERS = {
    "User-Agent": "Metronome/Python 4.1.0",
    "X-Stainless-Lang": "python",
    "X-Stainless-Package-Version": "4.1.0",
    "X-Stainless-Retry-Count": "0",
    "X-Stainless-Read-Timeout": "60",
}


def busiest_customer(api: MetronomeEmulator) -> str:
    customers = api.customers()
    customer_id: str = max(customers, key=lambda c: len(api.invoices(c["id"])))["id"]
    return customer_id


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"message"}
    message: str = body["message"]
    return message


def test_requests_need_the_bearer_token(metronome_api: MetronomeEmulator) -> None:
    with httpx.Client(base_url=metronome_api.url) as anonymous:
        assert "token" in error_of(anonymous.get("/v1/customers"), 401)
        wrong = {"Authorization": "Bearer nope"}
        error_of(anonymous.get("/v1/customers", headers=wrong), 401)
    sdk_call = metronome_api.request("GET", "/v1/customers", headers=STAINLESS_HEADERS)
    assert sdk_call.status_code == 200


def test_limit_one_visits_every_invoice_once(metronome_api: MetronomeEmulator) -> None:
    customer_id = busiest_customer(metronome_api)
    one_by_one = metronome_api.all_pages(f"/v1/customers/{customer_id}/invoices", limit=1)
    everything = metronome_api.invoices(customer_id)
    assert [i["id"] for i in one_by_one] == [i["id"] for i in everything]
    assert len({i["id"] for i in one_by_one}) == len(one_by_one) > 5


def test_customers_page_through_active_then_archived(metronome_api: MetronomeEmulator) -> None:
    active = metronome_api.all_pages("/v1/customers", limit=1)
    archived = metronome_api.customers(only_archived=True)
    assert all(c["archived_at"] is None for c in active)
    assert archived
    assert all(c["archived_at"] for c in archived)
    assert len(active) + len(archived) == ALL_CUSTOMERS
    two = [c["id"] for c in active[:2]]
    joined = metronome_api.get("/v1/customers", customer_ids=",".join(two))["data"]
    assert sorted(c["id"] for c in joined) == sorted(two)


def test_invoice_filters_and_sort(metronome_api: MetronomeEmulator) -> None:
    customer_id = busiest_customer(metronome_api)
    ascending = metronome_api.invoices(customer_id, sort="date_asc")
    descending = metronome_api.invoices(customer_id, sort="date_desc")
    assert [i["id"] for i in descending] == [i["id"] for i in reversed(ascending)]
    drafts = metronome_api.invoices(customer_id, status="DRAFT")
    assert drafts
    assert {i["status"] for i in drafts} == {"DRAFT"}
    march = metronome_api.invoices(
        customer_id, starting_on="2026-03-01T00:00:00Z", ending_before="2026-04-01T00:00:00Z"
    )
    assert march
    assert {(i["start_timestamp"], i["end_timestamp"]) for i in march} == {
        ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    }


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"sort": "newest"},
        {"starting_on": "last tuesday"},
        {"next_page": "not-a-cursor"},
    ],
)
def test_bad_parameters_are_400_with_a_message(
    metronome_api: MetronomeEmulator, params: dict[str, Any]
) -> None:
    customer_id = metronome_api.customers()[0]["id"]
    path = f"/v1/customers/{customer_id}/invoices"
    error_of(metronome_api.request("GET", path, params=params), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/customers/unknown",
        "/v1/customers/unknown/invoices",
        "/v1/customers/{customer}/invoices/unknown",
        "/v1/customers/unknown/plans",
        "/v1/planDetails/unknown",
        "/v1/planDetails/unknown/charges",
        "/v1/no-such-endpoint",
    ],
)
def test_unknown_ids_are_404_with_a_message(metronome_api: MetronomeEmulator, path: str) -> None:
    customer_id = metronome_api.customers()[0]["id"]
    error_of(metronome_api.request("GET", path.format(customer=customer_id)), 404)


def test_the_price_book_endpoints(metronome_api: MetronomeEmulator) -> None:
    plans = metronome_api.all_pages("/v1/plans", limit=2)
    assert len(plans) == 6
    for plan in plans:
        detail = metronome_api.get(f"/v1/planDetails/{plan['id']}")["data"]
        assert detail["name"] == plan["name"]
        charges = metronome_api.all_pages(f"/v1/planDetails/{plan['id']}/charges", limit=2)
        assert {c["charge_type"] for c in charges} <= {"usage", "fixed", "seat", "minimum"}
    units = metronome_api.all_pages("/v1/credit-types/list")
    assert {(u["name"], u["is_currency"]) for u in units} == {
        ("USD (cents)", True),
        ("EUR", True),
        ("Cloud credits", False),
    }
    customer_id = metronome_api.customers()[0]["id"]
    customer_plans = metronome_api.all_pages(f"/v1/customers/{customer_id}/plans")
    assert customer_plans
    assert {p["plan_id"] for p in customer_plans} <= {p["id"] for p in plans}


def test_money_reaches_the_client_with_exact_digits(metronome_api: MetronomeEmulator) -> None:
    seed, customers, months, contracts = (
        PINNED_ACCOUNT[k] for k in ("seed", "customers", "months", "contract_customers")
    )
    account = generate_account(AccountSettings(seed, customers, months, PINNED_NOW, contracts))
    customer_id = busiest_customer(metronome_api)
    expected = [i for i in account.invoices if i["customer_id"] == customer_id]
    served = {i["id"]: i for i in metronome_api.invoices(customer_id)}
    assert any(i["total"] % 1 for i in expected)  # fractional amounts are part of the check
    for invoice in expected:
        assert served[invoice["id"]]["total"] == invoice["total"]
        assert [line["total"] for line in served[invoice["id"]]["line_items"]] == [
            line["total"] for line in invoice["line_items"]
        ]


def finalized_invoice(api: MetronomeEmulator) -> tuple[str, dict[str, Any]]:
    customer_id = busiest_customer(api)
    invoice = api.invoices(customer_id, status="FINALIZED")[0]
    return customer_id, invoice


def test_void_then_regenerate(metronome_api: MetronomeEmulator) -> None:
    customer_id, invoice = finalized_invoice(metronome_api)

    def post(path: str, **options: Any) -> httpx.Response:
        return metronome_api.request("POST", path, **options)

    voided = post("/v1/invoices/void", json={"id": invoice["id"]})
    assert voided.json() == {"data": {"id": invoice["id"]}}
    listed = {i["id"]: i for i in metronome_api.invoices(customer_id)}
    assert listed[invoice["id"]]["status"] == "VOID"
    new_id = post("/v1/invoices/regenerate", json={"id": invoice["id"]}).json()["data"]["id"]
    assert new_id != invoice["id"]
    fresh = metronome_api.get(f"/v1/customers/{customer_id}/invoices/{new_id}")["data"]
    assert fresh["status"] == "FINALIZED"
    assert fresh["start_timestamp"] == invoice["start_timestamp"]
    error_of(post("/v1/invoices/regenerate", json={"id": new_id}), 400)
    error_of(post("/v1/invoices/void", json={"id": "unknown"}), 404)
    error_of(post("/v1/invoices/void", content=b"not json"), 400)


def test_advance_finalizes_drafts_and_opens_new_ones(metronome_api: MetronomeEmulator) -> None:
    customer_id = busiest_customer(metronome_api)
    drafts = {i["id"] for i in metronome_api.invoices(customer_id, status="DRAFT")}
    report = metronome_api.advance(days=31, void=1, regenerate=True)
    assert report["now"] == "2026-07-16T00:00:00Z"
    after = {i["id"]: i for i in metronome_api.invoices(customer_id)}
    finalized = [i for i in drafts if after[i]["status"] == "FINALIZED"]
    assert finalized
    assert set(finalized) <= set(report["finalized"])
    july = metronome_api.invoices(customer_id, status="DRAFT", starting_on="2026-07-01")
    assert july
    assert {i["id"] for i in july} <= set(report["created"])
    assert len(report["voided"]) == len(report["regenerated"]) == 1


def test_scripted_faults_answer_429_with_retry_after_then_500(
    metronome_api: MetronomeEmulator,
) -> None:
    metronome_api.set_faults(
        rules=[
            {"kind": "throttle", "status": 429, "path_contains": "/invoices", "retry_after": 2},
            {"kind": "error", "status": 500, "path_contains": "/invoices"},  # then this one
        ]
    )
    path = f"/v1/customers/{metronome_api.customers()[0]['id']}/invoices"
    throttled = metronome_api.request("GET", path)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "2"
    assert metronome_api.request("GET", path).status_code == 500
    assert metronome_api.request("GET", path).status_code == 200
    assert metronome_api.requests()["by_status"] == {"200": 2, "429": 1, "500": 1}


def test_the_request_log_folds_ids_into_routes(metronome_api: MetronomeEmulator) -> None:
    customers = metronome_api.customers()
    for customer in customers:
        metronome_api.invoices(customer["id"])
    invoice_id = metronome_api.invoices(customers[0]["id"])[0]["id"]
    metronome_api.get(f"/v1/customers/{customers[0]['id']}/invoices/{invoice_id}")
    log = metronome_api.requests()
    assert log["by_route"] == {
        "GET /v1/customers/{id}/invoices": len(customers) + 1,
        "GET /v1/customers": 1,
        "GET /v1/customers/{id}/invoices/{id}": 1,
    }
    assert log["total"] == len(customers) + 3


def test_injected_and_patched_invoices_are_served_as_stored(
    metronome_api: MetronomeEmulator,
) -> None:
    customer_id = metronome_api.customers()[0]["id"]
    raw = json.dumps({"id": "bad-1", "customer_id": customer_id, "total": "12.5"}).encode()
    assert metronome_api.inject(raw) == "bad-1"
    got = metronome_api.request("GET", f"/v1/customers/{customer_id}/invoices/bad-1")
    assert got.content == b'{"data":' + raw + b"}"
    listed = metronome_api.request("GET", f"/v1/customers/{customer_id}/invoices")
    assert raw in listed.content
    _, invoice = finalized_invoice(metronome_api)
    patched = metronome_api.patch(
        invoice["id"], external_invoice={"external_status": "UNCOLLECTIBLE"}
    )
    assert patched["external_invoice"]["external_status"] == "UNCOLLECTIBLE"
    assert patched["external_invoice"]["invoice_id"] == invoice["external_invoice"]["invoice_id"]


def test_state_summary_and_reset(metronome_api: MetronomeEmulator) -> None:
    state = metronome_api.state()
    summary = metronome_api.summary()
    assert len(state["invoices"]) == summary["invoices"]["total"]
    assert len(state["customers"]) == ALL_CUSTOMERS
    assert isinstance(state["invoices"][0]["total"], Decimal | int)
    metronome_api.reset(seed=99, customers=3, contract_customers=0, months=1)
    smaller = metronome_api.summary()
    assert smaller["settings"]["seed"] == 99
    assert smaller["customers"]["active"] + smaller["customers"]["archived"] == 3
    with httpx.Client(base_url=metronome_api.url) as http:
        error_of(http.post("/_emulator/reset", json={"customers": -1}), 400)
        error_of(http.post("/_emulator/advance", json={"days": "soon"}), 400)


def test_python_m_sandbox_serves_the_emulator() -> None:
    arguments = ["--seed", "1", "--customers", "5", "--months", "2", "--now", "2026-06-15"]
    with spawned("metronome", arguments) as server:
        response = httpx.get(
            server.url + "/v1/customers",
            headers={"Authorization": "Bearer emulator-metronome-token"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["data"]


CONTRACT_CUSTOMERS = PINNED_ACCOUNT["contract_customers"]  # every contract story once


def contract_pages(api: MetronomeEmulator, customer_id: str, **body: Any) -> list[Any]:
    pages, cursor = [], None
    while True:
        sent = {"customer_id": customer_id, **body, **({"cursor": cursor} if cursor else {})}
        response = api.request("POST", "/v2/contracts/list", json=sent)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["cursor"]
        if cursor is None:
            return pages


def contract_customers(api: MetronomeEmulator) -> list[str]:
    contracts = api.state()["contracts"]
    return sorted({contract["customer_id"] for contract in contracts})


def test_contracts_page_by_a_body_cursor(metronome_api: MetronomeEmulator) -> None:
    customers = contract_customers(metronome_api)
    assert len(customers) == CONTRACT_CUSTOMERS
    pages = {c: contract_pages(metronome_api, c, limit=1, include_archived=True) for c in customers}
    moved = next(c for c in customers if len(pages[c]) > 1)  # a draft contract, archived
    one_by_one = pages[moved]
    assert [len(page["data"]) for page in one_by_one] == [1, 1]
    whole = contract_pages(metronome_api, moved, include_archived=True)[0]["data"]
    assert [page["data"][0]["id"] for page in one_by_one] == [c["id"] for c in whole]
    active = contract_pages(metronome_api, moved)[0]["data"]
    assert [c["id"] for c in active] == [c["id"] for c in whole if "archived_at" not in c]
    got = metronome_api.request(
        "POST", "/v2/contracts/get", json={"customer_id": moved, "contract_id": whole[0]["id"]}
    )
    assert got.json() == {"data": whole[0]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"limit": 0},
        {"limit": 21},
        {"limit": 2.5},
        {"cursor": "not-a-cursor"},
        {"covering_date": "2026-01-01T00:00:00Z", "starting_at": "2026-01-01T00:00:00Z"},
        {"include_balance": "yes"},
        {"unknown": 1},
    ],
)
def test_bad_contract_list_bodies_are_400(
    metronome_api: MetronomeEmulator, body: dict[str, Any]
) -> None:
    customer_id = contract_customers(metronome_api)[0]
    sent = body if body == {} else {"customer_id": customer_id, **body}
    error_of(metronome_api.request("POST", "/v2/contracts/list", json=sent), 400)
    unknown = {"customer_id": "unknown"}
    error_of(metronome_api.request("POST", "/v2/contracts/list", json=unknown), 404)


def test_contract_list_filters_and_balances(metronome_api: MetronomeEmulator) -> None:
    customers = contract_customers(metronome_api)
    for customer_id in customers:
        listed = contract_pages(metronome_api, customer_id, include_balance=True)[0]["data"]
        for contract in listed:
            assert all("balance" in commit for commit in contract["commits"])
            later = contract_pages(metronome_api, customer_id, starting_at="2100-01-01")
            assert later[0]["data"] == []
            covering = contract_pages(metronome_api, customer_id, covering_date="2026-06-01")
            assert contract["id"] in {c["id"] for c in covering[0]["data"]}


def test_invoice_list_filters_of_the_sdk(metronome_api: MetronomeEmulator) -> None:
    customers = contract_customers(metronome_api)
    seen_types = set()
    for customer_id in customers:
        everything = metronome_api.invoices(customer_id, include_historical_commit_invoices="true")
        default = metronome_api.invoices(customer_id)
        assert {i["id"] for i in default} <= {i["id"] for i in everything}
        for kind in ("USAGE", "SCHEDULED", "USAGE_CONSOLIDATED"):
            typed = metronome_api.invoices(customer_id, type=kind)
            assert {i["type"] for i in typed} <= {kind}
            seen_types |= {i["type"] for i in typed}
        contract_ids = {i["contract_id"] for i in everything if "contract_id" in i}
        for contract_id in contract_ids:
            only = metronome_api.invoices(customer_id, contract_id=contract_id)
            assert only
            assert {i["contract_id"] for i in only} == {contract_id}
        skipped = metronome_api.invoices(customer_id, skip_zero_qty_line_items="true")
        assert all(line.get("quantity") != 0 for i in skipped for line in i["line_items"])
    assert seen_types == {"USAGE", "SCHEDULED", "USAGE_CONSOLIDATED"}
    hidden = sum(
        len(metronome_api.invoices(c, include_historical_commit_invoices="true"))
        - len(metronome_api.invoices(c))
        for c in customers
    )
    assert hidden == 1  # the backdated contract's first commit invoice
    path = f"/v1/customers/{customers[0]}/invoices"
    error_of(metronome_api.request("GET", path, params={"type": "PLAN_ARREARS"}), 400)
