"""The source against a server that speaks Metronome's wire format but is not our emulator.

A few hand-written records behind bearer auth and opaque cursors, with the liberties the
API documents: `next_page` missing on the last page, millisecond timestamps, fields our
emulator never sends. The source runs as any dlt user would run it: token from the
environment, its own pipeline.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipelines.staging import iter_customer_bundles
from sandbox.common.server import serve_in_thread
from sources.metronome import metronome_source
from sources.metronome.client import MetronomeAuthError

TOKEN = "foreign-token"
EUR = {"id": "eur-1", "name": "EUR"}
CUSTOMERS = [
    {"id": "cus-b", "name": "Beta GmbH", "external_id": "b", "ingest_aliases": ["b"],
     "custom_fields": {}, "customer_config": {}, "created_at": "2025-01-02T03:04:05.000Z",
     "updated_at": "2025-01-02T03:04:05.000Z", "archived_at": None},
    {"id": "cus-a", "name": "Alpha SAS", "external_id": "a", "ingest_aliases": [],
     "custom_fields": {"country": "FR"}, "customer_config": {},
     "created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z",
     "archived_at": None, "loyalty_tier": "gold"},
]  # fmt: skip
ARCHIVED = [
    {"id": "cus-z", "name": "Zed Ltd", "external_id": "z", "ingest_aliases": [],
     "custom_fields": {}, "customer_config": {}, "created_at": "2024-01-01T00:00:00.000Z",
     "updated_at": "2025-03-01T00:00:00.000Z", "archived_at": "2025-03-01T00:00:00.000Z"},
]  # fmt: skip


def invoice(number: int, customer_id: str, month: int, status: str, total: str) -> dict[str, Any]:
    return {
        "id": f"inv-{number}", "customer_id": customer_id, "type": "PLAN_ARREARS",
        "status": status, "credit_type": EUR, "total": Decimal(total), "subtotal": Decimal(total),
        "start_timestamp": f"2025-{month:02d}-01T00:00:00.000Z",
        "end_timestamp": f"2025-{month + 1:02d}-01T00:00:00.000Z",
        "line_items": [{"name": "Seats", "total": Decimal(total), "credit_type": EUR,
                        "type": "usage", "sub_line_items": []}],
        "invoice_adjustments": [], "tax_breakdown": {"vat": "0.2"},
    }  # fmt: skip


INVOICES = {
    "cus-a": [invoice(1, "cus-a", 1, "FINALIZED", "100.10"), invoice(2, "cus-a", 2, "DRAFT", "5")],
    "cus-b": [invoice(3, "cus-b", 1, "VOID", "0.01")],
    "cus-z": [invoice(4, "cus-z", 1, "FINALIZED", "42")],
}
PLANS = [{"id": "plan-1", "name": "Team", "description": "per seat"}]
PLAN_DETAIL = {"id": "plan-1", "name": "Team", "custom_fields": {}, "minimums": []}
CHARGES = [
    {"id": "chg-1", "name": "Seat", "charge_type": "seat", "product_id": "p",
     "product_name": "Seat", "credit_type": EUR, "custom_fields": {},
     "prices": [{"tier": 0, "value": Decimal("9.5")}]},
]  # fmt: skip
CREDIT_TYPES = [{"id": "eur-1", "name": "EUR", "is_currency": True}]


def page(request: Request, items: list[dict[str, Any]]) -> Response:
    """Opaque base64 cursors; the last page omits `next_page` altogether."""
    limit = int(request.query_params.get("limit", "10"))
    cursor = request.query_params.get("next_page")
    start = int(base64.urlsafe_b64decode(cursor)) if cursor else 0
    body: dict[str, Any] = {"data": items[start : start + limit]}
    if start + limit < len(items):
        body["next_page"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return JSONResponse(_plain(body))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def build_foreign_app(seen: list[Request]) -> Starlette:
    async def customers(request: Request) -> Response:
        archived = request.query_params.get("only_archived") == "true"
        return page(request, ARCHIVED if archived else CUSTOMERS)

    async def invoices(request: Request) -> Response:
        starting_on = request.query_params.get("starting_on", "")
        items = INVOICES.get(request.path_params["cid"], [])
        return page(request, [i for i in items if i["start_timestamp"] >= starting_on])

    async def customer_plans(request: Request) -> Response:
        cid = request.path_params["cid"]
        plan = {"id": f"cp-{cid}", "plan_id": "plan-1", "plan_name": "Team",
                "plan_description": "", "starting_on": "2025-01-01T00:00:00Z",
                "custom_fields": {}}  # fmt: skip
        return page(request, [plan])

    async def plan_detail(request: Request) -> Response:
        return JSONResponse({"data": PLAN_DETAIL})

    routes = [
        Route("/v1/customers", customers),
        Route("/v1/customers/{cid}/invoices", invoices),
        Route("/v1/customers/{cid}/plans", customer_plans),
        Route("/v1/plans", lambda r: page(r, PLANS)),
        Route("/v1/planDetails/{pid}", plan_detail),
        Route("/v1/planDetails/{pid}/charges", lambda r: page(r, CHARGES)),
        Route("/v1/credit-types/list", lambda r: page(r, CREDIT_TYPES)),
    ]

    async def bearer(request: Request, call_next: Any) -> Response:
        seen.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        response: Response = await call_next(request)
        return response

    return Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=bearer)])


@pytest.fixture
def foreign(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[Request]]]:
    seen: list[Request] = []
    with serve_in_thread(build_foreign_app(seen)) as server:
        monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", server.url)
        monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", TOKEN)
        monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")
        monkeypatch.setenv("SOURCES__METRONOME__PAGE_SIZE", "1")
        yield server.url, seen


def pipeline(tmp_path: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        "foreign_metronome",
        destination=dlt.destinations.duckdb(str(tmp_path / "foreign.duckdb")),
        dataset_name="metronome_raw",
        pipelines_dir=str(tmp_path / "dlt"),
    )


def test_a_foreign_server_is_extracted_whole(
    foreign: tuple[str, list[Request]], tmp_path: Path
) -> None:
    _, seen = foreign
    info = pipeline(tmp_path).run(metronome_source())
    info.raise_on_failed_jobs()

    bundles = {b.customer["id"]: b for b in iter_customer_bundles(tmp_path / "foreign.duckdb")}
    assert list(bundles) == ["cus-a", "cus-b", "cus-z"]
    assert bundles["cus-a"].customer["loyalty_tier"] == "gold"  # unknown fields are kept
    assert bundles["cus-z"].customer["archived_at"] == "2025-03-01T00:00:00Z"
    assert [i["id"] for i in bundles["cus-a"].invoices] == ["inv-1", "inv-2"]
    assert bundles["cus-a"].invoices[0]["total"] == Decimal("100.1")
    assert bundles["cus-a"].invoices[0]["tax_breakdown"] == {"vat": "0.2"}
    assert bundles["cus-b"].invoices[0]["status"] == "VOID"
    assert bundles["cus-z"].plans[0]["customer_id"] == "cus-z"
    with duckdb.connect(str(tmp_path / "foreign.duckdb")) as connection:
        charges = connection.execute(
            "SELECT id, plan_id FROM metronome_raw.plan_charges"
        ).fetchall()
    assert charges == [("chg-1", "plan-1")]
    assert any(r.query_params.get("next_page") for r in seen)  # pages of one were followed


def test_the_next_run_asks_only_for_recent_periods(
    foreign: tuple[str, list[Request]], tmp_path: Path
) -> None:
    _, seen = foreign
    pipeline(tmp_path).run(metronome_source()).raise_on_failed_jobs()
    seen.clear()

    pipeline(tmp_path).run(metronome_source(lookback_days=10)).raise_on_failed_jobs()

    windows = {
        r.path_params["cid"]: r.query_params.get("starting_on")
        for r in seen
        if r.url.path.endswith("/invoices")
    }
    # cus-a still has a February draft; the others end in January (minus 10 days)
    assert windows == {
        "cus-a": "2025-01-22T00:00:00Z",
        "cus-b": "2024-12-22T00:00:00Z",
        "cus-z": "2024-12-22T00:00:00Z",
    }


def test_a_refused_token_stops_the_run(
    foreign: tuple[str, list[Request]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "wrong")
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline(tmp_path).run(metronome_source())
    cause: BaseException | None = failed.value
    while cause is not None and not isinstance(cause, MetronomeAuthError):
        cause = cause.__cause__
    assert isinstance(cause, MetronomeAuthError)
    assert "wrong" not in str(failed.value)
