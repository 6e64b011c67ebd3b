"""The read API routes: `/metrics`, `/metrics/{slug}`, `/metrics/{slug}/dimensions`, `/views`,
`/views/{slug}`, `/views/{slug}/query`.

FastAPI validates the query parameters (so `limit=2000`, `date_step=week` or a bad date answer
FastAPI's own 422); the emulator's checks answer the same shape (`errors.py`). A date range
whose `date_end` falls in a period before `date_start`'s answers 422 `date_range`. Unknown
metric or view slugs answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from sandbox.fincome import dimensions
from sandbox.fincome.errors import Invalid, NotFound, error_item
from sandbox.fincome.filters import parse_filters
from sandbox.fincome.metrics import FAMILIES, METRICS, Metric, MetricQuery, metric_result
from sandbox.fincome.periods import Grain, one_year_before, period_of, periods_between
from sandbox.fincome.store import FincomeStore
from sandbox.fincome.view_query import ViewQuery, ViewReader, time_window
from sandbox.fincome.views import VIEWS, View
from sandbox.fincome.wire import dumps


@dataclass
class Company:
    """The emulated company: its id, and its freshness date (today unless pinned)."""

    company_id: int
    pinned_freshness: date | None = None

    def freshness_date(self) -> date:
        return self.pinned_freshness or datetime.now(UTC).date()


def read_router(store: FincomeStore, company: Company) -> APIRouter:
    router = APIRouter()
    views = ViewReader(store)

    @router.get("/metrics")
    async def list_metrics() -> Response:
        return _json([
            {"id": family, "label": label, "metrics": [m.describe(store) for m in metrics]}
            for family, label, metrics in FAMILIES
        ])  # fmt: skip

    @router.get("/metrics/{slug}")
    async def get_metric(
        slug: str,
        *,
        date_start: date | None = None,
        date_end: date | None = None,
        date_step: Grain = "month",
        dimension: str | None = None,
        filters: str | None = None,
    ) -> Response:
        metric = _metric(slug)
        freshness = company.freshness_date()
        end = date_end or freshness
        start = date_start or one_year_before(end)
        _check_range(start, end, date_step)
        if dimension is not None:
            dimensions.check_breakdown(store, dimension)
        fields = {dimension.id for dimension in dimensions.available(store)}
        clauses = parse_filters(filters, fields, _as_text)
        periods = periods_between(start, end, date_step)
        query = MetricQuery(periods, date_step, freshness, dimension, clauses)
        return _json(metric_result(store, metric, query, company.company_id))

    @router.get("/metrics/{slug}/dimensions")
    async def metric_dimensions(slug: str) -> Response:
        _metric(slug)
        return _json([dimension.describe() for dimension in dimensions.available(store)])

    @router.get("/views")
    async def list_views() -> Response:
        # the seed: "Columns are returned by the describe endpoint, not here."
        return _json([{**_describe(view), "columns": []} for view in VIEWS.values()])

    @router.get("/views/{slug}")
    async def describe_view(slug: str) -> Response:
        return _json(_describe(_view(slug)))

    @router.get("/views/{slug}/query")
    async def query_view(
        slug: str,
        *,
        filters: str | None = None,
        order_by: str | None = None,
        order_dir: Literal["asc", "desc"] = "asc",
        limit: int | None = Query(None, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        date_step: Grain = "month",
        date_start: date | None = None,
        date_end: date | None = None,
    ) -> Response:
        view = _view(slug)
        if date_start and date_end:
            _check_range(date_start, date_end, date_step)
        window = time_window(date_start, date_end, date_step)
        query = ViewQuery(filters, order_by, order_dir, limit or 100, offset, window)
        return _json(views.query(view, query))

    return router


def _metric(slug: str) -> Metric:
    metric = METRICS.get(slug)
    if metric is None:
        raise NotFound(f"Metric {slug!r} not found; one of: {', '.join(METRICS)}")
    return metric


def _view(slug: str) -> View:
    view = VIEWS.get(slug)
    if view is None:
        raise NotFound(f"View {slug!r} not found; one of: {', '.join(VIEWS)}")
    return view


def _describe(view: View) -> dict[str, Any]:
    columns = [column.describe() for column in view.columns]
    return {
        "slug": view.slug,
        "label": view.label,
        "columns": columns,
        "time": view.time.describe(),
    }


def _check_range(start: date, end: date, grain: Grain) -> None:
    if period_of(end, grain).start < period_of(start, grain).start:
        msg = "date_end must not fall in a period before date_start's"
        raise Invalid([error_item(["query", "date_end"], msg, "date_range", end.isoformat())])


def _as_text(field: str, value: Any) -> str | None:
    """Dimension values are text: numbers and flags are matched by their JSON text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    raise ValueError(f"{field} takes text values")


def _json(payload: Any) -> Response:
    return Response(dumps(payload), media_type="application/json")
