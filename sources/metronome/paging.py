"""How a Metronome list asks for its next page: the two cursor strategies its API uses.

Metronome pages its lists in two ways (the official SDK's `pagination.py`):

- `QUERY_CURSOR` (the SDK's `SyncCursorPage`): a GET with its options and `limit` (1-100)
  in the query; the answer's `next_page` goes back as the query's `next_page`.
- `BODY_CURSOR` (the SDK's `SyncBodyCursorPageCursorField`): a POST with its options and
  `limit` (1-20) in a JSON body; the answer's `cursor` goes back as the body's `cursor`.

Every page answers `{"data": [...], <cursor field>: "<cursor>" | null}`; an empty or absent
cursor ends the list. A strategy only builds requests and reads cursors: the one loop that
follows them (`MetronomeClient.pages`) gives both the same retries, budget, pacing, typed
errors and progress checks (`listing.ListingProgress`). A POST list is a read that changes
nothing on Metronome's side, so it is retried exactly like a GET.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

from sources.metronome.listing import Shape, page_shape
from sources.metronome.settings import MAX_PAGE_SIZE


@dataclass(frozen=True)
class PageRequest:
    """One page's request: `query` goes in the URL, `body` (when not None) as JSON."""

    method: Literal["GET", "POST"]
    query: Mapping[str, Any]
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Paging:
    """Where a list's options, page size and cursor travel (`carrier`), and its limits."""

    carrier: Literal["query", "body"]  # a GET's query, or a POST's JSON body
    cursor_field: str  # the answer's field holding the next cursor, sent back under that name
    max_page_size: int

    @property
    def method(self) -> Literal["GET", "POST"]:
        return "GET" if self.carrier == "query" else "POST"

    @cached_property
    def shape(self) -> Shape:
        """What a page must look like: read on every page, so built once."""
        return page_shape(self.cursor_field)

    def first(self, options: Mapping[str, Any], page_size: int) -> PageRequest:
        """The first page: the caller's options plus `limit` (capped at this list's max).

        The options are repeated on every later page, as the SDK does.
        """
        fields = {"limit": min(page_size, self.max_page_size), **options}
        if self.carrier == "query":
            return PageRequest(self.method, fields)
        return PageRequest(self.method, {}, fields)

    def following(self, request: PageRequest, cursor: str) -> PageRequest:
        """The page after `request`, which answered `cursor`."""
        if self.carrier == "query":
            return replace(request, query={**request.query, self.cursor_field: cursor})
        return replace(request, body={**(request.body or {}), self.cursor_field: cursor})

    def cursor(self, body: Mapping[str, Any]) -> str | None:
        """The next page's cursor in an answer `shape` accepted; None on the last page."""
        cursor: str | None = body.get(self.cursor_field) or None
        return cursor


QUERY_CURSOR = Paging(carrier="query", cursor_field="next_page", max_page_size=MAX_PAGE_SIZE)
# `POST /v2/contracts/list`: "Max number of contracts to return per page. Range: 1-20."
BODY_CURSOR = Paging(carrier="body", cursor_field="cursor", max_page_size=20)
