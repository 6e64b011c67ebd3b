"""The headline figures, each with its target, computed from the raw measurements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.peers import PEER_PULL, PEER_PULL_PARQUET


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    size: str
    value: float | None
    unit: str
    target: str
    met: bool | None  # None: no target, or not measured

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def _check(value: float | None, test: Callable[[float], bool]) -> bool | None:
    return None if value is None else test(value)


def size_figures(size: str, raw: dict[str, Any]) -> list[Figure]:
    full = raw["full"]
    return [
        *_efficiency(size, raw),
        *_throughput(size, raw),
        *_incremental(size, raw["incremental"], full),
        *_peers(size, raw),
        Figure(
            "memory",
            "peak RSS of a full run",
            size,
            full["peak_rss_mb"],
            "MB",
            "<= 400",
            full["peak_rss_mb"] <= 400,
        ),
    ]


def _efficiency(size: str, raw: dict[str, Any]) -> list[Figure]:
    full = raw["full"]
    fincome = _ratio(full["fincome_server"]["total"], raw["fincome_ideal"])
    metronome = _ratio(full["metronome_server"]["total"], raw["metronome_ideal"]["total"])
    return [
        Figure(
            "requests",
            "Fincome writes / ideal",
            size,
            fincome,
            "x",
            "1.00",
            _check(fincome, lambda v: v <= 1.0),
        ),
        Figure(
            "requests",
            "Metronome requests / ideal pages",
            size,
            metronome,
            "x",
            "1.00",
            _check(metronome, lambda v: v <= 1.0),
        ),
    ]


def _throughput(size: str, raw: dict[str, Any]) -> list[Figure]:
    full = raw["full"]
    extract = _ratio(raw["bare_fetch"]["seconds"], full["extract"]["seconds"])
    fetch = _ratio(raw["bare_fetch"]["seconds"], full["metronome_server"]["span_seconds"])
    push = _ratio(
        full["fincome_server"]["requests_per_second"],
        raw["bare_push"]["server"]["requests_per_second"],
    )
    transform = full["transform"]
    return [
        Figure(
            "throughput",
            "extract (fetch + stage) vs bare fetch",
            size,
            extract,
            "x",
            ">= 0.8",
            _check(extract, lambda v: v >= 0.8),
        ),
        Figure(
            "throughput",
            "extract, fetch phase only, vs bare fetch",
            size,
            fetch,
            "x",
            "(context)",
            None,
        ),
        Figure(
            "throughput",
            "push vs bare client (writes/s)",
            size,
            push,
            "x",
            ">= 0.8",
            _check(push, lambda v: v >= 0.8),
        ),
        Figure(
            "throughput",
            "transform, staged rows in",
            size,
            transform["rows_in_per_second"],
            "rows/s",
            "(measured)",
            None,
        ),
        Figure(
            "throughput",
            "transform, Fincome rows out",
            size,
            transform["rows_out_per_second"],
            "rows/s",
            "(measured)",
            None,
        ),
    ]


def _incremental(size: str, runs: dict[str, Any], full: dict[str, Any]) -> list[Figure]:
    full_seconds = full["extract"]["seconds"] + full["push"]["seconds"]
    figures = []
    for name in ("unchanged", "changed"):
        run = runs[name]
        seconds = run["extract"]["seconds"] + run["push"]["seconds"]
        fraction = _ratio(seconds, full_seconds)
        writes = run["fincome_server"]["total"]
        target = "<= 0.10" if name == "unchanged" else "(measured)"
        met = _check(fraction, lambda v: v <= 0.10) if name == "unchanged" else None
        figures += [
            Figure(
                "incremental", f"re-run, {name}: wall / full run", size, fraction, "x", target, met
            ),
            Figure(
                "incremental",
                f"re-run, {name}: Fincome writes",
                size,
                writes,
                "writes",
                "0" if name == "unchanged" else f"~{runs['voided']} voided invoices",
                writes == 0 if name == "unchanged" else None,
            ),
        ]
    return figures


def _peers(size: str, raw: dict[str, Any]) -> list[Figure]:
    peers = raw.get("peers") or {}
    figures = []
    pull = peers.get("pull")
    if pull:
        ours = _invoices_per_second(pull["ours"])
        speedup = _ratio(ours, _invoices_per_second(pull[PEER_PULL]))
        figures.append(
            Figure(
                "peers",
                "pull: our invoices/s / rest_api_source's",
                size,
                speedup,
                "x",
                "> 1",
                _check(speedup, lambda v: v > 1),
            )
        )
        if PEER_PULL_PARQUET in pull:
            like_for_like = _ratio(ours, _invoices_per_second(pull[PEER_PULL_PARQUET]))
            figures.append(
                Figure(
                    "peers",
                    "pull: ours / rest_api_source's staging Parquet too",
                    size,
                    like_for_like,
                    "x",
                    "(context)",
                    None,
                )
            )
    push = peers.get("push") or {}
    if "server" in push and "failed" not in push:
        ours = raw["full"]["fincome_server"]["requests_per_second"]
        speedup = _ratio(ours, push["server"]["requests_per_second"])
        figures.append(
            Figure(
                "peers",
                "push: our writes/s / drt's",
                size,
                speedup,
                "x",
                ">= 1.0",
                _check(speedup, lambda v: v >= 1.0),
            )
        )
    return figures


def _invoices_per_second(run: dict[str, Any]) -> float:
    return float(run["rows"]["invoices"]) / float(run["seconds"])


def memory_flatness(sizes: dict[str, Any]) -> list[Figure]:
    if "M" not in sizes or "L" not in sizes:
        return []
    growth = _ratio(sizes["L"]["full"]["peak_rss_mb"], sizes["M"]["full"]["peak_rss_mb"])
    return [
        Figure(
            "memory",
            "peak RSS L / M (4x the invoices)",
            "M->L",
            growth,
            "x",
            "flat (<= 1.25)",
            _check(growth, lambda v: v <= 1.25),
        )
    ]


def rate_limited_figures(raw: dict[str, Any]) -> list[Figure]:
    figures = []
    for api in ("metronome", "fincome"):
        run = raw[api]
        label = f"{api.title()} at {run['limit_rps']:g}/s, {raw['latency_ms']:g} ms"
        figures += [
            Figure(
                "rate-limited",
                f"{label}: achieved / limit",
                raw["size"],
                run["ratio"],
                "x",
                ">= 0.9",
                run["ratio"] >= 0.9,
            ),
            Figure(
                "rate-limited",
                f"{label}: share of 429s",
                raw["size"],
                round(100 * run["throttled_share"], 2),
                "%",
                "< 1",
                run["throttled_share"] < 0.01,
            ),
        ]
    return figures
