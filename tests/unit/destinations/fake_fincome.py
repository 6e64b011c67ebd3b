"""A Fincome behind `httpx.MockTransport`: accepts every write unless told otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from destinations.fincome import FincomeClient, FincomeSettings

Call = tuple[str, str, str]  # method, collection, id
KEY = "unit-test-key"
SUCCESS = {"POST": 201, "PATCH": 202, "DELETE": 204}


class FakeFincome:
    """`refuse[(method, id)] = status` answers that status (with a 422-style `detail`);
    `calls` and `bodies` record what came, from any number of threads."""

    def __init__(self) -> None:
        self.refuse: dict[tuple[str, str], int] = {}
        self.calls: list[Call] = []
        self.bodies: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        body: Any = orjson.loads(request.content) if request.content else None
        item_id = str(body["id"]) if request.method == "POST" else parts[-1]
        with self._lock:
            self.calls.append((request.method, parts[0], item_id))
            self.bodies[item_id] = body
        status = self.refuse.get((request.method, item_id))
        if status is not None:
            detail = [{"loc": ["body", "x"], "msg": "refused", "type": "reference_not_found"}]
            return httpx.Response(status, json={"detail": detail})
        return httpx.Response(SUCCESS[request.method])


@contextmanager
def client_of(fake: FakeFincome, **settings: Any) -> Iterator[FincomeClient]:
    """A client of `fake`, no pacing; `settings` are `FincomeSettings` fields."""
    options = {"api_key": KEY, "base_url": "https://fincome.test", "requests_per_second": None}
    with FincomeClient(
        FincomeSettings(**{**options, **settings}), transport=httpx.MockTransport(fake)
    ) as client:
        yield client
