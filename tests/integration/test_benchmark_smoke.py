"""`./dev bench --quick` writes a complete report (every section) on a tiny account.

The numbers of a quick run mean nothing; this only keeps the runner working.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECTIONS = (
    "## Figures and targets",
    "## Request efficiency",
    "## Throughput",
    "### Bare clients by concurrency",
    "## Rate-limited runs",
    "## Incremental re-runs",
    "## Peers",
    "## Memory",
    "## Destination micro-benchmark",
    "## Notes",
)


def test_quick_benchmark_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "report"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)]
    done = subprocess.run(
        [*command, "--workdir", str(tmp_path / "work")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    markdown = (out / "report.md").read_text()
    missing = [section for section in SECTIONS if section not in markdown]
    assert not missing, missing
    report = json.loads((out / "report.json").read_text())
    assert {"machine", "sizes", "rate_limited", "destination_micro", "figures"} <= set(report)
    quick = report["sizes"]["quick"]
    assert quick["full"]["fincome_server"]["total"] == quick["fincome_ideal"]
    assert quick["incremental"]["unchanged"]["fincome_server"]["total"] == 0
    # the bare clients ran sequentially and at our concurrency, each replay every write
    assert [push["concurrency"] for push in quick["bare_pushes"]] == [1, 8]
    assert {push["writes"] for push in quick["bare_pushes"]} == {quick["fincome_ideal"]}
    assert {fetch["concurrency"] for fetch in quick["bare_fetches"]} == {1, 8}
