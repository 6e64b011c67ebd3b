"""The Metronome emulator's additions to the `/_emulator/` control plane.

| route | body | answers |
|---|---|---|
| `POST /_emulator/reset` (common) | `{"seed", "customers", "contract_customers", "months", "now", "default_sort"}`, all optional: omitted ones keep the current account's | `{"reset": true}` |
| `POST /_emulator/advance` | `{"days": 31, "void": 2, "regenerate": true}` | ids created, updated, finalized, settled, voided, regenerated |
| `POST /_emulator/invoices[?customer_id=]` | any JSON object, stored and served byte for byte | 201 `{"id"}` |
| `PATCH /_emulator/invoices/{id}` | fields to merge (RFC 7386: null removes) | `{"data": invoice}` |
| `GET /_emulator/summary` | | counts of customers and invoices by status, type, credit type |
"""  # noqa: E501

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.common.control import JSONResponse
from sandbox.metronome.clock import advance
from sandbox.metronome.errors import BadRequest
from sandbox.metronome.generator import generate_account, utc_day
from sandbox.metronome.snapshot import summary
from sandbox.metronome.store import MetronomeStore
from sandbox.metronome.wire import to_json


class ResetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    customers: int | None = Field(None, ge=0, le=100_000)
    contract_customers: int | None = Field(None, ge=0, le=10_000)
    months: int | None = Field(None, ge=0, le=240)
    now: datetime | None = None
    default_sort: Literal["date_asc", "date_desc"] | None = None


class AdvanceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(0, ge=0, le=3660)
    void: int = Field(0, ge=0)
    regenerate: bool = False


def reset_store(store: MetronomeStore, options: dict[str, Any]) -> None:
    """Regenerate the account; options not given keep the current account's values."""
    parsed = ResetOptions.model_validate(options)
    changes = parsed.model_dump(exclude_none=True, exclude={"default_sort", "now"})
    if parsed.now is not None:
        changes["now"] = utc_day(parsed.now)
    settings = dataclasses.replace(store.settings, **changes)
    if parsed.default_sort is not None:
        store.default_sort = parsed.default_sort
    store.load(generate_account(settings))


def admin_routes(store: MetronomeStore) -> list[BaseRoute]:
    async def advance_clock(request: Request) -> Response:
        try:
            options = AdvanceOptions.model_validate_json((await request.body()) or b"{}")
        except ValidationError as exc:
            raise BadRequest(str(exc)) from None
        report = advance(store, days=options.days, void=options.void, regenerate=options.regenerate)
        return JSONResponse(report)

    async def inject_invoice(request: Request) -> Response:
        customer_id = request.query_params.get("customer_id")
        key = store.inject(await request.body(), customer_id)
        return JSONResponse({"id": key}, status_code=201)

    async def patch_invoice(request: Request) -> Response:
        patched = store.patch(request.path_params["invoice_id"], await request.body())
        return Response(patched, media_type="application/json")

    async def show_summary(request: Request) -> Response:
        return Response(to_json(summary(store)), media_type="application/json")

    return [
        Route("/_emulator/advance", advance_clock, methods=["POST"]),
        Route("/_emulator/invoices", inject_invoice, methods=["POST"]),
        Route("/_emulator/invoices/{invoice_id}", patch_invoice, methods=["PATCH"]),
        Route("/_emulator/summary", show_summary, methods=["GET"]),
    ]
