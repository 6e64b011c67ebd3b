"""Each API reachable, TLS right, the credential accepted, each Fincome path served.

Metronome: `GET /v1/customers?limit=1`, a harmless authenticated read. Fincome: for each
collection `GET {path}` and `GET {path}/{PROBE_ID}`, the same two reads of a path that
surely does not exist (the control, `routes.py` says how they are judged), `GET /views` and
`GET /metrics`; all at once, paced as the push is. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from destinations.fincome import FincomeSettings
from destinations.fincome.schema import COLLECTIONS
from pipelines.config import env_key
from pipelines.preflight.findings import Finding, note, ok, problem
from pipelines.preflight.reader import QuickReader, Reached, Unreached
from pipelines.preflight.routes import CONTROL_PATH, PROBE_ID, Route, combined, verdict
from sources.metronome import MetronomeSettings
from sources.metronome.settings import BASE_URL_KEY, CUSTOMERS_PATH

Read = Reached | Unreached
METRONOME_TOKEN = "SOURCES__METRONOME__API_TOKEN"
FINCOME_KEY = env_key("destination.fincome.api_key")
FINCOME_HEADER = env_key("destination.fincome.api_key_header")
FINCOME_BASE_URL = env_key("destination.fincome.base_url")


def metronome_reader(settings: MetronomeSettings) -> QuickReader:
    return QuickReader(
        settings.base_url,
        {"Authorization": f"Bearer {settings.api_token}"},
        secret=settings.api_token,
        timeout_seconds=settings.timeout_seconds,
        requests_per_second=settings.requests_per_second,
    )


def fincome_reader(settings: FincomeSettings) -> QuickReader:
    return QuickReader(
        settings.base_url,
        {settings.api_key_header: settings.api_key},
        secret=settings.api_key,
        timeout_seconds=settings.timeout_seconds,
        requests_per_second=settings.requests_per_second,
    )


def transport(base_url: str) -> str:
    """How the base URL is reached: TLS (certificate always verified), or plain http, which
    the settings allow only on loopback or with allow_insecure_http."""
    return "TLS verified" if urlsplit(base_url).scheme == "https" else "plain http"


def metronome_finding(settings: MetronomeSettings, read: Read) -> Finding:
    """What `GET /v1/customers?limit=1` says about the base URL and the token."""
    base = settings.base_url
    if isinstance(read, Unreached):
        return problem("metronome", "reachable", f"{base}: {read.reason}", BASE_URL_KEY)
    if read.status in (401, 403):
        detail = f"GET {CUSTOMERS_PATH} answered {read.status}: the token was refused"
        return problem("metronome", "authenticated", detail, METRONOME_TOKEN)
    if read.status == 200:
        return ok("metronome", "authenticated", f"{base} ({transport(base)}), token accepted")
    detail = f"GET {base}{CUSTOMERS_PATH} answered {read.status}: not Metronome's API there"
    return problem("metronome", "reachable", detail, BASE_URL_KEY)


def read_metronome(settings: MetronomeSettings) -> Read:
    with metronome_reader(settings) as reader:
        return reader.get(CUSTOMERS_PATH, {"limit": 1})


@dataclass(frozen=True)
class FincomeSurvey:
    """Every read of the Fincome check, by path."""

    reads: dict[str, Read]
    paths: dict[str, str]  # collection (and views, metrics) -> its configured path

    def of(self, path: str) -> Read:
        return self.reads[path]

    def route(self, name: str) -> Route:
        """Whether the configured path of collection `name` is served (`routes.py`)."""
        root = self.paths[name]
        judged = [
            verdict(probe.answer(), control.answer() if isinstance(control, Reached) else None)
            for probe, control in (
                (self.of(root), self.of(CONTROL_PATH)),
                (self.of(f"{root}/{PROBE_ID}"), self.of(f"{CONTROL_PATH}/{PROBE_ID}")),
            )
            if isinstance(probe, Reached)
        ]
        return combined(*judged)


def survey_fincome(settings: FincomeSettings, workers: int = 8) -> FincomeSurvey:
    """Every read at once (at most `workers` in flight, paced as configured)."""
    resolved = settings.collection_paths()
    paths = {name: resolved.root(name) for name in (*COLLECTIONS, "views", "metrics")}
    wanted = [CONTROL_PATH, f"{CONTROL_PATH}/{PROBE_ID}"]
    for name in COLLECTIONS:
        wanted += [paths[name], f"{paths[name]}/{PROBE_ID}"]
    wanted += [paths["views"], paths["metrics"]]
    with fincome_reader(settings) as reader, ThreadPoolExecutor(workers) as pool:
        answers = dict(zip(wanted, pool.map(reader.get, wanted), strict=True))
    return FincomeSurvey(answers, paths)


def fincome_findings(settings: FincomeSettings, survey: FincomeSurvey) -> list[Finding]:
    """The key, then each collection's path (only once the key is accepted)."""
    access = fincome_access(settings, list(survey.reads.values()), survey)
    if access.status != "ok":
        return [access]
    return [access, *(path_finding(survey, name) for name in COLLECTIONS)]


