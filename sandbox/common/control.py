"""The `/_emulator/` control plane: reset, state, requests, faults, plus emulator extras."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.common.faults import FaultSettings, FaultState
from sandbox.common.requestlog import RequestLog


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


@dataclass
class ControlPlane:
    """What an emulator exposes to its control routes.

    `reset(options)` rebuilds the store (options are emulator-specific, e.g. a seed) and
    `state()` dumps everything stored. Faults and the request log are cleared on reset.
    """

    reset: Callable[[dict[str, Any]], None]
    state: Callable[[], Any]
    faults: FaultState = field(default_factory=FaultState)
    log: RequestLog = field(default_factory=RequestLog)
    extra_routes: Sequence[BaseRoute] = ()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_emulator/reset", self._reset, methods=["POST"]),
            Route("/_emulator/state", self._state, methods=["GET"]),
            Route("/_emulator/requests", self._requests, methods=["GET", "DELETE", "PUT"]),
            Route("/_emulator/faults", self._faults, methods=["GET", "PUT", "DELETE"]),
            *self.extra_routes,
        ]

    async def _reset(self, request: Request) -> Response:
        try:
            self.reset(await _json_body(request))
        except (ValueError, ValidationError) as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        self.faults.configure(FaultSettings())
        self.log.clear()
        return JSONResponse({"reset": True})

    async def _state(self, request: Request) -> Response:
        return JSONResponse(self.state())

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.log.clear()
        elif request.method == "PUT":
            try:
                options = await _json_body(request)
            except ValueError as exc:
                return JSONResponse({"message": str(exc)}, status_code=400)
            self.log.capture_bodies = bool(options.get("capture_bodies", False))
        try:
            since = int(request.query_params.get("since", 0))
            limit = int(request.query_params.get("limit", 1000))
        except ValueError:
            return JSONResponse({"message": "since and limit must be integers"}, status_code=400)
        return JSONResponse(
            {**self.log.summary(), "requests": self.log.entries(since=since, limit=limit)}
        )

    async def _faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.faults.configure(FaultSettings.model_validate(await _json_body(request)))
            except (ValueError, ValidationError) as exc:
                return JSONResponse({"message": str(exc)}, status_code=400)
        elif request.method == "DELETE":
            self.faults.configure(FaultSettings())
        return JSONResponse(self.faults.describe())


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


Handler = Callable[[Request], Awaitable[Response]]
