"""`python -m benchmarks` (`./dev bench`): measure billing-sync and write the report.

    ./dev bench [--size S|M|L|all] [--quick] [--out DIR] [--no-peers] [--no-drt]
    ./dev bench --render-from benchmarks/report.json   # report.md again, e.g. after notes.md

For each size: the first sync into an empty Fincome (request counts against the ideal,
throughput against bare clients, the transform alone, peak memory), a re-run with nothing
changed and one with 1% of the invoices voided upstream, and the peers on the same data.
Then the rate-limited runs (on S, whatever the size: long enough to be steady) and the destination
micro-benchmark. Writes `report.md` and `report.json` to `--out` (default: benchmarks/).
`--quick` runs a tiny account with short rate-limited runs and no drt: the CI smoke test.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import fincome_push
from benchmarks.accounts import QUICK, SIZES, Size
from benchmarks.figures import Figure, memory_flatness, rate_limited_figures, size_figures
from benchmarks.machine import describe_machine, load_average
from benchmarks.measurements import Plan, measure_size
from benchmarks.peers import PeerRunner
from benchmarks.ratelimited import Limits, measure_rate_limited
from benchmarks.report import write_reports
from sandbox.common.server import spawned

HERE = Path(__file__).resolve().parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=[*SIZES, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="a tiny account (CI smoke test)")
    parser.add_argument("--out", type=Path, default=HERE, help="folder of report.md/.json")
    parser.add_argument("--workdir", type=Path, help="keep the data dirs here (default: removed)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fincome-rps", type=float, default=20.0, help="rate-limited runs")
    parser.add_argument("--no-peers", action="store_true", help="skip both peers")
    parser.add_argument("--no-drt", action="store_true", help="skip the drt push peer")
    parser.add_argument(
        "--render-from", type=Path, help="rewrite report.md from this report.json (no runs)"
    )
    return parser


def chosen_sizes(args: argparse.Namespace) -> list[Size]:
    if args.quick:
        return [QUICK]
    return list(SIZES.values()) if args.size == "all" else [SIZES[args.size]]


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.render_from:
        _render_again(args.render_from, args.out)
        return
    if args.workdir:
        run(args, args.workdir)
        return
    # a full run leaves over a GB of data dirs: kept only when asked for with --workdir
    with tempfile.TemporaryDirectory(prefix="billing-sync-bench-") as workdir:
        run(args, Path(workdir))


def run(args: argparse.Namespace, workdir: Path) -> None:
    started, began = datetime.now(UTC), time.monotonic()
    machine = describe_machine()
    peers = None if args.no_peers else PeerRunner(with_drt=not (args.no_drt or args.quick))
    plan = Plan(concurrency=args.concurrency, workdir=workdir, peers=peers)
    sizes = chosen_sizes(args)
    results: dict[str, Any] = {"sizes": {}}
    figures: list[Figure] = []
    for size in sizes:
        _say(f"measuring {size.describe()}")
        raw = results["sizes"][size.name] = measure_size(size, plan)
        figures += size_figures(size.name, raw)
    figures += memory_flatness(results["sizes"])
    _say("rate-limited runs")
    limits = Limits(fincome_rps=args.fincome_rps)
    rate_limited_size = QUICK if args.quick else SIZES["S"]  # long enough to be steady
    results["rate_limited"] = measure_rate_limited(rate_limited_size, plan, limits)
    figures += rate_limited_figures(results["rate_limited"])
    _say("destination micro-benchmark")
    results["destination_micro"] = _destination_micro(args)
    results.update(
        command=" ".join(["./dev bench", *map(shlex.quote, sys.argv[1:])]),
        started_at=started.isoformat(timespec="seconds"),
        duration_seconds=round(time.monotonic() - began, 1),
        machine=machine,
        load_average_at_end=load_average(),
        concurrency=args.concurrency,
        peers=peers.describe() if peers else None,
    )
    write_reports(results, figures, args.out)
    _say(f"wrote {args.out / 'report.md'} and report.json")


def _render_again(report_json: Path, out: Path) -> None:
    payload = json.loads(report_json.read_text())
    figures = [Figure(**figure) for figure in payload.pop("figures")]
    write_reports(payload, figures, out)


def _destination_micro(args: argparse.Namespace) -> dict[str, Any]:
    rows = 100 if args.quick else 2000
    with spawned("fincome") as server:
        results = fincome_push.measure(server.url, rows, args.concurrency, repeat=1)
    return {"rows": rows, "results": results, "table": fincome_push.report(results)}


def _say(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
