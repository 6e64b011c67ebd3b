"""What the benchmark runs in a child process, so its time and memory are ours alone.

    python -m benchmarks.child sync --data-dir D --metronome URL --fincome URL [...]
    python -m benchmarks.child pull --data-dir D --metronome URL [--peer]

Each prints one JSON object on its last line of stdout: seconds per phase, the request
statistics of our clients, and the peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from contextlib import closing, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb

from benchmarks.accounts import FINCOME_KEY, METRONOME_TOKEN, PAGE_SIZE
from destinations.fincome import FincomeSettings
from pipelines.config import load_mapping
from pipelines.datadir import resolve_data_dir
from pipelines.extract import STAGING_FILE_FORMAT, run_extract
from pipelines.heap import arrow_allocates_with_malloc, limit_malloc_arenas
from pipelines.push import run_push
from pipelines.transform.runner import run_transform
from sources.metronome import MetronomeSettings, metronome_source


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM, not `ru_maxrss`. Linux carries the
    parent's peak into a spawned child's `ru_maxrss` (recorded at exec from the memory the
    child shared with it), which put the benchmark's own 1.2 GB on the L child."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # not Linux


def metronome_settings(args: argparse.Namespace) -> MetronomeSettings:
    return MetronomeSettings(
        api_token=METRONOME_TOKEN,
        base_url=args.metronome,
        requests_per_second=args.metronome_rps,
        max_concurrency=args.concurrency,
    )


def fincome_settings(args: argparse.Namespace) -> FincomeSettings:
    return FincomeSettings(
        api_key=FINCOME_KEY,
        base_url=args.fincome,
        requests_per_second=args.fincome_rps or None,
        max_concurrency=args.concurrency,
    )


def sync(args: argparse.Namespace) -> dict[str, Any]:
    """Extract then push (either may be skipped); optionally time the transform on its own."""
    data_dir = resolve_data_dir(Path(args.data_dir))
    report: dict[str, Any] = {}
    if not args.skip_extract:
        started = time.perf_counter()
        extracted = run_extract(data_dir, metronome_settings(args))
        report["extract"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "requests": extracted.requests,
            "tables": extracted.tables,
        }
    if not args.skip_push:
        started = time.perf_counter()
        pushed = run_push(data_dir, fincome_settings(args), load_mapping(), since=datetime.now(UTC))
        report["push"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "requests": pushed.requests,
            "transformed": pushed.transformed,
            "done": pushed.done,
            "rejects": len(pushed.rejects),
        }
    report["peak_rss_mb"] = peak_rss_mb()
    if args.time_transform:
        report["transform"] = _time_transform(data_dir.duckdb_path, data_dir.root)
    return report


def _time_transform(duckdb_path: Path, spool_dir: Path) -> dict[str, Any]:
    """The whole transform alone (every customer mapped, as on a first run), on what is
    staged: rows in (staged) and out (desired) per second."""
    with duckdb.connect(str(duckdb_path)) as db:
        staged = {
            table: db.execute(f"SELECT count(*) FROM metronome_raw.{table}").fetchall()[0][0]
            for table in ("customers", "customer_plans", "invoices")
        }
        started = time.perf_counter()
        result = run_transform(
            db, load_mapping(), datetime.now(UTC), spool_dir=spool_dir, full_refresh=True
        )
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "staged_rows": staged,
        "desired_rows": result.counts,
        "rows_in_per_second": round(sum(staged.values()) / seconds, 1),
        "rows_out_per_second": round(sum(result.counts.values()) / seconds, 1),
    }


def pull(args: argparse.Namespace) -> dict[str, Any]:
    """Customers and their invoices into a fresh DuckDB: ours (the Metronome source limited to
    those two resources) or the peer (dlt's generic `rest_api_source`), same workers."""
    source = _peer_source(args) if args.peer else _our_source(args)
    # ours stages as `run_extract` does; the peer as dlt's duckdb destination does by default
    # (SQL inserts), or with `--parquet` in the same format as ours
    file_format = STAGING_FILE_FORMAT if args.parquet or not args.peer else None
    database = str(Path(args.data_dir) / "pull.duckdb")
    if not args.peer:
        arrow_allocates_with_malloc()
    pipeline = dlt.pipeline(
        pipeline_name="bench_pull",
        destination=dlt.destinations.duckdb(database),
        dataset_name="pulled",
        pipelines_dir=str(Path(args.data_dir) / "dlt"),
    )
    started = time.perf_counter()
    workers = args.concurrency
    pipeline.extract(
        source,
        workers=workers,
        max_parallel_items=max(20, 2 * workers),
        loader_file_format=file_format,
    )
    fetched = time.perf_counter() - started
    counts = pipeline.normalize().row_counts
    # ours holds the file open through the load, as `run_extract` does (see its `_load`)
    with nullcontext() if args.peer else closing(duckdb.connect(database)):
        pipeline.load().raise_on_failed_jobs()
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "fetch_seconds": round(fetched, 3),
        "rows": {name: counts.get(name, 0) for name in ("customers", "invoices")},
        "peak_rss_mb": peak_rss_mb(),
    }


def _our_source(args: argparse.Namespace) -> Any:
    source = metronome_source(metronome_settings(args).resolve())
    return source.with_resources("customers", "invoices")


def _peer_source(args: argparse.Namespace) -> Any:
    from dlt.sources.rest_api import rest_api_source

    config: Any = {
        "client": {
            "base_url": args.metronome,
            "auth": {"type": "bearer", "token": METRONOME_TOKEN},
            "paginator": {
                "type": "cursor",
                "cursor_path": "next_page",
                "cursor_param": "next_page",
            },
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"data_selector": "data", "params": {"limit": PAGE_SIZE}},
        },
        "resources": [
            {"name": "customers", "endpoint": {"path": "/v1/customers"}},
            {
                "name": "invoices",
                "parallelized": True,
                "endpoint": {"path": "/v1/customers/{resources.customers.id}/invoices"},
            },
        ],
    }
    return rest_api_source(config, name="metronome_rest_api", max_table_nesting=0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("sync", "pull"):
        command = commands.add_parser(name)
        command.add_argument("--data-dir", required=True)
        command.add_argument("--metronome", required=True)
        command.add_argument("--concurrency", type=int, default=8)
        command.add_argument("--metronome-rps", type=float, default=0.0)
    sync_command = commands.choices["sync"]
    sync_command.add_argument("--fincome", required=True)
    sync_command.add_argument("--fincome-rps", type=float, default=0.0)
    sync_command.add_argument("--skip-extract", action="store_true")
    sync_command.add_argument("--skip-push", action="store_true")
    sync_command.add_argument("--time-transform", action="store_true")
    commands.choices["pull"].add_argument("--peer", action="store_true")
    commands.choices["pull"].add_argument("--parquet", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    limit_malloc_arenas()  # as the CLI does, so the child's peak is the command's
    report = sync(args) if args.command == "sync" else pull(args)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
