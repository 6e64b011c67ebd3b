"""Fincome's settings, declared once: `[destination.fincome]` as one dlt configuration spec.

`FincomeSettings` is what dlt resolves from `[destination.fincome]` (`.dlt/*.toml`, env
`DESTINATION__FINCOME__<KEY>`): the `fincome` destination's spec, what billing-sync's commands
load (`pipelines/config.py`), and what `FincomeClient(settings)` takes whole. Its values
are checked when dlt resolves it (`on_resolved`), or by the client for one built by hand
(`check`): a bad one raises `SettingsProblem` naming its key, never quoting the secret.

DESIGN.md gives the HTTP surface as defaults (`POST /{collection}`, `GET /metrics` ...) that
must stay configurable, because the real paths are not public; `paths` overrides any of them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from dlt.common.configuration import configspec
from dlt.common.destination.client import DestinationClientConfiguration
from dlt.common.typing import TSecretStrValue

from destinations.fincome.schema import COLLECTIONS
from httpkit import InsecureBaseURLError, check_base_url
from httpkit.headers import credential_problem, field_name_problem

DEFAULT_BASE_URL = "https://api2.fincome.co/product"
DEFAULT_API_KEY_HEADER = "X-API-KEY"
CONFIG_SECTION = "destination.fincome"

# A run holds the data-dir lock while it waits: a request allowed more than a day would block
# every scheduled run for that long, surely milliseconds typed as seconds (and above about
# 1e10 s httpx itself overflows).
MAX_SECONDS = 86_400.0

# Read-only endpoints, addressable in `paths` by these names.
READ_ENDPOINTS = {"metrics": "/metrics", "views": "/views"}


class SettingsProblem(ValueError):
    """An unusable value; `key` is its name under `[destination.fincome]`."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{CONFIG_SECTION}.{key} {problem}")
        self.key = key
        self.problem = problem


def _path_segment(value: str) -> str:
    # ids like `inv_1:L0.S1` stay readable; a `/` in an id must not create a new segment
    return quote(value, safe=":@")


@dataclass(frozen=True)
class CollectionPaths:
    """Where each collection and read endpoint lives under the base URL.

    `overrides` maps a collection name (or `metrics` / `views`) to its path, e.g.
    `{"invoice_line_items": "/invoice_lines"}`; everything else keeps its default.
    """

    overrides: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, str] | None) -> CollectionPaths:
        known = {*COLLECTIONS, *READ_ENDPOINTS}
        unknown = sorted(set(overrides or {}) - known)
        if unknown:
            raise SettingsProblem(
                "paths",
                f"has unknown endpoint(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})",
            )
        cleaned = {name: "/" + path.strip("/") for name, path in (overrides or {}).items()}
        return cls(tuple(sorted(cleaned.items())))

    def root(self, name: str) -> str:
        """The path of a collection or read endpoint, e.g. `/customers`."""
        default = READ_ENDPOINTS.get(name, f"/{name}")
        return dict(self.overrides).get(name, default)

    def item(self, name: str, item_id: str) -> str:
        """The path of one item of a collection (or one metric / view by slug)."""
        return f"{self.root(name)}/{_path_segment(item_id)}"


@configspec
class FincomeSettings(DestinationClientConfiguration):
    """`[destination.fincome]`: every Fincome setting, each declared here only.

    dlt keeps `api_key` out of its traces and `repr` (a secret value). Field names are the
    configuration keys.
    """

    destination_type: Final[str] = dataclasses.field(  # type: ignore[misc]
        default="fincome", init=False, repr=False, compare=False
    )
    # required: resolving without it fails naming DESTINATION__FINCOME__API_KEY
    api_key: TSecretStrValue = None  # type: ignore[assignment]
    base_url: str = DEFAULT_BASE_URL
    api_key_header: str = DEFAULT_API_KEY_HEADER
    requests_per_second: float | None = 10.0  # 0 (or None): no pacing
    max_concurrency: int = 8  # requests in flight
    timeout_seconds: float = 60.0  # per attempt, whole
    max_attempts: int = 8  # per request, first try included
    retry_budget_seconds: float = 120.0  # per request, retries and waits included
    allow_insecure_http: bool = False  # plain http:// beyond loopback
    paths: dict[str, str] | None = None  # collection -> path overrides
    # where the `fincome` destination keeps its ledger (see destination.py for the default);
    # billing-sync's commands keep theirs in the data dir's DuckDB file
    ledger_path: str | None = None

    def on_resolved(self) -> None:
        self.check()

    def check(self) -> None:
        """Check every value; secrets lose surrounding whitespace (a mounted file's newline).

        dlt calls it once the settings are resolved; a client calls it too, for settings
        built by hand."""
        if self.api_key is not None:
            self.api_key = self.api_key.strip()
        if not self.requests_per_second:
            self.requests_per_second = None  # 0 turns pacing off
        # no message quotes the key, only the position of a character that cannot be sent
        if problem := credential_problem(self.api_key or ""):
            raise SettingsProblem("api_key", f"{problem}; secrets are sent as an HTTP header")
        if problem := field_name_problem(self.api_key_header):
            raise SettingsProblem("api_key_header", problem)
        _require_positive("requests_per_second", self.requests_per_second)
        _require_positive("max_concurrency", self.max_concurrency)
        _require_seconds("timeout_seconds", self.timeout_seconds)
        _require_positive("max_attempts", self.max_attempts)
        _require_seconds("retry_budget_seconds", self.retry_budget_seconds)
        try:
            self.base_url = check_base_url(
                self.base_url, key="base_url", allow_insecure_http=self.allow_insecure_http
            )
        except InsecureBaseURLError as exc:
            raise SettingsProblem("base_url", str(exc).removeprefix("base_url: ")) from None
        CollectionPaths.from_mapping(self.paths)

    def collection_paths(self) -> CollectionPaths:
        return CollectionPaths.from_mapping(self.paths)


def _require_positive(key: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise SettingsProblem(key, f"must be a finite number more than 0, got {value!r}")


def _require_seconds(key: str, seconds: float) -> None:
    _require_positive(key, seconds)
    if seconds > MAX_SECONDS:
        raise SettingsProblem(key, f"must be at most {MAX_SECONDS:.0f} seconds")
