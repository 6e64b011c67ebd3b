"""Rate-limited runs: each emulator enforces R requests per second (429 beyond) with added
latency, our clients pace at R, and the emulator's log tells how close to R they got.

Measured on one account (S in a full run) so that the run is long enough to be steady:
Metronome at 8/s (its default tier) while extracting, then Fincome at `--fincome-rps`
while pushing what was extracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.accounts import Emulator, Size, emulators
from benchmarks.measurements import Plan, run_child, sync_arguments


@dataclass(frozen=True)
class Limits:
    metronome_rps: float = 8.0
    fincome_rps: float = 20.0
    latency_ms: float = 20.0


def measure_rate_limited(size: Size, plan: Plan, limits: Limits) -> dict[str, Any]:
    data_dir = plan.workdir / f"{size.name}-rate-limited" / "data"
    with emulators(size) as (metronome, fincome):
        arguments = sync_arguments(plan, data_dir, metronome, fincome)
        metronome.set_faults(latency_ms=limits.latency_ms, rps_limit=limits.metronome_rps)
        pull = ["--skip-push", "--metronome-rps", str(limits.metronome_rps)]
        extract = _limited(metronome, limits.metronome_rps, [*arguments, *pull], plan)
        fincome.set_faults(latency_ms=limits.latency_ms, rps_limit=limits.fincome_rps)
        push = ["--skip-extract", "--fincome-rps", str(limits.fincome_rps)]
        pushed = _limited(fincome, limits.fincome_rps, [*arguments, *push], plan)
    return {
        "size": size.name,
        "latency_ms": limits.latency_ms,
        "metronome": extract,
        "fincome": pushed,
    }


def _limited(emulator: Emulator, rate: float, arguments: list[str], plan: Plan) -> dict[str, Any]:
    emulator.clear_log()
    report = run_child(arguments, plan.child_timeout)
    server = emulator.log_summary()
    throttled = server["by_status"].get("429", 0)
    span = server["span_seconds"]
    achieved = round((server["total"] - throttled) / span, 2) if span else 0.0  # answered
    return {
        "limit_rps": rate,
        "requests": server["total"],
        "achieved_rps": achieved,
        "ratio": round(achieved / rate, 3),
        "throttled": throttled,
        "throttled_share": round(throttled / server["total"], 4) if server["total"] else 0.0,
        "span_seconds": server["span_seconds"],
        "child": report,
    }
