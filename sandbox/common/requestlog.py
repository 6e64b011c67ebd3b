"""The log of API calls an emulator received, for tests, benchmarks and `/_emulator/requests`."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any

from sandbox.common.asgi import ASGIApp, Receive, Scope, Send


class RequestLog:
    """Keeps the last `capacity` calls and running totals of all of them.

    Bodies of writes are kept only when `capture_bodies` is on (tests turn it on; a
    benchmark pushing 100k invoices does not want them in memory).
    """

    def __init__(self, *, capacity: int = 200_000, capture_bodies: bool = False) -> None:
        self.capacity = capacity
        self.capture_bodies = capture_bodies
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._entries: deque[dict[str, Any]] = deque(maxlen=self.capacity)
            self._seq = 0
            self._by_route: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._first: float | None = None
            self._last: float | None = None

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)
            self._by_route[f"{entry['method']} {entry['route']}"] += 1
            self._by_status[entry["status"]] += 1
            self._first = self._first or entry["started"]
            self._last = entry["started"] + entry["duration_ms"] / 1000

    def summary(self) -> dict[str, Any]:
        with self._lock:
            span = (self._last - self._first) if self._first and self._last else 0.0
            return {
                "total": self._seq,
                "by_route": dict(self._by_route.most_common()),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                "span_seconds": round(span, 3),
                "requests_per_second": round(self._seq / span, 1) if span > 0 else None,
            }

    def entries(self, *, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._entries if e["seq"] > since][:limit]


class RequestLogMiddleware:
    """Outermost middleware: records what the client finally saw (faults included).

    `route_of(path)` folds ids out of paths (`/customers/{id}`) so totals group by endpoint.
    """

    def __init__(self, app: ASGIApp, log: RequestLog, route_of: Any = None) -> None:
        self.app = app
        self.log = log
        self.route_of = route_of or (lambda path: path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        started = time.time()
        status = 0
        body_parts: list[bytes] = []

        async def capture_receive() -> Any:
            message = await receive()
            if self.log.capture_bodies and message["type"] == "http.request":
                body_parts.append(message.get("body", b""))
            return message

        async def capture_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, capture_receive, capture_send)
        finally:
            entry: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"],
                "route": self.route_of(scope["path"]),
                "query": scope.get("query_string", b"").decode("latin-1"),
                "status": status or 599,
                "started": started,
                "duration_ms": round((time.time() - started) * 1000, 3),
            }
            if body_parts:
                entry["body"] = b"".join(body_parts).decode("utf-8", "replace")
            self.log.add(entry)
