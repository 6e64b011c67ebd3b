"""`billing-sync emulator metronome|fincome`: serve one local emulator in the foreground."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from sandbox import DEFAULT_FINCOME_API_KEY, DEFAULT_METRONOME_TOKEN


class EmulatorKind(StrEnum):
    METRONOME = "metronome"
    FINCOME = "fincome"


def register(app: typer.Typer) -> None:
    app.command(
        help="Serve a local emulator of Metronome or Fincome until interrupted. Its "
        f"credentials: Metronome's token {DEFAULT_METRONOME_TOKEN} (SOURCES__METRONOME__"
        f"API_TOKEN), Fincome's key {DEFAULT_FINCOME_API_KEY} in X-API-KEY (DESTINATION__"
        "FINCOME__API_KEY); plain http on loopback needs no allow_insecure_http."
    )(emulator)


def emulator(
    kind: Annotated[EmulatorKind, typer.Argument(help="Which API to emulate.")],
    *,
    host: Annotated[str | None, typer.Option(help="Interface [default: 127.0.0.1]")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port; 0 picks a free one [default: 0]")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the generated account.")] = None,
    customers: Annotated[int | None, typer.Option(min=1, help="Metronome only: customers.")] = None,
    # a century of history at most: far beyond it the generator's dates fall before year 1
    months: Annotated[
        int | None, typer.Option(min=1, max=1200, help="Metronome only: months of history.")
    ] = None,
) -> None:
    from sandbox.__main__ import main as serve  # the sandbox is only loaded when asked for

    if kind is EmulatorKind.FINCOME and (customers is not None or months is not None):
        raise typer.BadParameter("only the Metronome emulator generates customers and months")
    options = {
        "--host": host,
        "--port": port,
        "--seed": seed,
        "--customers": customers,
        "--months": months,
    }
    argv = [kind.value]
    for flag, value in options.items():
        if value is not None:
            argv += [flag, str(value)]
    serve(argv)
