"""Fincome connection settings: defaults, the collection paths and the knobs of one client.

DESIGN.md gives the HTTP surface as defaults (`POST /{collection}`, `GET /metrics` ...) that
must stay configurable, because the real paths are not public; `paths` overrides any of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from destinations.fincome.schema import COLLECTIONS
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
            raise ValueError(
                f"{CONFIG_SECTION}.paths: unknown endpoint(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
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


@dataclass(frozen=True, kw_only=True)
class FincomeSettings:
    """Everything a `FincomeClient` needs; hashable, so equal settings can share a client.

    The key is kept out of `repr` so that a settings object can be logged safely.
    """

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    api_key_header: str = DEFAULT_API_KEY_HEADER
    requests_per_second: float | None = 10.0
    max_concurrency: int = 8
    timeout_seconds: float = 60.0
    max_attempts: int = 8
    retry_budget_seconds: float = 120.0
    allow_insecure_http: bool = False
    paths: CollectionPaths = CollectionPaths()

    def __post_init__(self) -> None:
        check_knobs(
            api_key=self.api_key,
            api_key_header=self.api_key_header,
            requests_per_second=self.requests_per_second,
            max_concurrency=self.max_concurrency,
            timeout_seconds=self.timeout_seconds,
        )
        _require_positive("max_attempts", self.max_attempts)
        _require_seconds("retry_budget_seconds", self.retry_budget_seconds)


def check_knobs(
    *,
    api_key: str,
    api_key_header: str,
    requests_per_second: float | None,
    max_concurrency: int,
    timeout_seconds: float,
) -> None:
    """Raise `ValueError` naming the configuration key of the first unusable value.

    No message quotes the key, only the position of a character that cannot be sent.
    """
    if problem := credential_problem(api_key):
        raise ValueError(f"{CONFIG_SECTION}.api_key {problem}; secrets are sent as an HTTP header")
    if problem := field_name_problem(api_key_header):
        raise ValueError(f"{CONFIG_SECTION}.api_key_header {problem}")
    _require_positive("requests_per_second", requests_per_second)
    _require_positive("max_concurrency", max_concurrency)
    _require_seconds("timeout_seconds", timeout_seconds)


def _require_positive(key: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{CONFIG_SECTION}.{key} must be a finite number more than 0, got {value!r}"
        )


def _require_seconds(key: str, seconds: float) -> None:
    _require_positive(key, seconds)
    if seconds > MAX_SECONDS:
        raise ValueError(f"{CONFIG_SECTION}.{key} must be at most {MAX_SECONDS:.0f} seconds")
