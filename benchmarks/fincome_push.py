"""How fast the `fincome` destination writes, next to what the emulator itself can take.

A section of `python -m benchmarks` (see `benchmarks/__main__.py`). The Fincome emulator
runs in its own process (its own core). For each injected latency
(0 ms and 20 ms, the emulator's `latency_ms` fault), the same N customer creates are sent
three ways, each against a freshly reset emulator, all with the same concurrency (the median
of `--repeat` rounds is reported):

- `bare`: a bare `httpx.Client` shared by N threads, no retries, no pacing: the emulator's
  capacity as seen from this machine, the ceiling for the other two;
- `client`: `FincomeClient.create` from the same number of threads (retry policy, pacing off,
  typed errors, exact-decimal bodies);
- `destination`: a dlt pipeline with the `fincome` destination (ledger lookups, canonical
  bodies, concurrent sends, bulk ledger writes); timed over dlt's load step.

Writes per second are counted by the emulator's own request log (acknowledged writes over the
span from the first to the last request) and by the wall clock of the caller.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

import dlt
import httpx
import orjson

from destinations.fincome import FincomeClient, FincomeSettings, fincome
from sandbox import DEFAULT_FINCOME_API_KEY

LATENCIES_MS = (0, 20)
KEY = DEFAULT_FINCOME_API_KEY


def customers(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"cus_{n:06d}",
            "name": f"Customer {n}",
            "email": f"billing+{n}@example.test",
            "country": "FR",
            "custom_properties": {"segment": "smb", "seats": n % 50},
        }
        for n in range(count)
    ]


def bare(url: str, rows: list[dict[str, Any]], concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"X-API-KEY": KEY, "content-type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, limits=limits, timeout=60) as http:

        def send(row: dict[str, Any]) -> None:
            http.post("/customers", content=orjson.dumps(row)).raise_for_status()

        return _timed(lambda: _fan_out(send, rows, concurrency))


def client(url: str, rows: list[dict[str, Any]], concurrency: int) -> float:
    settings = FincomeSettings(
        base_url=url, api_key=KEY, requests_per_second=None, max_concurrency=concurrency
    )
    with FincomeClient(settings) as fincome_client:
        return _timed(
            lambda: _fan_out(lambda row: fincome_client.create("customers", row), rows, concurrency)
        )


def destination(url: str, rows: list[dict[str, Any]], concurrency: int) -> float:
    with tempfile.TemporaryDirectory(prefix="fincome-bench-") as workdir:
        pipeline = dlt.pipeline(
            f"fincome_bench_{time.monotonic_ns()}",
            destination=fincome(
                base_url=url,
                api_key=KEY,
                requests_per_second=0,
                max_concurrency=concurrency,
                ledger_path=str(Path(workdir) / "ledger.duckdb"),
            ),
            pipelines_dir=workdir,
        )
        pipeline.run(rows, table_name="customers")
        trace = pipeline.last_trace
        assert trace is not None
        load = next(step for step in trace.steps if step.step == "load")
        assert load.finished_at is not None
        return (load.finished_at - load.started_at).total_seconds()


def _fan_out(send: Callable[[dict[str, Any]], Any], rows: list[dict[str, Any]], n: int) -> None:
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(send, rows))


def _timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _control(url: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
    response = httpx.request(method, url + path, json=body, timeout=30)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def measure(url: str, rows: int, concurrency: int, repeat: int) -> list[dict[str, Any]]:
    """Median of `repeat` rounds; the three ways alternate within a round, so a noisy
    neighbour on the machine slows all of them rather than one."""
    samples: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for _ in range(repeat):
        for latency in LATENCIES_MS:
            for way, run in (("bare", bare), ("client", client), ("destination", destination)):
                _control(url, "POST", "/_emulator/reset")
                _control(url, "PUT", "/_emulator/faults", {"latency_ms": latency})
                seconds = run(url, customers(rows), concurrency)
                log = _control(url, "GET", "/_emulator/requests?limit=1")
                created = log["by_status"].get("201", 0)
                assert created == rows, f"{way}: {created} of {rows} creates acknowledged"
                sample = (rows / seconds, log["requests_per_second"])
                samples.setdefault((latency, way), []).append(sample)
    return [
        {
            "latency_ms": latency,
            "way": way,
            "writes": rows,
            "caller_writes_per_second": round(median(s[0] for s in runs), 1),
            "server_writes_per_second": round(median(s[1] for s in runs), 1),
        }
        for (latency, way), runs in samples.items()
    ]


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| latency | way | writes/s (caller) | writes/s (emulator log) | vs bare |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        ceiling = next(
            r["caller_writes_per_second"]
            for r in results
            if r["latency_ms"] == result["latency_ms"] and r["way"] == "bare"
        )
        share = result["caller_writes_per_second"] / ceiling
        lines.append(
            f"| {result['latency_ms']} ms | {result['way']} | "
            f"{result['caller_writes_per_second']} | {result['server_writes_per_second']} | "
            f"{share:.0%} |"
        )
    return "\n".join(lines)
