"""`billing-sync check`, whole: every finding, in the order a person fixes things.

Settings (the files read, each secret present, every value usable), then each API, then
Fincome's paths, views and metrics, then the data dir (writable, bound to these accounts).
A part that cannot be checked because an earlier one failed (no usable Fincome settings, a
refused key) is left out rather than guessed at: its cause is the problem shown.
Read-only: the data dir's DuckDB file is opened read-only, and only when it exists; nothing
is written but `accounts.json` under `--rebind` (under the run lock).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from destinations.fincome import FincomeSettings
from pipelines.config import (
    ConfigError,
    env_key,
    load_fincome_settings,
    load_mapping,
    load_metronome_settings,
)
from pipelines.datadir import DataDir, resolve_data_dir, run_lock, unusable_folder_problem
from pipelines.preflight import accounts
from pipelines.preflight.apis import (
    FincomeSurvey,
    fincome_findings,
    fincome_reader,
    listed,
    metric_slugs,
    metronome_finding,
    read_metronome,
    survey_fincome,
    view_slugs,
)
from pipelines.preflight.binding import REBIND, Judgement, Verdict
from pipelines.preflight.findings import Finding, Status, note, ok, problem, problems
from pipelines.preflight.reader import Reached, Unreached
from pipelines.reconcile.discovery import choose_sources
from pipelines.settings_files import CONFIG_DIR_ENV, settings_files
from sources.metronome import MetronomeSettings

T = TypeVar("T")
SECRETS = {
    "metronome": env_key("sources.metronome.api_token"),
    "fincome": env_key("destination.fincome.api_key"),
}
API_AREAS = frozenset({"settings", "metronome", "fincome"})  # a rebind needs them all right
OUR_PREFIXES = ("SOURCES__", "DESTINATION__", "MAPPING__", "DATA_DIR__", "BILLING_SYNC_")


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # names only, never values
    views: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    reconcile: list[str] = field(default_factory=list)  # what reconcile will read, in words
    data_dir: str | None = None

    def add(self, *findings: Finding) -> None:
        self.findings.extend(findings)


def run_check(data_dir_option: Path | None, *, rebind: bool = False) -> CheckReport:
    """Every finding, in order; `rebind` records the accounts when they answered rightly."""
    report = CheckReport()
    _settings_files(report)
    metronome = _loaded(report, "metronome", load_metronome_settings)
    fincome = _loaded(report, "fincome", load_fincome_settings)
    _loaded(report, "mapping", load_mapping)
    if metronome is not None:
        report.add(metronome_finding(metronome, read_metronome(metronome)))
    if fincome is not None:
        _fincome(report, fincome)
    _data_dir(report, data_dir_option, metronome, fincome, rebind=rebind)
    return report


def _settings_files(report: CheckReport) -> None:
    files = settings_files()
    for found in files:
        report.files.append({"role": found.role, "path": str(found.path), "read": found.read})
        if found.read:
            report.add(ok("settings", found.path.name, f"{found.path} ({found.role})"))
    deployment = [f for f in files if f.role == "deployment"]
    if not any(found.read for found in deployment):
        folder = deployment[0].path.parent
        detail = f"no settings in {folder} (the deployment's own folder; {CONFIG_DIR_ENV})"
        report.add(note("settings", "deployment", detail))
    report.variables = sorted(name for name in os.environ if name.startswith(OUR_PREFIXES))
    if report.variables:
        names = ", ".join(report.variables)
        report.add(ok("settings", "environment", f"{len(report.variables)} set: {names}"))


def _loaded(report: CheckReport, what: str, load: Callable[[], T]) -> T | None:
    """The settings `load` reads, or None with the problem naming its variable."""
    try:
        loaded = load()
    except ConfigError as exc:
        report.add(problem("settings", what, str(exc).removeprefix(f"{exc.key}: "), exc.key))
        return None
    if what in SECRETS:
        report.add(ok("settings", f"{what} secret", _secret_place(report, SECRETS[what])))
    return loaded


def _secret_place(report: CheckReport, variable: str) -> str:
    """Where a secret that is set comes from (never its value)."""
    if variable in os.environ:
        return f"{variable} is set, in the environment (not shown)"
    files = [f["path"] for f in report.files if f["read"] and f["path"].endswith("secrets.toml")]
    return f"set in {' or '.join(files) or 'a secrets provider'} (not shown)"


def _fincome(report: CheckReport, settings: FincomeSettings) -> None:
    survey = survey_fincome(settings, workers=settings.max_concurrency)
    found = fincome_findings(settings, survey)
    report.add(*found)
    if found[0].status is not Status.OK:
        return  # the key or the base URL first: nothing else can be judged
    views, metrics = survey.paths["views"], survey.paths["metrics"]
    report.add(listed(survey.of(views), "views", views, view_slugs))
    report.add(listed(survey.of(metrics), "metrics", metrics, metric_slugs))
    report.views = _slugs(survey, views, view_slugs)
    report.metrics = _slugs(survey, metrics, metric_slugs)
    _reconcile_choice(report, settings, survey)


def _reconcile_choice(
    report: CheckReport, settings: FincomeSettings, survey: FincomeSurvey
) -> None:
    """Which views and metrics reconcile will use: its own choice (`discovery.choose_sources`)
    from the same answers, each listed view described (one quick read each)."""
    listing = _listing(survey.of(survey.paths["views"]))
    paths = settings.collection_paths()
    with fincome_reader(settings) as reader, ThreadPoolExecutor(settings.max_concurrency) as pool:
        reads = pool.map(reader.get, [paths.item("views", slug) for slug in report.views])
        described = {
            slug: answer
            for slug, read in zip(report.views, reads, strict=True)
            if isinstance(answer := _listing(read), dict)
        }
    metrics = _listing(survey.of(survey.paths["metrics"]))
    choice = choose_sources(
        [v for v in listing if isinstance(v, dict)] if isinstance(listing, list) else [],
        described,
        [f for f in metrics if isinstance(f, dict)] if isinstance(metrics, list) else [],
    )
    report.reconcile = choice.describe()
    for line in report.reconcile:
        name, _, detail = line.partition(": ")
        chosen = "no view fits" not in detail and "none known" not in detail
        report.add((ok if chosen else note)("reconcile", name, detail))


def _listing(read: Reached | Unreached) -> Any:
    return read.json() if isinstance(read, Reached) and read.status == 200 else None


def _slugs(survey: FincomeSurvey, path: str, slugs: Callable[[object], list[str]]) -> list[str]:
    return slugs(_listing(survey.of(path)))


def _data_dir(
    report: CheckReport,
    option: Path | None,
    metronome: MetronomeSettings | None,
    fincome: FincomeSettings | None,
    *,
    rebind: bool,
) -> None:
    try:
        data_dir = resolve_data_dir(option)
    except ConfigError as exc:
        report.add(problem("data dir", "writable", str(exc).removeprefix(f"{exc.key}: "), exc.key))
        return
    report.data_dir = str(data_dir.root)
    if why := unusable_folder_problem(data_dir.root):
        report.add(problem("data dir", "writable", why, "--data-dir"))
        return
    report.add(ok("data dir", "writable", str(data_dir.root)))
    if rebind and (unfit := [f for f in problems(report.findings) if f.area in API_AREAS]):
        detail = f"not rebound: {len(unfit)} problem(s) with the accounts themselves first"
        report.add(problem("data dir", "accounts", detail, unfit[0].fix or "see above"))
        return
    report.add(*_bound(data_dir, metronome, fincome, rebind=rebind))


def _bound(
    data_dir: DataDir,
    metronome: MetronomeSettings | None,
    fincome: FincomeSettings | None,
    *,
    rebind: bool,
) -> list[Finding]:
    """Whether the data dir belongs to the configured accounts (`binding.py`)."""
    with accounts.configured_accounts(metronome, fincome) as configured:
        if rebind:  # under the lock: a running sync makes it exit 75, as any command
            with run_lock(data_dir):
                accounts.bind(data_dir, configured, set(configured))
            return [
                ok("data dir", api, f"bound now to {each.account.base_url}")
                for api, each in configured.items()
            ]
        try:
            held = _witnesses(data_dir)
        except duckdb.IOException:  # a run holds the DuckDB file
            return [note("data dir", "accounts", "a run holds the data dir: not judged now")]
        verdicts = accounts.judged(data_dir, configured, held)
    return [_bound_finding(api, verdict) for api, verdict in verdicts.items()]


def _bound_finding(api: str, verdict: Verdict) -> Finding:
    if verdict.judgement in (Judgement.OTHER, Judgement.UNDECIDED):
        fix = f"another --data-dir, or {REBIND} then billing-sync repair"
        return problem("data dir", api, verdict.detail, fix)
    if verdict.judgement is Judgement.BOUND:
        return ok("data dir", api, verdict.detail)
    return note("data dir", api, verdict.detail)


def _witnesses(data_dir: DataDir) -> dict[str, list[tuple[str, str]]]:
    if not data_dir.duckdb_path.exists():
        return {}
    with duckdb.connect(str(data_dir.duckdb_path), read_only=True) as connection:
        return accounts.witnesses(connection)
