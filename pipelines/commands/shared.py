"""`billing-sync push-shared`: the customers, products and prices every shard refers to.

A sharded run is three steps, each shard in a data dir of its own:

1. `extract --shard I/N` in every shard: its customers, and its `shared-facts.json`;
2. `push-shared --facts <shard 0> ... --facts <shard N-1>` once, in a data dir of its own:
   merges the facts of all N shards and pushes customers (payer roots resolved across
   shards), products and prices, exactly as one run over the whole account would;
3. `push --shard I/N` in every shard: its subscriptions, invoices, credit notes and lines,
   whose parents Fincome now holds.

`--facts` takes a facts file or a shard's data dir; it needs every shard of one N exactly
once (exit 2 otherwise). `--json` prints the `push` object (see `push.py`) with
`"command": "push-shared"`, `"scope": {"kind": "shared", "index": null, "count": null}` and
`"facts": ["/abs/shard-0/shared-facts.json", ...]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.commands.common import DataDirOption, JsonOption, Outcome, rejects_exit_code
from pipelines.commands.push import DryRunOption
from pipelines.commands.session import CommandSession
from pipelines.commands.show import push_counts, render_push, summarize_push
from pipelines.config import ConfigError, load_fincome_settings, load_mapping
from pipelines.push import PushOptions, run_shared_push
from pipelines.shards import SHARED
from pipelines.shared_facts import FACTS_FILE, SharedFacts, check_complete

FACTS_KEY = "--facts"
FactsOption = Annotated[
    list[Path],
    typer.Option(
        FACTS_KEY,
        metavar="PATH",
        help="A shard's shared-facts.json, or its data dir (once per shard, all N shards).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command(
        "push-shared",
        help="Push the customers, products and prices of all shards (from their facts).",
    )(push_shared)


def push_shared(
    facts: FactsOption,
    dry_run: DryRunOption = False,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    session = CommandSession("push-shared", data_dir, json_output)
    session.run(lambda: shared_outcome(session, facts, dry_run))


def shared_outcome(session: CommandSession, facts_paths: list[Path], dry_run: bool) -> Outcome:
    """Read and check every shard's facts, then push the shared records under the lock."""
    mapping = load_mapping()
    settings = None if dry_run else load_fincome_settings()
    files = [_facts_file(path) for path in facts_paths]
    all_facts = check_complete([_read(file) for file in files])
    described = {"dry_run": dry_run, "facts": [str(file) for file in files]}
    with session.locked() as held:
        held.claim(SHARED)
        with held.recorded(described, progress=True) as run:
            options = PushOptions(dry_run=dry_run)
            result = run_shared_push(
                held.data_dir, settings, mapping, all_facts, options, bars=run.bars
            )
            outcome = Outcome(
                exit_code=rejects_exit_code(result.rejects),
                payload={
                    "data_dir": str(held.data_dir.root),
                    **result.to_json(),
                    "facts": described["facts"],
                },
                summary=summarize_push(result),
                render=lambda console: render_push(console, result),
                counts=push_counts(result),
            )
            return run.done(outcome, recorded=result.to_json())


def _facts_file(path: Path) -> Path:
    chosen = path / FACTS_FILE if path.is_dir() else path
    return chosen.expanduser().absolute()


def _read(file: Path) -> SharedFacts:
    try:
        return SharedFacts.from_json(file.read_bytes())
    except OSError as exc:
        raise ConfigError(FACTS_KEY, f"cannot read {file}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(FACTS_KEY, f"{file} is not a shard's shared facts ({exc})") from None
