"""Peers on the same data and emulators: the pull against dlt's generic `rest_api_source`,
the push against drt (`drt-core`, a reverse-ETL tool) sending the same request bodies.

drt is installed on demand into its own virtualenv under `benchmarks/.peers/` (never into
ours: it pulls its own typer, rich and pydantic), with duckdb pinned to ours so both read
the same database file. When it cannot be installed the push peer is skipped, and why is
recorded in the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from benchmarks.accounts import FINCOME_KEY, Emulator, Size
from benchmarks.bare import Write

if TYPE_CHECKING:
    from benchmarks.measurements import Plan

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
DRT_VERSION = "1.2.1"
DUCKDB_VERSION = duckdb.__version__


@dataclass
class PeerRunner:
    """Runs both peers for each size; installs drt once, the first time it is needed."""

    with_drt: bool = True
    drt_problem: str | None = None

    def describe(self) -> dict[str, Any]:
        import dlt

        drt: dict[str, Any] = {"version": DRT_VERSION, "venv": str(_drt_venv())}
        if self.drt_problem:
            drt["skipped"] = self.drt_problem
        return {"dlt rest_api_source": {"version": dlt.__version__}, "drt-core": drt}

    def measure(
        self, size: Size, plan: Plan, metronome: Emulator, fincome: Emulator, writes: list[Write]
    ) -> dict[str, Any]:
        results: dict[str, Any] = {"pull": _pulls(size, plan, metronome)}
        if self.with_drt and self.drt_problem is None:
            self.drt_problem = _install_drt()
        if self.with_drt and self.drt_problem is None:
            results["push"] = _drt_push(plan.workdir / size.name / "drt", fincome, writes)
        else:
            results["push"] = {"skipped": self.drt_problem or "not requested (--no-drt)"}
        return results


# the peer as dlt configures DuckDB by default (SQL inserts), and with our staging format
PEER_PULL = "rest_api_source"
PEER_PULL_PARQUET = "rest_api_source, Parquet"
PULLS: tuple[tuple[str, list[str]], ...] = (
    ("ours", []),
    (PEER_PULL, ["--peer"]),
    (PEER_PULL_PARQUET, ["--peer", "--parquet"]),
)


def _pulls(size: Size, plan: Plan, metronome: Emulator) -> dict[str, Any]:
    from benchmarks.measurements import run_child

    results: dict[str, Any] = {}
    for who, flag in PULLS:
        metronome.clear_log()
        data_dir = plan.workdir / size.name / f"pull-{who}"
        arguments = ["pull", "--data-dir", str(data_dir), "--metronome", metronome.url]
        arguments += ["--concurrency", str(plan.concurrency), *flag]
        results[who] = run_child(arguments, plan.child_timeout)
        results[who]["server"] = metronome.log_summary()
    return results


def _drt_venv() -> Path:
    return PEERS_DIR / "drt"


def _install_drt() -> str | None:
    """Install drt-core into its own venv; None when ready, else why it is not."""
    venv = _drt_venv()
    if (venv / "bin" / "drt").exists():
        return None
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"drt-core=={DRT_VERSION}",
            f"duckdb=={DUCKDB_VERSION}",
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            return f"drt-core could not be installed: {done.stderr.strip()[-300:]}"
    return None


def _drt_push(folder: Path, fincome: Emulator, writes: list[Write]) -> dict[str, Any]:
    """drt sends the bodies our push sent, one sync per collection in our push order.

    drt's rest_api destination sends one request per row, one row after the other (it has
    no concurrency of its own; `--threads` parallelises whole syncs, which must run in
    order here, parents first). Each row's body is the exact JSON our push sent.
    """
    fincome.control("POST", "reset")
    order = _write_warehouse(folder, writes)
    _write_project(folder, fincome, order)
    env = {**os.environ, "HOME": str(folder / "home"), "DO_NOT_TRACK": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(_drt_venv() / "bin" / "drt"), "run"],
        cwd=folder / "project",
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )
    seconds = time.perf_counter() - started
    server = fincome.log_summary()
    if done.returncode != 0 or server["total"] != len(writes):
        tail = (done.stdout + done.stderr).strip()[-500:]
        return {"failed": f"drt run exited {done.returncode}: {tail}", "server": server}
    return {"seconds": round(seconds, 3), "writes": len(writes), "server": server}


def _write_warehouse(folder: Path, writes: list[Write]) -> list[str]:
    """One table per collection, (seq, body) in the order our push sent them."""
    by_collection: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for seq, write in enumerate(writes):
        if write.method != "POST" or write.body is None:
            raise ValueError(f"only creates can be replayed by drt, got {write.method}")
        by_collection[write.collection].append((seq, write.body.decode()))
    (folder / "project").mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as db:
        for name, rows in by_collection.items():
            db.execute(f"CREATE OR REPLACE TABLE {name} (seq BIGINT, body VARCHAR)")
            db.executemany(f"INSERT INTO {name} VALUES (?, ?)", rows)
    return sorted(by_collection, key=lambda name: by_collection[name][0][0])


def _write_project(folder: Path, fincome: Emulator, order: list[str]) -> None:
    home = folder / "home" / ".drt"
    home.mkdir(parents=True, exist_ok=True)
    database = folder / "warehouse.duckdb"
    (home / "profiles.yml").write_text(f"bench:\n  type: duckdb\n  database: '{database}'\n")
    project = folder / "project"
    (project / "drt_project.yml").write_text("name: billing_sync_bench\nprofile: bench\n")
    syncs = project / "syncs"
    syncs.mkdir(exist_ok=True)
    for position, name in enumerate(order):
        (syncs / f"{position:02d}_{name}.yml").write_text(_sync_yaml(position, name, fincome))


def _sync_yaml(position: int, name: str, fincome: Emulator) -> str:
    return f"""name: s{position:02d}_{name}
model: "SELECT body FROM {name} ORDER BY seq"
destination:
  type: rest_api
  url: "{fincome.url}/{name}"
  method: POST
  headers:
    Content-Type: "application/json"
    X-API-KEY: "{FINCOME_KEY}"
  body_template: "{{{{ row.body }}}}"
sync:
  mode: full
  batch_size: 1000
  rate_limit:
    requests_per_second: 1000000  # drt paces at 10/s by default: its fastest here
  on_error: skip
"""
