"""`benchmarks/report.md` and its JSON twin `report.json`, from the raw measurements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks import sections
from benchmarks.figures import Figure
from benchmarks.sections import cell, table

NOTES = Path(__file__).resolve().parent / "notes.md"


def write_reports(results: dict[str, Any], figures: list[Figure], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    payload = {**results, "figures": [figure.to_json() for figure in figures]}
    (folder / "report.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (folder / "report.md").write_text(render(results, figures))


def render(results: dict[str, Any], figures: list[Figure]) -> str:
    parts = [
        "# billing-sync benchmarks",
        _header(results),
        "## Figures and targets\n\n" + _figures_table(figures),
        sections.efficiency_section(results["sizes"]),
        sections.throughput_section(results["sizes"]),
        sections.rate_limited_section(results.get("rate_limited")),
        sections.incremental_section(results["sizes"]),
        sections.peers_section(results),
        sections.memory_section(results["sizes"]),
        sections.destination_section(results.get("destination_micro")),
        NOTES.read_text().strip(),
    ]
    return "\n\n".join(parts) + "\n"


def _header(results: dict[str, Any]) -> str:
    machine = results["machine"]
    versions = ", ".join(f"{name} {v}" for name, v in machine["versions"].items())
    peers = results.get("peers") or {}
    peer_versions = "; ".join(
        f"{name} {info.get('version')}"
        + (f" (skipped: {info['skipped']})" if "skipped" in info else "")
        for name, info in peers.items()
    )
    return "\n".join(
        [
            f"Reproduce: `{results['command']}` (from the repository root; "
            f"measured at commit {machine['commit']}, {results['started_at']}, "
            f"{results['duration_seconds'] / 60:.1f} min).",
            "",
            f"- Machine: {machine['cores']} cores, {machine['memory_gb']} GB, "
            f"{machine['platform']}; shared with other work while measured: load average "
            f"{_load(machine['load_average_at_start'])} at the start, "
            f"{_load(results['load_average_at_end'])} at the end. Ratios compare runs "
            "made minutes apart in the same invocation, against the same emulators.",
            f"- Python {machine['python']}; {versions}.",
            f"- Peers: {peer_versions or 'not run (--no-peers)'}.",
            f"- Clients: concurrency {results['concurrency']} for ours and the peers that have "
            "a setting for it; the bare ones at 1 and at that many threads, the faster "
            "counted; no client-side pacing except in the rate-limited runs.",
        ]
    )


def _load(values: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values) + " (1/5/15 min)"


def _figures_table(figures: list[Figure]) -> str:
    verdict = {True: "yes", False: "**no**", None: "-"}
    rows = [
        [f.section, f.name, f.size, f"{cell(f.value)} {f.unit}", f.target, verdict[f.met]]
        for f in figures
    ]
    return table(["area", "figure", "size", "value", "target", "met"], rows)
