"""Querying a view: time window, structured filters, order, bounded pages.

- Time: `date_start`/`date_end` select whole periods of `date_step` like the metrics (a date
  selects the period it falls in, both ends inclusive); either may be left out for an open
  end, both out for no time filter. A `point_in_time` view keeps rows whose as-of column falls
  in the window; a `period` view keeps rows whose span overlaps it (an open end never ends).
- Filters: see `filters.py`; values are read as the column's type (numbers exactly, ISO
  date-times as UTC).
- Order: `order_by` (default: the view's sort) then `id`, `order_dir` asc|desc, nulls last
  either way; object columns cannot be sorted.
- Pages: `limit` (default 100, at most 1000), `offset`; `has_more` when rows remain.
Sorted results are cached per store version, so paging through a large view sorts it once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from sandbox.fincome.errors import Invalid, error_item
from sandbox.fincome.fields import DateTime, Integer, Money
from sandbox.fincome.filters import Coerce, Filter, parse_filters
from sandbox.fincome.periods import Grain, midnight, period_of
from sandbox.fincome.store import FincomeStore
from sandbox.fincome.views import View

Record = dict[str, Any]
Window = tuple[datetime | None, datetime | None]  # [start, end), None for open
_CACHE_SIZE = 8
_TYPED: dict[str, TypeAdapter[Any]] = {
    "number": TypeAdapter(Money),
    "integer": TypeAdapter(Integer),
    "datetime": TypeAdapter(DateTime),
    "string": TypeAdapter(str),
}


@dataclass(frozen=True)
class ViewQuery:
    filters: str | None
    order_by: str | None
    order_dir: Literal["asc", "desc"]
    limit: int
    offset: int
    window: Window


def time_window(start: date | None, end: date | None, grain: Grain) -> Window:
    return (
        period_of(start, grain).start_instant if start else None,
        midnight(period_of(end, grain).end + timedelta(days=1)) if end else None,
    )


class ViewReader:
    def __init__(self, store: FincomeStore) -> None:
        self.store = store
        self._sorted: OrderedDict[tuple[Any, ...], list[Record]] = OrderedDict()

    def query(self, view: View, query: ViewQuery) -> dict[str, Any]:
        rows = self._selected(view, query)
        page = rows[query.offset : query.offset + query.limit]
        return {
            "slug": view.slug,
            "columns": [column.describe() for column in view.columns],
            "rows": [
                {column.name: row.get(column.name) for column in view.columns} for row in page
            ],
            "page": {
                "limit": query.limit,
                "offset": query.offset,
                "returned": len(page),
                "has_more": query.offset + len(page) < len(rows),
            },
            "time": view.time.describe(),
        }

    def _selected(self, view: View, query: ViewQuery) -> list[Record]:
        order_by = _order_column(view, query.order_by)
        filters = parse_filters(query.filters, {c.name for c in view.columns}, _coercer(view))
        key = (
            view.slug,
            self.store.version,
            query.filters,
            query.window,
            order_by,
            query.order_dir,
        )
        if key in self._sorted:
            self._sorted.move_to_end(key)
            return self._sorted[key]
        rows = [row for row in view.rows(self.store) if _kept(view, row, filters, query.window)]
        rows = _ordered(rows, order_by, descending=query.order_dir == "desc")
        self._sorted[key] = rows
        if len(self._sorted) > _CACHE_SIZE:
            self._sorted.popitem(last=False)
        return rows


def _order_column(view: View, order_by: str | None) -> str:
    name = order_by or view.default_order
    column = view.column(name)
    if column is None or column.type == "object":
        sortable = ", ".join(c.name for c in view.columns if c.type != "object")
        msg = f"Cannot sort {view.slug} by {name!r}; one of: {sortable}"
        raise Invalid([error_item(["query", "order_by"], msg, "unknown_column", order_by)])
    return name


def _coercer(view: View) -> Coerce:
    """Filter values read as their column's type, with the body fields' strictness."""

    def coerce(field: str, value: Any) -> Any:
        column = view.column(field)
        adapter = _TYPED.get(column.type) if column else None
        if value is None or column is None or adapter is None:
            return value
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            raise ValueError(f"{field} is a {column.type} column: {reason}") from None

    return coerce


def _kept(view: View, row: Record, filters: list[Filter], window: Window) -> bool:
    return _in_window(view, row, window) and all(f.keeps(row.get(f.field)) for f in filters)


def _in_window(view: View, row: Record, window: Window) -> bool:
    start, end = window
    if start is None and end is None:
        return True
    time = view.time
    if time.kind == "point_in_time":
        at = row.get(time.as_of_column or "")
        return at is not None and (start is None or at >= start) and (end is None or at < end)
    begins, ends = row.get(time.period_start_column or ""), row.get(time.period_end_column or "")
    if begins is None:
        return False
    return (end is None or begins < end) and (start is None or ends is None or ends > start)


def _ordered(rows: list[Record], column: str, *, descending: bool) -> list[Record]:
    by_id = sorted(rows, key=lambda row: row["id"])
    valued = [row for row in by_id if row.get(column) is not None]
    valued.sort(key=lambda row: row[column], reverse=descending)
    return valued + [row for row in by_id if row.get(column) is None]
