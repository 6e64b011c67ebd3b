"""The Metronome emulator's HTTP surface: Metronome's v1 routes and the v2 contract reads.

Layers, outermost first: the request log, fault injection, bearer auth (401 `{"message"}`),
then the routes. Every error is `{"message": ...}`: 400 for a bad parameter or body, 404 for
an unknown id or path. Stainless SDK headers (`X-Stainless-*`, `User-Agent`) are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.common.asgi import ASGIApp, Receive, Scope, Send, send_json
from sandbox.common.control import ControlPlane
from sandbox.common.faults import FaultMiddleware
from sandbox.common.requestlog import RequestLogMiddleware
from sandbox.metronome.admin import admin_routes, reset_store
from sandbox.metronome.contract_params import contract_get_query, contract_list_query
from sandbox.metronome.errors import ApiError, BadRequest
from sandbox.metronome.generator import AccountSettings, utc_day
from sandbox.metronome.paging import single
from sandbox.metronome.params import bool_param, customer_query, invoice_query, page_request
from sandbox.metronome.snapshot import dump
from sandbox.metronome.store import MetronomeStore

_ID_SEGMENT = re.compile(r"(/(?:customers|invoices|planDetails)/)(?!(?:void|regenerate)$)[^/]+")


def build_app(
    *,
    token: str,
    seed: int = 1,
    customers: int = 50,
    months: int = 12,
    now: datetime | None = None,
    default_sort: str = "date_asc",
    contract_customers: int = 0,
) -> ASGIApp:
    """The emulator as an ASGI app; `now` defaults to the start of the current UTC day."""
    settings = AccountSettings(seed, customers, months, utc_day(now), contract_customers)
    store = MetronomeStore(settings, default_sort=default_sort)
    control = ControlPlane(
        reset=lambda options: reset_store(store, options),
        state=lambda: dump(store),
        extra_routes=admin_routes(store),
    )
    api = Starlette(
        routes=[*control.routes(), *api_routes(store)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    guarded = BearerAuth(api, token)
    return RequestLogMiddleware(FaultMiddleware(guarded, control.faults), control.log, route_of)


def route_of(path: str) -> str:
    """The route of a path with ids folded: `/v1/customers/{id}/invoices/{id}`."""
    return _ID_SEGMENT.sub(r"\1{id}", path)


class BearerAuth:
    """401 unless `Authorization: Bearer <token>`; the control plane needs no token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_emulator"):
            header = dict(scope["headers"]).get(b"authorization", b"")
            scheme, _, credentials = header.partition(b" ")
            if (scheme.lower() + b" " + credentials.strip()) != self.expected:
                await send_json(send, 401, {"message": "Unauthorized: missing or invalid token"})
                return
        await self.app(scope, receive, send)


def api_routes(store: MetronomeStore) -> list[BaseRoute]:
    def reply(body: bytes) -> Response:
        return Response(body, media_type="application/json")

    async def customers(request: Request) -> Response:
        return reply(store.list_customers(*customer_query(request.query_params)))

    async def customer(request: Request) -> Response:
        return reply(store.customer(request.path_params["customer_id"]))

    async def customer_plans(request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        return reply(store.customer_plans(customer_id, page_request(request.query_params)))

    async def invoices(request: Request) -> Response:
        query = invoice_query(request.query_params, store.default_sort)
        return reply(store.list_invoices(request.path_params["customer_id"], query))

    async def invoice(request: Request) -> Response:
        params = request.path_params
        skip_zero = bool_param(request.query_params, "skip_zero_qty_line_items", default=False)
        return reply(store.invoice(params["customer_id"], params["invoice_id"], skip_zero))

    async def plans(request: Request) -> Response:
        return reply(store.plans(page_request(request.query_params)))

    async def plan_detail(request: Request) -> Response:
        return reply(store.plan_detail(request.path_params["plan_id"]))

    async def plan_charges(request: Request) -> Response:
        plan_id = request.path_params["plan_id"]
        return reply(store.plan_charges(plan_id, page_request(request.query_params)))

    async def credit_types(request: Request) -> Response:
        return reply(store.credit_types(page_request(request.query_params)))

    async def contracts(request: Request) -> Response:
        return reply(store.list_contracts(contract_list_query(await request.body())))

    async def contract(request: Request) -> Response:
        return reply(store.contract(contract_get_query(await request.body())))

    async def void(request: Request) -> Response:
        return reply(single(orjson.dumps({"id": store.void(await _body_id(request))})))

    async def regenerate(request: Request) -> Response:
        return reply(single(orjson.dumps({"id": store.regenerate(await _body_id(request))})))

    customer_path = "/v1/customers/{customer_id}"
    return [
        Route("/v1/customers", customers),
        Route(customer_path, customer),
        Route(f"{customer_path}/plans", customer_plans),
        Route(f"{customer_path}/invoices", invoices),
        Route(f"{customer_path}/invoices/{{invoice_id}}", invoice),
        Route("/v1/plans", plans),
        Route("/v1/planDetails/{plan_id}", plan_detail),
        Route("/v1/planDetails/{plan_id}/charges", plan_charges),
        Route("/v1/credit-types/list", credit_types),
        Route("/v2/contracts/list", contracts, methods=["POST"]),
        Route("/v2/contracts/get", contract, methods=["POST"]),
        Route("/v1/invoices/void", void, methods=["POST"]),
        Route("/v1/invoices/regenerate", regenerate, methods=["POST"]),
    ]


async def _body_id(request: Request) -> str:
    try:
        body: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise BadRequest('the body must be JSON: {"id": "<invoice id>"}') from None
    invoice_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(invoice_id, str) or not invoice_id:
        raise BadRequest('the body needs an invoice id: {"id": "<invoice id>"}')
    return invoice_id


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return Response(
        orjson.dumps({"message": exc.message}), exc.status, media_type="application/json"
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "Not found" if exc.status_code == 404 else exc.detail
    return Response(
        orjson.dumps({"message": message}),
        exc.status_code,
        headers=exc.headers,
        media_type="application/json",
    )
