"""What a usable Metronome answer looks like, and whether a listing still makes progress.

Every list endpoint answers `{"data": [...], <cursor field>: "<cursor>" | null}` (the field
is `next_page` or `cursor`, see `paging.py`) and every single-object endpoint
`{"data": {...}}` (metronome-python types `data` as a required list on its pages). A body
of another shape is a broken answer, never "no records": the client retries it and then
fails the request.

A listing that makes no progress is stopped instead of followed forever: a cursor seen
before, a non-empty page of only ids already listed, or several empty pages in a row that
still point to a next page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

MAX_EMPTY_PAGES_WITH_CURSOR = 3


class Shape(NamedTuple):
    """What an endpoint promises (`expected`, for messages) and how to spot a body that
    breaks it (`problem`: what is wrong, or None)."""

    expected: str
    problem: Callable[[Any], str | None]


def _any_json(body: Any) -> str | None:
    return None


def _object_problem(body: Any) -> str | None:
    data = body.get("data") if isinstance(body, dict) else None
    return None if isinstance(data, dict) else _data_described(body)


def page_shape(cursor_field: str) -> Shape:
    """A page whose next cursor is `cursor_field` (a string, or null/absent at the end)."""

    def problem(body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return _data_described(body)
        cursor = body.get(cursor_field)
        if cursor is not None and not isinstance(cursor, str):
            return f"a {cursor_field} of type {type(cursor).__name__}"
        return None

    return Shape("a page {'data': [...]}", problem)


def _data_described(body: Any) -> str:
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__}, not an object"
    if "data" not in body:
        return "no data"
    data = body["data"]
    return "data: null" if data is None else f"data of type {type(data).__name__}"


ANY_JSON = Shape("JSON", _any_json)
OBJECT = Shape("{'data': {...}}", _object_problem)


@dataclass
class ListingProgress:
    """What one listing has seen so far, to tell a server that loops from one that pages.

    `cursor_field` names the cursor in messages (`next_page`, `cursor`)."""

    cursor_field: str = "next_page"
    cursors: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    empty_pages_with_cursor: int = 0

    def stalled(self, page: list[Any], cursor: str | None) -> str | None:
        """Why the listing makes no progress with this page, or None; records the page."""
        ids = [item.get("id") for item in page if isinstance(item, dict)]
        known = [item_id for item_id in ids if isinstance(item_id, str)]
        if page and len(known) == len(page) and self.ids.issuperset(known):
            return f"a page of {len(page)} records all listed before"
        self.ids.update(known)
        if not cursor:
            return None
        if cursor in self.cursors:
            return f"{self.cursor_field} {cursor!r} was already followed"
        self.cursors.add(cursor)
        self.empty_pages_with_cursor = 0 if page else self.empty_pages_with_cursor + 1
        if self.empty_pages_with_cursor >= MAX_EMPTY_PAGES_WITH_CURSOR:
            pages = self.empty_pages_with_cursor
            return f"{pages} empty pages in a row, each with a {self.cursor_field}"
        return None
