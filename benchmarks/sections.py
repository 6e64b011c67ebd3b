"""The detailed sections of the report, one renderer per measurement."""

from __future__ import annotations

from typing import Any


def cell(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def efficiency_section(sizes: dict[str, Any]) -> str:
    rows = []
    for name, raw in sizes.items():
        full = raw["full"]
        metronome, fincome = full["metronome_server"], full["fincome_server"]
        rows.append(
            [
                name,
                f"{raw['metronome_ideal']['total']:,}",
                f"{metronome['total']:,}",
                f"{raw['fincome_ideal']:,}",
                f"{fincome['total']:,}",
                ", ".join(f"{route} {count:,}" for route, count in fincome["by_route"].items()),
            ]
        )
    ideal = next(iter(sizes.values()))["metronome_ideal"]["by_endpoint"]
    breakdown = ", ".join(f"{endpoint} {count:,}" for endpoint, count in ideal.items())
    return "\n\n".join(
        [
            "## Request efficiency (first sync into an empty Fincome)",
            table(
                [
                    "size",
                    "Metronome ideal",
                    "Metronome sent",
                    "Fincome ideal",
                    "Fincome sent",
                    "Fincome requests by route",
                ],
                rows,
            ),
            "Ideal Metronome pages come from the emulator's own data: pages of 100 per list "
            "endpoint per parent, at least one page each (first size: " + breakdown + "). "
            "The ideal Fincome writes are one create per customer, product, price, "
            "subscription, invoice (its lines embedded) and credit note (its lines embedded).",
        ]
    )


def throughput_section(sizes: dict[str, Any]) -> str:
    rows = []
    for name, raw in sizes.items():
        full, bare_push = raw["full"], raw["bare_push"]
        transform = full["transform"]
        rows.append(
            [
                name,
                f"{full['extract']['seconds']:.1f}",
                f"{full['metronome_server']['span_seconds']:.1f}",
                f"{raw['bare_fetch']['seconds']:.1f}{_threads(raw['bare_fetch'])}",
                f"{full['push']['seconds']:.1f}",
                f"{full['fincome_server']['requests_per_second']}",
                f"{bare_push['server']['requests_per_second']}{_threads(bare_push)}",
                f"{transform['seconds']:.1f}",
                f"{transform['rows_in_per_second']:,.0f} / {transform['rows_out_per_second']:,.0f}",
            ]
        )
    return "\n\n".join(
        [
            "## Throughput (no limits, no latency)",
            table(
                [
                    "size",
                    "extract s",
                    "of which fetching s",
                    "bare fetch s (threads)",
                    "push s (incl. transform)",
                    "our writes/s",
                    "bare writes/s (threads)",
                    "transform s",
                    "transform rows/s in / out",
                ],
                rows,
            ),
            "Extract: `run_extract` wall time (fetch, dlt normalize, DuckDB load) against a bare "
            "httpx client fetching the same pages. Fetching: first to last request in the "
            "emulator's log. Writes per second: the Fincome emulator's log (first to last "
            "write), ours against the bare client sending the same bodies in the same order. "
            "The bare clients run sequentially and with as many threads as ours; the faster "
            "counts (its threads in parentheses; both below).",
            *_bare_clients(sizes),
        ]
    )


def _threads(bare: dict[str, Any]) -> str:
    return f" ({bare['concurrency']})" if "concurrency" in bare else ""


def _bare_clients(sizes: dict[str, Any]) -> list[str]:
    """Each bare client's runs by concurrency (reports before it was measured have none)."""
    rows = []
    for name, raw in sizes.items():
        fetches, pushes = raw.get("bare_fetches"), raw.get("bare_pushes")
        for push in pushes or []:
            threads = push["concurrency"]
            fetched = [fetch["seconds"] for fetch in fetches if fetch["concurrency"] == threads]
            rate = push["server"]["requests_per_second"]
            rows.append([name, threads, f"{min(fetched):.1f}", f"{rate}"])
    if not rows:
        return []
    header = ["size", "threads", "bare fetch s (best of 2)", "bare writes/s"]
    return ["### Bare clients by concurrency", table(header, rows)]


def rate_limited_section(raw: dict[str, Any] | None) -> str:
    if not raw:
        return "## Rate-limited runs\n\nNot run."
    rows = [
        [
            api,
            f"{run['limit_rps']:g}",
            run["requests"],
            f"{run['span_seconds']:.1f}",
            run["achieved_rps"],
            run["ratio"],
            run["throttled"],
        ]
        for api, run in (
            ("Metronome (extract)", raw["metronome"]),
            ("Fincome (push)", raw["fincome"]),
        )
    ]
    return "\n\n".join(
        [
            f"## Rate-limited runs (account {raw['size']}, {raw['latency_ms']:g} ms added latency)",
            table(["API", "limit/s", "requests", "span s", "answered/s", "ratio", "429s"], rows),
            "The emulator answers 429 beyond its limit (a token bucket with one second of "
            "burst); our clients pace themselves at the same rate.",
        ]
    )


def incremental_section(sizes: dict[str, Any]) -> str:
    rows = []
    for name, raw in sizes.items():
        full = raw["full"]
        for run_name in ("unchanged", "changed"):
            run = raw["incremental"][run_name]
            rows.append(
                [
                    name,
                    run_name,
                    f"{run['extract']['seconds']:.1f}",
                    f"{run['push']['seconds']:.1f}",
                    f"{full['extract']['seconds'] + full['push']['seconds']:.1f}",
                    run["metronome_server"]["total"],
                    run["fincome_server"]["total"],
                    ", ".join(f"{r} {n}" for r, n in run["fincome_server"]["by_route"].items())
                    or "-",
                ]
            )
    voided = ", ".join(f"{name}: {raw['incremental']['voided']}" for name, raw in sizes.items())
    return "\n\n".join(
        [
            "## Incremental re-runs",
            table(
                [
                    "size",
                    "upstream",
                    "extract s",
                    "push s",
                    "full run s",
                    "Metronome requests",
                    "Fincome writes",
                    "writes by route",
                ],
                rows,
            ),
            f"`changed`: the latest finalized invoice of 1% as many customers as there are "
            f"invoices was voided in Metronome before the run ({voided}).",
        ]
    )


def peers_section(results: dict[str, Any]) -> str:
    rows = []
    for name, raw in results["sizes"].items():
        peers = raw.get("peers") or {}
        for who, run in (peers.get("pull") or {}).items():
            rows.append(
                [
                    name,
                    f"pull: {who}",
                    f"{run['seconds']:.1f}",
                    run["rows"]["invoices"],
                    run["server"]["total"],
                    f"{run['rows']['invoices'] / run['seconds']:,.0f} invoices/s",
                ]
            )
        push = peers.get("push") or {}
        if "server" in push and "failed" not in push:
            rows.append(
                [
                    name,
                    "push: drt",
                    f"{push['seconds']:.1f}",
                    push["writes"],
                    push["server"]["total"],
                    f"{push['server']['requests_per_second']} writes/s",
                ]
            )
            full = raw["full"]["fincome_server"]
            rows.append(
                [
                    name,
                    "push: ours",
                    "-",
                    full["total"],
                    full["total"],
                    f"{full['requests_per_second']} writes/s",
                ]
            )
        elif push:
            rows.append(
                [name, "push: drt", "-", "-", "-", push.get("skipped") or push.get("failed")]
            )
    if not rows:
        return "## Peers\n\nNot run (--no-peers)."
    return "\n\n".join(
        [
            "## Peers (same data, same emulators)",
            table(["size", "run", "seconds", "rows", "requests", "throughput"], rows),
            "Pull: customers and their invoices into DuckDB; ours is the Metronome source limited "
            "to those two resources, the peer dlt's `rest_api_source` with `invoices` a "
            "parallelized child of `customers`, both with the same page size and extract "
            "workers. Ours also reads archived customers (a second listing), which the peer "
            "does not, so throughput is compared per invoice. Ours stages as `run_extract` "
            "does (Parquet, the file held open through the load); the peer runs twice: as "
            "dlt's DuckDB destination stages by default (SQL inserts, the target's "
            "comparison), and staging Parquet too. Push: drt's `rest_api` destination "
            "sending the exact bodies our push sent, one sync per collection in our order; drt "
            "sends one row at a time (it has no per-request concurrency).",
        ]
    )


def memory_section(sizes: dict[str, Any]) -> str:
    rows = [[name, raw["full"]["peak_rss_mb"]] for name, raw in sizes.items()]
    return "\n\n".join(
        [
            "## Memory",
            table(["size", "peak RSS MB (extract + push, our process only)"], rows),
            "The child process's own peak (VmHWM), not `ru_maxrss`, which Linux carries over from "
            "the parent at exec; the emulators run in other processes.",
        ]
    )


def destination_section(raw: dict[str, Any] | None) -> str:
    if not raw:
        return "## Destination micro-benchmark\n\nNot run."
    return "\n\n".join(
        [
            f"## Destination micro-benchmark ({raw['rows']} customer creates)",
            raw["table"],
            "`bare`: an httpx client shared by the threads; `client`: `FincomeClient.create`; "
            "`destination`: a dlt pipeline into the `fincome` destination (timed over its load "
            "step). Same concurrency, against a freshly reset emulator each time.",
        ]
    )
