"""`run_repair`: make Fincome hold the desired state again, whatever happened to the ledger.

The ledger is all a push knows of Fincome, and a wrong ledger is never corrected by a push:
after a data dir is lost, a create that meets 409 becomes an update that leaves the lines
Fincome holds beyond the new body; a record changed or deleted by hand in Fincome is never
sent again, since the ledger says it is current. Repair corrects the ledger to what Fincome
really holds, then runs the one push path (`push.run_push`), which sends the differences:

1. `run_push` as a dry run brings the desired state up to what is staged (sends nothing);
   its plan is what a push would have sent without the repair (`pending`).
2. Every record of the desired state or the ledger is read back by id (`readback`), in push
   order, once every collection path is known to be served (`check`'s rule: an unserved
   path answers 404 to every read, which would read as "missing" and empty the ledger); a
   document read with its lines embedded settles its lines without reading them one by one
   (`repair_checks.py` judges each record and says what the ledger learns).
3. Corrections are committed every `BATCH` records together with the ids checked
   (`fincome_sync.repair_checked`): a repair killed or stopped resumes where it was, and the
   table is emptied once a repair's push completes.
4. `run_push` sends what the corrected ledger lacks: creates, updates, deletes.

`dry_run` does 1 and 2 and writes nothing to the ledger or to Fincome.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from destinations.fincome import FincomeClient, FincomeError, FincomeSettings, LedgerStore
from destinations.fincome.schema import PUSH_ORDER
from pipelines.config import ConfigError, env_key
from pipelines.datadir import DataDir
from pipelines.preflight.apis import path_finding, survey_fincome
from pipelines.preflight.routes import Route
from pipelines.progress import Bars, no_bars
from pipelines.push import PushOptions, PushResult, run_push
from pipelines.push_failures import PushFailed, explain
from pipelines.readback import read_back
from pipelines.rejects import open_reject_keys
from pipelines.repair_checks import Finding, Judge, RepairLedger, Tally
from pipelines.shards import ACCOUNT, Scope
from pipelines.stopping import raise_if_stopped
from pipelines.transform.options import MappingOptions

BATCH = 500  # records judged per ledger transaction: what a kill can cost to read again
SHOWN_FINDINGS = 20
T = TypeVar("T")


@dataclass
class RepairResult:
    dry_run: bool
    tallies: dict[str, Tally]
    findings: list[Finding] = field(default_factory=list)  # the first `SHOWN_FINDINGS`
    resumed: int = 0  # records an earlier, unfinished repair had already checked
    pending: dict[str, int] = field(default_factory=dict)  # writes a push had planned before
    push: PushResult | None = None
    requests: dict[str, Any] = field(default_factory=dict)  # the read-back's, all collections
    duration_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            "collections": {name: tally.to_json() for name, tally in self.tallies.items()},
            "findings": [finding.to_json() for finding in self.findings],
            "pending": self.pending,
            "push": None if self.push is None else self.push.to_json(),
            "requests": self.requests,
            "duration_seconds": self.duration_seconds,
        }

    @property
    def totals(self) -> Tally:
        whole = Tally()
        for tally in self.tallies.values():
            whole.add(tally)
        return whole


def run_repair(
    data_dir: DataDir,
    settings: FincomeSettings,
    mapping: MappingOptions,
    *,
    dry_run: bool = False,
    scope: Scope = ACCOUNT,
    since: datetime | None = None,
    bars: Bars | None = None,
) -> RepairResult:
    """Read back what Fincome holds, correct the ledger, push (see the module docstring)."""
    started = time.monotonic()
    since = since or datetime.now(UTC)
    bars = bars or no_bars()
    data_dir.ensure()
    with data_dir.connect() as db:  # rejects open before the repair are not its own
        open_before = frozenset(open_reject_keys(db))
    planned = PushOptions(dry_run=True, scope=scope)
    before = run_push(data_dir, None, mapping, planned, bars=bars, open_before=open_before)
    result = RepairResult(dry_run, {spec.name: Tally() for spec in PUSH_ORDER})
    result.pending = {
        name: plan.writes + plan.embedded for name, plan in before.plan.collections.items()
    }
    _refuse_unserved_paths(settings)
    with data_dir.connect() as db, FincomeClient(settings) as client:
        ledger = RepairLedger(LedgerStore(db), keep=not dry_run)
        result.resumed = ledger.resumed
        judge = Judge(db, ledger, result.tallies)
        try:
            for spec in PUSH_ORDER:
                _check_collection(client, judge, spec.name, bars)
        except FincomeError as exc:
            raise _explain(exc) from exc
        result.findings = judge.findings[:SHOWN_FINDINGS]
        result.requests = client.stats.snapshot()
    if not dry_run:
        options = PushOptions(scope=scope)
        result.push = run_push(
            data_dir, settings, mapping, options, since=since, bars=bars, open_before=open_before
        )
        for name, done in result.push.done.items():
            result.tallies[name].repaired = sum(done.values())
        for name, steps in result.push.steps.items():
            result.tallies[name].requests += sum(steps.values())
        with data_dir.connect() as db:
            RepairLedger(LedgerStore(db), keep=True).finish()
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def _check_collection(client: FincomeClient, judge: Judge, name: str, bars: Bars) -> None:
    """Read back every record of `name` not checked yet, judged and corrected in batches."""
    started = time.monotonic()
    attempts = client.stats.attempts
    ids = judge.ledger.unchecked(name)
    counter = bars.counter(f"repair {name}", len(ids))
    for batch in _batched(read_back(client, name, ids), BATCH):
        judge.settle(name, dict(batch))
        counter.advance(len(batch))
        raise_if_stopped(f"the repair, reading back {name}")
    tally = judge.tallies[name]
    tally.requests += client.stats.attempts - attempts
    tally.seconds += round(time.monotonic() - started, 3)


def _refuse_unserved_paths(settings: FincomeSettings) -> None:
    """Every read of a path the server does not serve is a 404: repair would take each
    record for missing and empty the ledger of it. `check`'s rule (`preflight/routes.py`)
    tells "no such route" from "no such id" first, with a few quick reads."""
    survey = survey_fincome(settings)
    for spec in PUSH_ORDER:
        if survey.route(spec.name) is Route.MISSING:
            finding = path_finding(survey, spec.name)
            key = env_key(f"destination.fincome.paths.{spec.name}")
            raise ConfigError(key, f"{finding.detail}: set {finding.fix}")


def _explain(failure: FincomeError) -> Exception:
    """A refused key or a wrong path exits 2 naming its setting (as for a push); anything
    else says that what was corrected is kept."""
    explained = explain(failure)
    if not isinstance(explained, PushFailed):
        return explained
    text = (
        f"the repair stopped reading back: {failure}. The corrections made so far are in "
        "the ledger; run repair again to continue"
    )
    return PushFailed(" ".join(text.split())[:500])


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
