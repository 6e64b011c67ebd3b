"""Cursor pagination over pre-serialised items, assembled into Metronome's list envelope.

Cursors are keyset cursors: `next_page` carries the sort key of the last item served, so an
invoice added or voided between two pages neither repeats nor skips the items around it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import orjson

from sandbox.metronome.errors import BadRequest
from sandbox.metronome.wire import decode_cursor, encode_cursor

Item = TypeVar("Item")
SortKey = tuple[str, ...]


@dataclass(frozen=True)
class PageRequest:
    limit: int
    cursor: str | None = None
    descending: bool = False


@dataclass(frozen=True)
class Page:
    items: list[bytes]
    next_page: str | None

    def to_json(self, cursor_field: str = "next_page") -> bytes:
        """`{"data": [...], "next_page": cursor-or-null}` without re-serialising items
        (`/v2/contracts/list` names its cursor field `cursor`)."""
        return b"".join(
            (
                b'{"data":[',
                b",".join(self.items),
                b'],"',
                cursor_field.encode(),
                b'":',
                orjson.dumps(self.next_page),
                b"}",
            )
        )


def single(item: bytes) -> bytes:
    """The `{"data": {...}}` envelope of one object."""
    return b'{"data":' + item + b"}"


def keyset_page(
    items: Sequence[Item],
    request: PageRequest,
    *,
    key: Callable[[Item], SortKey],
    render: Callable[[Item], bytes],
    keep: Callable[[Item], bool] | None = None,
) -> Page:
    """The page of `items` (sorted ascending by `key`) after the request's cursor."""
    ordered = _remaining(items, request, key)
    chosen: list[Item] = []
    for item in ordered:
        if keep is None or keep(item):
            if len(chosen) == request.limit:
                return Page([render(i) for i in chosen], encode_cursor(*key(chosen[-1])))
            chosen.append(item)
    return Page([render(i) for i in chosen], None)


def _remaining(
    items: Sequence[Item], request: PageRequest, key: Callable[[Item], SortKey]
) -> Sequence[Item]:
    if request.cursor is None:
        return items[::-1] if request.descending else items
    if not items:
        return items
    after = decode_cursor(request.cursor, parts=len(key(items[0])))
    if after is None:
        raise BadRequest("the cursor is not one this API gave")
    after_key = tuple(after)
    if request.descending:
        return items[: bisect.bisect_left(items, after_key, key=key)][::-1]
    return items[bisect.bisect_right(items, after_key, key=key) :]
