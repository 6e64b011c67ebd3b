"""Fault injection for the emulators, as ASGI middleware in front of the API routes.

Two kinds of faults, both set through `PUT /_emulator/faults`:
- rates (chaos): a share of requests answers 5xx, 429 with Retry-After, hangs past the
  client's timeout, drops the connection mid-response, or is applied and still answered 500;
  plus added latency and a requests-per-second limit enforced with 429s;
- rules (scripted): the next `times` requests matching a method and path fragment, after
  `skip` matching ones, get a chosen fault. Tests use rules to fail exactly where they want.
  Rules are tried in order and the first that fires wins; a rule counts only the requests that
  reach it, so a request faulted by an earlier rule does not count towards a later rule's skip.
Control-plane paths (`/_emulator/...`) are never faulted.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import MutableMapping
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from sandbox.common.asgi import ASGIApp, Receive, Scope, Send, send_json

FaultKind = Literal["error", "throttle", "applied_error", "hang", "drop"]


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FaultKind = "error"
    method: str | None = None
    path_contains: str | None = None
    status: int = 500
    retry_after: float | None = 1.0
    skip: int = 0
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path_contains or self.path_contains in path


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    error_rate: float = Field(0.0, ge=0, le=1)
    error_status: int = 500
    throttle_rate: float = Field(0.0, ge=0, le=1)
    retry_after: float = Field(1.0, ge=0)
    applied_error_rate: float = Field(0.0, ge=0, le=1)
    hang_rate: float = Field(0.0, ge=0, le=1)
    hang_seconds: float = Field(30.0, ge=0)
    drop_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: float = Field(0.0, ge=0)
    rps_limit: float | None = Field(None, gt=0)
    fail_ids: list[str] = Field(default_factory=list)
    rules: list[FaultRule] = Field(default_factory=list)


class _TokenBucket:
    """At most `rate` requests per second with one second of burst."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.updated = time.monotonic()

    def take(self) -> float | None:
        """Take a token, or return how long until one is free."""
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class FaultState:
    """The current fault settings and the counters of what was injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self._bucket = _TokenBucket(settings.rps_limit) if settings.rps_limit else None
            self._seen = [0] * len(settings.rules)
            self.injected: dict[str, int] = {}

    def describe(self) -> dict[str, Any]:
        return {"settings": self.settings.model_dump(), "injected": dict(self.injected)}

    def choose(self, method: str, path: str, body_id: str | None) -> tuple[FaultKind, Any] | None:
        """Decide this request's fault, if any: (kind, detail)."""
        with self._lock:
            fault = self._choose(method, path, body_id)
            if fault is not None:
                self.injected[fault[0]] = self.injected.get(fault[0], 0) + 1
            return fault

    def _choose(self, method: str, path: str, body_id: str | None) -> tuple[FaultKind, Any] | None:
        s = self.settings
        for index, rule in enumerate(s.rules):
            if rule.matches(method, path):
                self._seen[index] += 1
                if rule.skip < self._seen[index] <= rule.skip + rule.times:
                    return rule.kind, rule
        if self._bucket is not None and (wait := self._bucket.take()) is not None:
            return "throttle", FaultRule(kind="throttle", status=429, retry_after=round(wait, 3))
        if s.fail_ids and (body_id in s.fail_ids or any(i in path for i in s.fail_ids)):
            return "error", FaultRule(status=s.error_status)
        roll = self._rng.random()
        chaos: tuple[tuple[FaultKind, float], ...] = (
            ("error", s.error_rate),
            ("throttle", s.throttle_rate),
            ("applied_error", s.applied_error_rate),
            ("hang", s.hang_rate),
            ("drop", s.drop_rate),
        )
        for kind, rate in chaos:
            if roll < rate:
                status = 429 if kind == "throttle" else s.error_status
                return kind, FaultRule(kind=kind, status=status, retry_after=s.retry_after)
            roll -= rate
        return None


class FaultMiddleware:
    """Applies `FaultState` to every non-control request."""

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        latency = self.state.settings.latency_ms
        if latency:
            await asyncio.sleep(latency / 1000)
        fault = self.state.choose(scope["method"], scope["path"], _body_id(body))
        replay = _replay(body)
        if fault is None:
            await self.app(scope, replay, send)
            return
        kind, rule = fault
        if kind == "applied_error":
            await self.app(scope, replay, _discard)
            await send_json(send, 500, {"detail": "injected fault after the write was applied"})
        elif kind == "hang":
            await asyncio.sleep(self.state.settings.hang_seconds)
            await send_json(send, 504, {"detail": "injected hang"})
        elif kind == "drop":
            await _truncated_response(send)
        else:
            headers = {}
            if rule.status == 429 and rule.retry_after is not None:
                headers["retry-after"] = f"{rule.retry_after:g}"
            await send_json(send, rule.status, {"message": "injected fault"}, headers)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # like a client that sent everything: no more messages
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _body_id(body: bytes) -> str | None:
    if not body:
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = parsed.get("id") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None


async def _discard(message: MutableMapping[str, Any]) -> None:
    return None


async def _truncated_response(send: Send) -> None:
    """Promise a body and stop half way: the client sees the connection drop mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
    raise ConnectionAbortedError("injected dropped connection")
