"""The Fincome emulator's HTTP surface: CRUD routes per collection, the read API, auth, the
control plane and fault injection, wired around one `FincomeStore`.

| verb | path | answer |
|---|---|---|
| POST | `/{collection}` | 201 the stored record (with its lines); 409 the id exists |
| GET | `/{collection}/{id}` | 200 the record; 404 unknown id |
| PATCH | `/{collection}/{id}` | 202 the updated record; 404 unknown id |
| DELETE | `/{collection}/{id}` | 204 no body; 404 unknown id; 405 where the seed has no delete |

Deletes exist for `subscriptions`, `invoice_line_items`, `credit_notes` (with their lines) and
`credit_note_line_items`. A bad body answers 422 (see `errors.py`); a missing or wrong key in
the configured header answers 401 `{"detail": ...}`. The write routes are plain Starlette
routes (the body is parsed and validated once, answered with orjson); the read API is FastAPI's
(`readapi.py`) so its query parameters fail exactly as the real service's do.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.common.asgi import ASGIApp, Receive, Scope, Send, send_json
from sandbox.common.control import ControlPlane
from sandbox.common.faults import FaultMiddleware
from sandbox.common.requestlog import RequestLogMiddleware
from sandbox.fincome.errors import ApiError
from sandbox.fincome.readapi import Company, read_router
from sandbox.fincome.schema import COLLECTIONS
from sandbox.fincome.store import FincomeStore
from sandbox.fincome.wire import dumps, parse_body

DEFAULT_API_KEY = "emulator-fincome-key"
DEFAULT_KEY_HEADER = "X-API-KEY"


class ResetOptions(BaseModel):
    """Body of `POST /_emulator/reset`: `freshness_date` pins the company's freshness date
    (the read API's default `date_end`); without it the freshness date is today (UTC)."""

    model_config = ConfigDict(extra="forbid")

    freshness_date: date | None = None


def build_app(
    *, api_key: str = DEFAULT_API_KEY, key_header: str = DEFAULT_KEY_HEADER, seed: int = 1
) -> ASGIApp:
    """The emulator as an ASGI app. `seed` is the emulated company's id (`meta.company_id`)."""
    store = FincomeStore()
    company = Company(company_id=seed)

    def reset(options: dict[str, Any]) -> None:
        settings = ResetOptions.model_validate(options)
        store.reset()
        company.pinned_freshness = settings.freshness_date

    def state() -> orjson.Fragment:
        return orjson.Fragment(dumps(store.dump()))

    control = ControlPlane(reset=reset, state=state)
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    api.add_exception_handler(ApiError, _api_error)
    api.include_router(read_router(store, company))
    api.router.routes.extend([*_crud_routes(store), *control.routes()])
    guarded = ApiKeyMiddleware(api, api_key=api_key, key_header=key_header)
    return RequestLogMiddleware(FaultMiddleware(guarded, control.faults), control.log, route_of)


def route_of(path: str) -> str:
    """Fold record ids out of paths so the request log groups calls by endpoint."""
    collection, _, record_id = path.strip("/").partition("/")
    return f"/{collection}/{{id}}" if record_id and collection in COLLECTIONS else path


class ApiKeyMiddleware:
    """401 unless the configured header (case-insensitive name) carries the key.

    The control plane (`/_emulator/...`) needs no key: it is the test harness, not the API.
    """

    def __init__(self, app: ASGIApp, *, api_key: str, key_header: str) -> None:
        self.app = app
        self._key = api_key.encode()
        self._header = key_header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == self._header), None)
        if given is not None and hmac.compare_digest(given, self._key):
            await self.app(scope, receive, send)
            return
        detail = "Not authenticated" if given is None else "Invalid API key"
        await send_json(send, 401, {"detail": detail}, {"www-authenticate": "APIKey"})


Endpoint = Callable[[Request], Awaitable[Response]]


def _crud_routes(store: FincomeStore) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name, spec in COLLECTIONS.items():
        item_methods = ["GET", "PATCH", *(["DELETE"] if spec.deletable else [])]
        routes.append(Route(f"/{name}", _create(store, name), methods=["POST"]))
        routes.append(Route(f"/{name}/{{id}}", _item(store, name), methods=item_methods))
    return routes


def _create(store: FincomeStore, collection: str) -> Endpoint:
    async def create(request: Request) -> Response:
        record = store.create(collection, parse_body(await request.body()))
        return _json(201, record)

    return create


def _item(store: FincomeStore, collection: str) -> Endpoint:
    async def item(request: Request) -> Response:
        record_id = request.path_params["id"]
        if request.method == "GET":
            return _json(200, store.read(collection, record_id))
        if request.method == "PATCH":
            body = parse_body(await request.body())
            return _json(202, store.update(collection, record_id, body))
        store.delete(collection, record_id)
        return Response(status_code=204)

    return item


def _json(status: int, payload: Any) -> Response:
    return Response(dumps(payload), status_code=status, media_type="application/json")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json(exc.status_code, {"detail": exc.detail})
