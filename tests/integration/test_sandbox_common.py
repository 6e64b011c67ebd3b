"""The emulators' shared control plane and fault injection, on a tiny app over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.common.control import ControlPlane
from sandbox.common.faults import FaultMiddleware
from sandbox.common.requestlog import RequestLogMiddleware
from sandbox.common.server import ThreadServer, serve_in_thread


class Store:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ThreadServer, Store, ControlPlane]]:
    store = Store()

    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        store.items[body["id"]] = body
        return JSONResponse(body, status_code=201)

    async def read(request: Request) -> JSONResponse:
        return JSONResponse(store.items.get(request.path_params["id"]))

    control = ControlPlane(reset=lambda _: store.items.clear(), state=lambda: store.items)
    app = Starlette(
        routes=[
            Route("/things", create, methods=["POST"]),
            Route("/things/{id}", read),
            *control.routes(),
        ]
    )

    def route_of(path: str) -> str:
        return "/things/{id}" if path.count("/") > 1 else path

    asgi = RequestLogMiddleware(FaultMiddleware(app, control.faults), control.log, route_of)
    with serve_in_thread(asgi) as running:
        yield running, store, control


@pytest.fixture
def http(server: tuple[ThreadServer, Store, ControlPlane]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0].url, timeout=5) as client:
        client.post("/_emulator/reset").raise_for_status()
        yield client


def test_reset_state_and_request_log(http: httpx.Client) -> None:
    assert http.post("/things", json={"id": "a"}).status_code == 201
    assert http.get("/_emulator/state").json() == {"a": {"id": "a"}}
    log = http.get("/_emulator/requests").json()
    assert log["total"] == 1
    assert log["by_route"] == {"POST /things": 1}
    assert log["requests"][0]["status"] == 201
    http.post("/_emulator/reset")
    assert http.get("/_emulator/state").json() == {}
    assert http.get("/_emulator/requests").json()["total"] == 0


def test_scripted_rule_fails_exactly_the_chosen_requests(http: httpx.Client) -> None:
    rules = [{"kind": "throttle", "status": 429, "retry_after": 2, "path_contains": "/things/b"},
             {"kind": "error", "status": 503, "method": "GET", "skip": 1, "times": 2}]  # fmt: skip
    http.put("/_emulator/faults", json={"rules": rules}).raise_for_status()
    first = http.get("/things/b")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    statuses = [http.get("/things/x").status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert http.get("/_emulator/faults").json()["injected"] == {"throttle": 1, "error": 2}


def test_applied_error_writes_and_still_answers_500(
    http: httpx.Client, server: tuple[ThreadServer, Store, ControlPlane]
) -> None:
    http.put("/_emulator/faults", json={"applied_error_rate": 1.0}).raise_for_status()
    assert http.post("/things", json={"id": "dup"}).status_code == 500
    assert "dup" in server[1].items


def test_drop_cuts_the_response_short(http: httpx.Client) -> None:
    http.put("/_emulator/faults", json={"drop_rate": 1.0}).raise_for_status()
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/things/a")


def test_requests_per_second_limit_answers_429_with_retry_after(http: httpx.Client) -> None:
    http.put("/_emulator/faults", json={"rps_limit": 2}).raise_for_status()
    statuses = [http.get("/things/a") for _ in range(6)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled
    assert all(0 < float(r.headers["retry-after"]) <= 1 for r in throttled)


def test_fail_ids_and_control_plane_is_never_faulted(http: httpx.Client) -> None:
    http.put("/_emulator/faults", json={"fail_ids": ["bad"], "error_rate": 0.0}).raise_for_status()
    assert http.post("/things", json={"id": "bad"}).status_code == 500
    assert http.post("/things", json={"id": "good"}).status_code == 201
    http.put("/_emulator/faults", json={"error_rate": 1.0}).raise_for_status()
    assert http.get("/_emulator/state").status_code == 200


def test_bad_control_requests_are_400s(http: httpx.Client) -> None:
    assert http.get("/_emulator/requests", params={"since": "x"}).status_code == 400
    for path in ("/_emulator/reset", "/_emulator/faults", "/_emulator/requests"):
        method = "POST" if path.endswith("reset") else "PUT"
        for body in (b"{not json", b"[1, 2]"):
            assert http.request(method, path, content=body).status_code == 400, (path, body)


def test_bad_fault_settings_are_refused(http: httpx.Client) -> None:
    response = http.put("/_emulator/faults", json={"error_rate": 2})
    assert response.status_code == 400
    assert http.put("/_emulator/faults", json={"nonsense": 1}).status_code == 400
