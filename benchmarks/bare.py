"""Bare httpx clients: the best this machine gets from each emulator, the ceiling for ours.

No retries, no pacing, no staging, no ledger: a thread pool of the same size as our clients'
concurrency, fetching the same pages (Metronome) or sending the same request bodies in the
same order (Fincome). Bodies are the ones our push sent, captured by the Fincome emulator.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import httpx
import orjson

from benchmarks.accounts import FINCOME_KEY, METRONOME_TOKEN, PAGE_SIZE, Emulator


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: bytes | None

    @property
    def collection(self) -> str:
        return self.path.strip("/").split("/")[0]


def _client(url: str, headers: dict[str, str], concurrency: int) -> httpx.Client:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.Client(base_url=url, headers=headers, limits=limits, timeout=120)


def _fan_out(work: Callable[[Any], Any], items: Iterable[Any], concurrency: int) -> list[Any]:
    if concurrency == 1:  # in the calling thread: no handoff to a pool per request
        return [work(item) for item in items]
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(work, items))


def fetch_everything(url: str, concurrency: int) -> dict[str, Any]:
    """Every page the source reads on a first run: the catalog, then per customer its plans
    and invoices, the customers in parallel. Returns seconds, requests and invoices read."""
    headers = {"Authorization": f"Bearer {METRONOME_TOKEN}"}
    with _client(url, headers, concurrency + 2) as http:
        requests = Counter[str]()

        def pages(path: str, params: dict[str, str] | None = None) -> list[Any]:
            query: dict[str, Any] = {"limit": PAGE_SIZE, **(params or {})}
            items: list[Any] = []
            while True:
                body = orjson.loads(http.get(path, params=query).raise_for_status().content)
                requests[path.split("/")[2]] += 1  # counted from many threads: totals only
                items += body["data"] or []
                if not body.get("next_page"):
                    return items
                query["next_page"] = body["next_page"]

        def customer(entry: dict[str, Any]) -> int:
            pages(f"/v1/customers/{entry['id']}/plans")
            return len(pages(f"/v1/customers/{entry['id']}/invoices"))

        def plan(entry: dict[str, Any]) -> None:
            http.get(f"/v1/planDetails/{entry['id']}").raise_for_status()
            pages(f"/v1/planDetails/{entry['id']}/charges")

        started = time.perf_counter()
        customers = pages("/v1/customers") + pages("/v1/customers", {"only_archived": "true"})
        _fan_out(plan, pages("/v1/plans"), concurrency)
        pages("/v1/credit-types/list")
        invoices = sum(_fan_out(customer, customers, concurrency))
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "invoices": invoices,
        "customers": len(customers),
        "concurrency": concurrency,
    }


def captured_writes(fincome: Emulator, page: int = 5000) -> list[Write]:
    """The writes the Fincome emulator logged with their bodies, in the order it got them."""
    writes: list[Write] = []
    since = 0
    while True:
        entries = fincome.control("GET", f"requests?since={since}&limit={page}")["requests"]
        if not entries:
            return writes
        for entry in entries:
            if entry["method"] != "GET":
                body = entry.get("body")
                writes.append(Write(entry["method"], entry["path"], body and body.encode()))
        since = entries[-1]["seq"]


def replay(url: str, writes: list[Write], concurrency: int) -> dict[str, Any]:
    """Send `writes` again, collection after collection as our push does (parents first,
    and root customers before the customers that name them), each collection in parallel."""
    headers = {"X-API-KEY": FINCOME_KEY, "content-type": "application/json"}
    statuses = Counter[int]()
    with _client(url, headers, concurrency) as http:

        def send(write: Write) -> int:
            return http.request(write.method, write.path, content=write.body).status_code

        started = time.perf_counter()
        for _, group in groupby(writes, key=lambda write: write.collection):
            for wave in _parents_first(list(group)):
                statuses.update(_fan_out(send, wave, concurrency))
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "writes": len(writes),
        "writes_per_second": round(len(writes) / seconds, 1),
        "concurrency": concurrency,
        "by_status": {str(status): count for status, count in sorted(statuses.items())},
    }


def _parents_first(writes: list[Write]) -> list[list[Write]]:
    roots: list[Write] = []
    children: list[Write] = []
    for write in writes:
        names_a_parent = write.body is not None and b'"root_parent_id":"' in write.body
        (children if names_a_parent else roots).append(write)
    return [wave for wave in (roots, children) if wave]
