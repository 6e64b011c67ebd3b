"""`python -m sandbox metronome|fincome [options]`: serve one emulator in the foreground.

`billing-sync emulator ...` and `sandbox.common.server.spawn` both come through here.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sandbox import DEFAULT_FINCOME_API_KEY, DEFAULT_METRONOME_TOKEN
from sandbox.common.server import serve_foreground


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True)
    metronome = kinds.add_parser("metronome", help="the Metronome API emulator")
    fincome = kinds.add_parser("fincome", help="the Fincome API emulator")
    for sub in (metronome, fincome):
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=0, help="0 picks a free port")
        sub.add_argument("--seed", type=int, default=1)
    metronome.add_argument("--customers", type=int, default=50, help="plan customers")
    metronome.add_argument("--contract-customers", type=int, default=0)
    metronome.add_argument("--months", type=int, default=12)
    metronome.add_argument("--now", type=datetime.fromisoformat, default=None)
    metronome.add_argument("--token", default=DEFAULT_METRONOME_TOKEN)
    fincome.add_argument("--api-key", default=DEFAULT_FINCOME_API_KEY)
    fincome.add_argument("--key-header", default="X-API-KEY")
    return parser


def build_app(kind: str, options: dict[str, Any]) -> Any:
    if kind == "metronome":
        from sandbox.metronome.app import build_app as build_metronome

        return build_metronome(
            token=options["token"],
            seed=options["seed"],
            customers=options["customers"],
            contract_customers=options["contract_customers"],
            months=options["months"],
            now=options["now"],
        )
    from sandbox.fincome.app import build_app as build_fincome

    return build_fincome(
        api_key=options["api_key"], key_header=options["key_header"], seed=options["seed"]
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = vars(build_parser().parse_args(argv))
    serve_foreground(build_app(args["kind"], args), host=args["host"], port=args["port"])


if __name__ == "__main__":
    main()