def fincome_access(
    settings: FincomeSettings, reads: list[Read], survey: FincomeSurvey | None = None
) -> Finding:
    """Reachable, TLS right, the key accepted: from every read of the survey."""
    base = settings.base_url
    answered = [read for read in reads if isinstance(read, Reached)]
    if not answered:
        reason = next(read.reason for read in reads if isinstance(read, Unreached))
        return problem("fincome", "reachable", f"{base}: {reason}", FINCOME_BASE_URL)
    if refused := [read for read in answered if read.status in (401, 403)]:
        detail = (
            f"GET {refused[0].path} answered {refused[0].status}: the key was refused "
            f"(in the header {FINCOME_HEADER} names)"
        )
        return problem("fincome", "authenticated", detail, FINCOME_KEY)
    if survey is not None and not any(survey.route(name) is Route.SERVED for name in COLLECTIONS):
        detail = f"{base}: no collection path is served there (every read looks like no route)"
        return problem("fincome", "reachable", detail, FINCOME_BASE_URL)
    return ok("fincome", "authenticated", f"{base} ({transport(base)}), key accepted")


def path_finding(survey: FincomeSurvey, name: str) -> Finding:
    path = survey.paths[name]
    route = survey.route(name)
    if route is Route.SERVED:
        return ok("paths", name, f"{path} is served")
    variable = env_key(f"destination.fincome.paths.{name}")
    fix = f'[destination.fincome.paths] {name} = "/..." (or {variable})'
    if route is Route.MISSING:
        return problem("paths", name, f"{path}: no such route on this server", fix)
    why = _why_undetermined(survey.of(f"{path}/{PROBE_ID}"))
    return problem("paths", name, f"{path}: cannot tell whether it is served ({why})", fix)


def _why_undetermined(read: Read) -> str:
    if isinstance(read, Unreached):
        return read.reason
    return f"GET {read.path} answered {read.status}"


def listed(read: Read, what: str, path: str, slugs: Callable[[object], list[str]]) -> Finding:
    """What `GET /views` or `GET /metrics` lists; none served is a note, not a problem:
    reconcile compares by reading documents instead."""
    if isinstance(read, Reached) and read.status == 200:
        found = slugs(read.json())
        shown = ", ".join(found) if found else "none"
        return ok(what, "available", f"GET {path}: {len(found)} ({shown})")
    status = read.reason if isinstance(read, Unreached) else f"answered {read.status}"
    return note(what, "available", f"GET {path} {status}: reconcile reads documents instead")


def view_slugs(listing: object) -> list[str]:
    """The slugs `GET /views` lists (a list of views, each with its `slug`)."""
    views = listing if isinstance(listing, list) else []
    return [str(view["slug"]) for view in views if isinstance(view, dict) and "slug" in view]


def metric_slugs(listing: object) -> list[str]:
    """The slugs `GET /metrics` lists (families, each with its `metrics`)."""
    families = listing if isinstance(listing, list) else []
    return [
        str(metric["slug"])
        for family in families
        if isinstance(family, dict)
        for metric in family.get("metrics") or []
        if isinstance(metric, dict) and "slug" in metric
    ]
