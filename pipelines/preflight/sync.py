"""The cheap part of `check`, run by `sync` before its extract: a refused credential or a data
dir bound to other accounts fails in seconds (exit 2), not after the whole extract.

Two quick reads (Metronome's customer list, then one Fincome read by id), then the data
dir's accounts (`binding.py`: no request when they match). An API that does not answer, or answers
what may pass (5xx, 429), is left to the run itself, whose retries tell an outage (exit 1)
from a blip; what no retry changes (401/403, a TLS fault, no Metronome API at the base URL)
is a `ConfigError`. While Metronome is out, nothing else is judged: the extract meets the
outage first, as it did before.
"""

from __future__ import annotations

import logging

from destinations.fincome import FincomeSettings
from pipelines.config import ConfigError, fincome_settings_if_keyed
from pipelines.datadir import DataDir
from pipelines.preflight import accounts
from pipelines.preflight.apis import (
    fincome_access,
    fincome_reader,
    metronome_finding,
    read_metronome,
)
from pipelines.preflight.binding import REBIND, Judgement
from pipelines.preflight.findings import Finding, Status
from pipelines.preflight.reader import Reached, Unreached
from pipelines.preflight.routes import PROBE_ID
from sources.metronome import MetronomeSettings

log = logging.getLogger(__name__)
# answers no retry changes: judged here; any other is left to the run's retries
DECISIVE = frozenset({401, 403, 404}) | frozenset(range(200, 300))


class AccountsUndecided(Exception):
    """A witness could not be read (an outage, not a configuration): exit 1, try again."""


def preflight_sync(
    data_dir: DataDir, metronome: MetronomeSettings, fincome: FincomeSettings | None
) -> None:
    """Raise `ConfigError` naming what to fix; record the accounts on a first run.

    `fincome` None (a dry run): Fincome is checked when a key is configured."""
    fincome = fincome or fincome_settings_if_keyed()
    read = read_metronome(metronome)
    if _outage(read):
        return  # the extract meets the outage first, as before (exit 1 after its retries)
    _raise_if_problem(metronome_finding(metronome, read))
    if fincome is not None:
        path = f"{fincome.collection_paths().root('customers')}/{PROBE_ID}"
        with fincome_reader(fincome) as reader:
            answer = reader.get(path)
        if not _outage(answer):
            _raise_if_problem(fincome_access(fincome, [answer]))
    check_accounts(data_dir, metronome, fincome)


def check_accounts(
    data_dir: DataDir, metronome: MetronomeSettings | None, fincome: FincomeSettings | None
) -> None:
    """Exit 2 when the data dir belongs to other accounts; else record the ones in use
    (`None`: an API the command does not talk to, e.g. Metronome for `push`)."""
    with accounts.configured_accounts(metronome, fincome) as configured:
        with data_dir.connect() as connection:
            held = accounts.witnesses(connection)
        verdicts = accounts.judged(data_dir, configured, held)
        for api, verdict in accounts.refused(verdicts).items():
            if verdict.judgement is Judgement.UNDECIDED:
                raise AccountsUndecided(f"{api}: {verdict.detail}; try again")
            raise ConfigError(
                str(data_dir.accounts_path),
                f"{api}: {verdict.detail}. Use a data dir of its own for this account "
                f"(--data-dir), or move this one to it: {REBIND}, then billing-sync repair",
            )
        if rebind := accounts.to_rebind(verdicts):
            for api in sorted(rebind):
                log.info("data dir bound to this %s account: %s", api, verdicts[api].detail)
            accounts.bind(data_dir, configured, rebind)


def _outage(read: Reached | Unreached) -> bool:
    """No answer, or one that may pass (5xx, 429, 408...): the run's retries judge it. Only
    what no retry changes is decided here: 401/403, 404 (nothing there), a TLS fault."""
    if isinstance(read, Unreached):
        return not read.setup
    return read.status not in DECISIVE


def _raise_if_problem(finding: Finding) -> None:
    if finding.status is Status.PROBLEM and finding.fix:
        raise ConfigError(finding.fix, finding.detail)
