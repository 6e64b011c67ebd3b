"""One command run, in the order every command needs: resolve the data dir, take its lock,
claim its scope, record the run, show progress; then print the outcome, log the summary line
and exit with its code (`common.run_command`).

    def push(..., data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
        session = CommandSession("push", data_dir, json_output)
        session.run(lambda: push_outcome(session, ...))

    def push_outcome(session: CommandSession, ...) -> Outcome:
        settings = load_fincome_settings()  # configuration first: exit 2 before the lock
        with session.locked() as held:
            scope = held.claim(requested)
            with held.recorded(options, progress=True) as run:
                result = run_push(held.data_dir, ..., bars=run.bars)
                return run.done(outcome_of(result), recorded=result.to_json())

Each step is taken only by the commands that need it: `status` locks and claims nothing,
`demo` records no run. Progress bars are drawn only without `--json` (and at a terminal);
a recorded run also keeps its progress snapshot (`running.py`) in the data dir, for
`status` and `rejects` to show while it holds the lock, and notes which open rejects were
already reported when it began (`Run.open_before`, `rejects.reported_rejects`: a run's new
rejects are the others).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.commands.common import ExitCode, Outcome, classify, run_command
from pipelines.datadir import DataDir, resolve_data_dir, run_lock
from pipelines.progress import Bars, progress_bars
from pipelines.rejects import RejectKey, reported_rejects
from pipelines.running import run_snapshot
from pipelines.runs import RunLog
from pipelines.shards import Scope, claim_scope
from pipelines.stopping import Stopped, received_signal


class CommandSession:
    """One run of one command, from its options to its exit code."""

    def __init__(self, command: str, data_dir: Path | None, json_output: bool) -> None:
        self.command = command
        self.json_output = json_output
        self._data_dir_option = data_dir

    def run(self, body: Callable[[], Outcome]) -> None:
        """Run `body`, print its outcome, log the summary line and exit with its code."""
        run_command(self.command, self.json_output, body)

    def data_dir(self) -> DataDir:
        """The data dir, resolved (a `ConfigError` when unusable), not locked."""
        return resolve_data_dir(self._data_dir_option)

    @contextmanager
    def locked(self) -> Iterator[Held]:
        """The data dir, resolved (a `ConfigError` when unusable) and locked for the run."""
        data_dir = self.data_dir()
        with run_lock(data_dir):
            yield Held(self, data_dir)


@dataclass(frozen=True)
class Held:
    """A data dir the session holds the lock of."""

    session: CommandSession
    data_dir: DataDir

    def claim(self, wanted: Scope | None) -> Scope:
        """The scope this run works in (`shards.claim_scope`): `wanted` must match the data
        dir's own; None takes whatever it holds."""
        return claim_scope(self.data_dir, wanted)

    @contextmanager
    def recorded(self, options: dict[str, Any], *, progress: bool = False) -> Iterator[Run]:
        """The run recorded in `fincome_sync.runs` (`options` must hold no secret), with
        progress bars when asked for and output is for a person, and its snapshot."""
        shown = progress and not self.session.json_output
        command = self.session.command
        with (
            _recorded_run(self.data_dir, command, options) as (record, open_before),
            run_snapshot(self.data_dir, command) as snapshot,
            progress_bars(enabled=shown, snapshot=snapshot) as bars,
        ):
            yield Run(record, bars, open_before)


@dataclass(frozen=True)
class Run:
    """A recorded run: its progress bars, the open rejects already reported when it began,
    and `done` to record how it ended."""

    record: RunRecord
    bars: Bars
    open_before: frozenset[RejectKey]

    def done(self, outcome: Outcome, *, recorded: dict[str, Any]) -> Outcome:
        """Record the outcome's exit code with `recorded` as the run's summary."""
        self.record.exit_code = int(outcome.exit_code)
        self.record.summary = recorded
        return outcome


@dataclass
class RunRecord:
    """Filled in by the command; a run that raises is recorded as failed with the error."""

    exit_code: int = ExitCode.FAILED
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@contextmanager
def _recorded_run(
    data_dir: DataDir, command: str, options: dict[str, Any]
) -> Iterator[tuple[RunRecord, frozenset[RejectKey]]]:
    """Record the run in `fincome_sync.runs` (for `status`); `options` must hold no secret.
    Also yields the open rejects already reported as it begins."""
    with data_dir.connect() as connection:
        open_before = reported_rejects(connection)
        run_id = RunLog(connection).start(command, options)
    record = RunRecord()
    try:
        yield record, open_before
    except Exception as exc:
        code, record.error = classify(exc)
        record.exit_code = int(code)
        raise
    finally:
        if (signum := received_signal()) is not None:
            record.exit_code, record.error = 128 + signum, str(Stopped(signum))
        with data_dir.connect() as connection:
            RunLog(connection).finish(
                run_id,
                exit_code=record.exit_code,
                summary=record.summary,
                error=record.error,
            )
