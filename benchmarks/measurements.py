"""One size, measured end to end: our full sync next to bare clients, re-runs, memory.

Our code runs in child processes (`benchmarks.child`), the emulators in theirs, the bare
clients here. Request counts and rates come from the emulators' own request logs, so ours,
the bare clients' and the peers' are counted by the same instrument.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.accounts import Emulator, Size, emulators, fincome_ideal, metronome_ideal
from benchmarks.bare import Write, captured_writes, fetch_everything, replay
from benchmarks.peers import PeerRunner

REPO = Path(__file__).resolve().parent.parent
CHANGED_SHARE = 0.01  # the incremental run with changes: 1% of the invoices voided upstream


class BenchmarkError(Exception):
    """A measured run failed; the message carries the tail of its output."""


@dataclass(frozen=True)
class Plan:
    concurrency: int
    workdir: Path
    peers: PeerRunner | None
    child_timeout: float = 3600.0

    @property
    def bare_concurrencies(self) -> tuple[int, ...]:
        """The bare clients run sequentially and at our concurrency; the faster one counts.

        Without latency a thread pool pays for its handoffs (a sequential httpx client sends
        faster than eight threads sharing one), with latency it is what keeps requests out.
        """
        return tuple(sorted({1, self.concurrency}))


def run_child(arguments: list[str], timeout: float) -> dict[str, Any]:
    """Run `python -m benchmarks.child ARGUMENTS`; its JSON report plus `wall_seconds`."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise BenchmarkError(f"child {arguments[0]} failed: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["wall_seconds"] = round(time.perf_counter() - started, 3)
    return report


def sync_arguments(plan: Plan, data_dir: Path, metronome: Emulator, fincome: Emulator) -> list[str]:
    return [
        "sync",
        *("--data-dir", str(data_dir)),
        *("--metronome", metronome.url),
        *("--fincome", fincome.url),
        *("--concurrency", str(plan.concurrency)),
    ]


def measure_size(size: Size, plan: Plan) -> dict[str, Any]:
    data_dir = plan.workdir / size.name / "data"
    with emulators(size) as (metronome, fincome):
        ideal = metronome_ideal(metronome)
        bare_fetches = [fetch_everything(metronome.url, n) for n in plan.bare_concurrencies]
        full = _full_run(plan, data_dir, metronome, fincome)
        bare_fetches += [fetch_everything(metronome.url, n) for n in plan.bare_concurrencies]
        writes = captured_writes(fincome)
        bare_pushes = [_bare_push(fincome, writes, n) for n in plan.bare_concurrencies]
        incremental = _incremental(plan, data_dir, metronome, fincome)
        peers = plan.peers.measure(size, plan, metronome, fincome, writes) if plan.peers else {}
    return {
        "size": {"name": size.name, "customers": size.customers, "months": size.months},
        "metronome_ideal": {
            "total": ideal.total,
            "by_endpoint": ideal.by_endpoint,
            "customers": ideal.customers,
            "invoices": ideal.invoices,
        },
        "fincome_ideal": fincome_ideal(full["push"]["transformed"]),
        "full": full,
        "bare_fetch": min(bare_fetches, key=lambda fetch: fetch["seconds"]),
        "bare_fetches": bare_fetches,
        "bare_push": max(bare_pushes, key=lambda push: push["server"]["requests_per_second"]),
        "bare_pushes": bare_pushes,
        "incremental": incremental,
        "peers": peers,
    }


def _bare_push(fincome: Emulator, writes: list[Write], concurrency: int) -> dict[str, Any]:
    """Our push's writes sent again by a bare client, into a Fincome emptied for it."""
    fincome.control("POST", "reset")  # the replay recreates exactly what our push created
    push = replay(fincome.url, writes, concurrency)
    push["server"] = fincome.log_summary()
    return push


def _full_run(plan: Plan, data_dir: Path, metronome: Emulator, fincome: Emulator) -> dict[str, Any]:
    """The first sync into an empty data dir, the request logs of both emulators, and the
    transform timed on its own afterwards (in the same child, after its memory peak)."""
    metronome.clear_log()
    fincome.clear_log()
    fincome.control("PUT", "requests?limit=0", {"capture_bodies": True})
    arguments = sync_arguments(plan, data_dir, metronome, fincome)
    report = run_child([*arguments, "--time-transform"], plan.child_timeout)
    fincome.control("PUT", "requests?limit=0", {"capture_bodies": False})
    report["metronome_server"] = metronome.log_summary()
    report["fincome_server"] = fincome.log_summary()
    return report


def _incremental(
    plan: Plan, data_dir: Path, metronome: Emulator, fincome: Emulator
) -> dict[str, Any]:
    """A re-run with nothing changed upstream, then one after voiding 1% of the invoices."""
    arguments = sync_arguments(plan, data_dir, metronome, fincome)
    results: dict[str, Any] = {}
    for name in ("unchanged", "changed"):
        if name == "changed":
            results["voided"] = _void_recent_invoices(metronome, fincome, CHANGED_SHARE)
        metronome.clear_log()
        fincome.clear_log()
        results[name] = run_child(arguments, plan.child_timeout)
        results[name]["metronome_server"] = metronome.log_summary()
        results[name]["fincome_server"] = fincome.log_summary()
    return results


def _void_recent_invoices(metronome: Emulator, fincome: Emulator, share: float) -> int:
    """Void the latest pushed, finalized invoice of as many customers as `share` of all
    invoices.

    The latest period is inside every customer's re-read window, so the change is seen by
    an incremental run, as a late void in a real account would be.
    """
    invoices = metronome.control("GET", "state")["invoices"]
    pushed = set(fincome.control("GET", "state")["invoices"])  # held invoices, by id
    latest: dict[str, dict[str, Any]] = {}
    for invoice in invoices:
        if invoice["status"] == "FINALIZED" and invoice["id"] in pushed:
            current = latest.get(invoice["customer_id"])
            if current is None or invoice["start_timestamp"] > current["start_timestamp"]:
                latest[invoice["customer_id"]] = invoice
    chosen = sorted(latest)[: math.ceil(len(invoices) * share)]
    for customer_id in chosen:
        metronome.request("POST", "/v1/invoices/void", {"id": latest[customer_id]["id"]})
    return len(chosen)
