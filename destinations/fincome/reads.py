"""Fincome's read-only analytics API: metrics and row-level views (reconcile reads these).

`client.metrics` and `client.views` are small resource objects over the client's GET, as in
Stainless SDKs. Numbers come back as `Decimal`. `views.query` follows the offset pagination
(`page.has_more`) until the last page, so callers iterate rows and never see pages; a page
that is not a page, or the same rows as the page before, raises `UnexpectedResponse` rather
than being read as the end or followed forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Literal

import orjson

from destinations.fincome.errors import UnexpectedResponse
from destinations.fincome.settings import CollectionPaths

Read = Callable[[str, Mapping[str, Any] | None], Any]
Item = dict[str, Any]
Items = list[Item]
DateStep = Literal["month", "quarter", "year"]
MAX_PAGE_SIZE = 1000  # the seed caps `limit` at 1000


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; dates as ISO, filters as a JSON array."""
    return {key: _param(key, value) for key, value in values.items() if value is not None}


def _param(key: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if key == "filters" and not isinstance(value, str):
        return orjson.dumps(value).decode()
    return value


class Metrics:
    """`GET /metrics`, `/metrics/{slug}` and `/metrics/{slug}/dimensions`."""

    def __init__(self, read: Read, paths: CollectionPaths) -> None:
        self._read = read
        self._paths = paths

    def list(self) -> Items:
        """Metric families, each with its metrics (slug, unit, kind, dimensions)."""
        families: Items = self._read(self._paths.root("metrics"), None)
        return families

    def get(
        self,
        slug: str,
        *,
        date_start: date | str | None = None,
        date_end: date | str | None = None,
        date_step: DateStep = "month",
        dimension: str | None = None,
        filters: Sequence[Mapping[str, Any]] | str | None = None,
    ) -> Item:
        """One metric series over the periods containing `date_start` .. `date_end`."""
        params = _params(
            date_start=date_start,
            date_end=date_end,
            date_step=date_step,
            dimension=dimension,
            filters=filters,
        )
        result: Item = self._read(self._paths.item("metrics", slug), params)
        return result

    def dimensions(self, slug: str) -> Items:
        found: Items = self._read(self._paths.item("metrics", slug) + "/dimensions", None)
        return found


class Views:
    """`GET /views`, `/views/{slug}` and the paged `/views/{slug}/query`."""

    def __init__(self, read: Read, paths: CollectionPaths) -> None:
        self._read = read
        self._paths = paths

    def list(self) -> Items:
        views: Items = self._read(self._paths.root("views"), None)
        return views

    def describe(self, slug: str) -> Item:
        """The view's label, columns and time semantics, without rows."""
        description: Item = self._read(self._paths.item("views", slug), None)
        return description

    def query(
        self,
        slug: str,
        *,
        filters: Sequence[Mapping[str, Any]] | str | None = None,
        order_by: str | None = None,
        order_dir: Literal["asc", "desc"] = "asc",
        date_step: DateStep | None = None,
        date_start: date | str | None = None,
        date_end: date | str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Item]:
        """Every row of the view matching the filters, fetched page by page."""
        if not 0 < page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be in 1..{MAX_PAGE_SIZE}, got {page_size}")
        params = _params(
            filters=filters,
            order_by=order_by,
            order_dir=order_dir,
            date_step=date_step,
            date_start=date_start,
            date_end=date_end,
            limit=page_size,
        )
        path = self._paths.item("views", slug) + "/query"
        offset = 0
        previous: Items = []
        while True:
            page = self._read(path, {**params, "offset": offset})
            rows = _rows(page, path)
            if rows and rows == previous:
                raise UnexpectedResponse(
                    f"GET {path} answered the same {len(rows)} rows at offset {offset} as at "
                    "the offset before; stopping a listing that makes no progress",
                    method="GET",
                    path=path,
                )
            yield from rows
            # stop on an empty page too, so a server that always says has_more cannot loop us
            if not rows or not (page.get("page") or {}).get("has_more"):
                return
            offset += len(rows)
            previous = rows


def _rows(page: Any, path: str) -> Items:
    """The rows of a page; a body of another shape is an error, never the last page."""
    rows = page.get("rows") if isinstance(page, dict) else None
    if not isinstance(page, dict) or not isinstance(rows, list | None):
        raise UnexpectedResponse(
            f"GET {path} did not answer a page {{'rows': [...]}}", method="GET", path=path
        )
    return rows or []
