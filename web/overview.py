"""Console page: the overview — the chat's /status chart, larger, and the figures of the annual
countdown (the deadline reminder's counts, ``scheduler/countdown.py``).

A district admin sees their district (one of theirs, when they oversee several); a city admin
sees the whole city, one line per district, and may pick a district. The chart is a PNG drawn
by ``scheduler/charts.py`` in a worker thread, at most :data:`CHART_SLOTS` at a time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.policy import Action, Target, allowed
from core.texts import plain
from scheduler.charts import ChartData, ChartLabels, chart_data, chart_labels, draw_chart
from scheduler.countdown import city_figures, district_figures, totals
from storage.figures import returned_count
from storage.models import District, utcnow
from storage.registry import all_districts, district_of, districts_by_id
from web.page import Page, Refused, not_found, page
from web.params import number

log = logging.getLogger(__name__)

CHART_SLOTS = 2  # charts drawn at once (matplotlib is CPU-heavy; the machine serves the bot too)
CHART_TIMEOUT = 30.0  # seconds a chart may take before the request gives up on it
_drawing = threading.BoundedSemaphore(CHART_SLOTS)


def _today(p: Page) -> date:
    return utcnow().astimezone(p.settings.tz).date()


async def _chosen_district(p: Page) -> District | None:
    """The district asked for (``?district=``), the visitor's own when they have one, or None for
    the city (city admins only). Outside the visitor's scope: 404."""
    raw = p.request.query_params.get("district", "")
    if not raw:
        own = p.districts
        if own is None:
            return None
        if not own:
            raise not_found()
        raw = str(own[0])
    wanted = number(raw)
    if wanted is None:
        raise not_found()
    district = await district_of(p.db, wanted)
    if district is None or not allowed(
        p.actor, Action.VIEW_STATUS, Target(district_id=district.id)
    ):
        raise not_found()
    return district


async def _pickable(p: Page) -> list[District]:
    """The districts the visitor may pick from (every one for a city admin)."""
    if p.districts is None:
        return await all_districts(p.db, limit=100)
    return await districts_by_id(p.db, p.districts)


@dataclass(frozen=True)
class Bar:
    """One line of the page's chart: its label, the counts and their share of the longest bar
    (0–100, the SVG rectangles' widths)."""

    label: str
    on_time: int
    late: int = 0
    scale: int = 1

    @property
    def total(self) -> int:
        """Both counts together."""
        return self.on_time + self.late

    @property
    def on_time_width(self) -> float:
        """The on-time part's width in percent of the chart's."""
        return round(100 * self.on_time / self.scale, 2)

    @property
    def late_width(self) -> float:
        """The late part's width in percent of the chart's."""
        return round(100 * self.late / self.scale, 2)


def chart_bars(data: ChartData, labels: ChartLabels) -> tuple[list[Bar], list[Bar]]:
    """The chart drawn in HTML (legible at any width, in the page's own colours): one bar per
    month of the statistical year, and the named bars (associations or districts)."""
    order = [(data.first_month - 1 + i) % 12 for i in range(12)]
    month_scale = max([data.on_time[i] + data.late[i] for i in order] + [1])
    months = [Bar(labels.month_names[i], data.on_time[i], data.late[i], month_scale) for i in order]
    named_scale = max([count for _, count in data.bars] + [1])
    named = [Bar(name, count, 0, named_scale) for name, count in data.bars]
    return months, named


async def overview(request: Request) -> Response:
    """The overview page: countdown figures and the chart of one district or the city."""
    async with page(request) as p:
        district = await _chosen_district(p)
        today = _today(p)
        years = p.settings.years
        year = years.year_of(today)
        deadline = years.deadline(year)
        lines = []
        if district is None:
            lines = await city_figures(p.db, year, years)
            figures = totals(lines)
            where = plain(p.lang, "chart_city")
        else:
            figures = await district_figures(p.db, district.id, year, years)
            where = district.name
        figures["reported"] = figures["orgs"] - figures["silent"]
        choices = await _pickable(p)
        chart = p.href("/overview/chart.png", {"district": district.id if district else None})
        district_id = district.id if district else None
        data = await chart_data(p.db, year, district_id, years)
        labels = chart_labels(p.lang, year, where, city=district is None)
        months, named = chart_bars(data, labels)
        returned = await returned_count(p.db, years.span(year), district_id)
        log.info(
            "console: overview of district %s for member %s", district and district.id, p.member.id
        )
        return p.render(
            "overview.html",
            active="overview",
            where=where,
            year=year,
            deadline=deadline,
            days=(deadline - today).days,
            figures=figures,
            lines=[line for line in lines if line.figures["orgs"]],
            chosen=district.id if district else None,
            choices=choices,
            city=p.districts is None,
            chart=chart,
            labels=labels,
            months=months,
            named=named,
            returned=returned,
        )


def _draw_bounded(data: ChartData, labels: ChartLabels) -> bytes:
    # Runs in a worker thread; the slot was taken on the event loop and is given back here, so
    # a request that gave up waiting does not free it while the drawing goes on.
    try:
        return draw_chart(data, labels)
    finally:
        _drawing.release()


async def chart_png(request: Request) -> Response:
    """The chart as a PNG (same scope rules as the page)."""
    async with page(request) as p:
        district = await _chosen_district(p)
        years = p.settings.years
        year = years.year_of(_today(p))
        data = await chart_data(p.db, year, district.id if district else None, years)
        where = district.name if district else plain(p.lang, "chart_city")
        labels = chart_labels(p.lang, year, where, city=district is None)
        member_id = p.member.id
    if not _drawing.acquire(blocking=False):
        raise Refused(503, "web_busy")
    # Submitted at once (not a coroutine that a cancellation could drop before it starts).
    try:
        drawing = asyncio.get_running_loop().run_in_executor(None, _draw_bounded, data, labels)
    except BaseException:
        _drawing.release()
        raise
    try:
        png = await asyncio.wait_for(drawing, CHART_TIMEOUT)
    except Exception as exc:
        log.warning("console chart failed for member %s: %s", member_id, type(exc).__name__)
        raise Refused(503, "web_busy") from None
    return Response(png, media_type="image/png")


routes: list[BaseRoute] = [
    Route("/overview", overview, methods=["GET"], name="overview"),
    Route("/overview/chart.png", chart_png, methods=["GET"], name="overview_chart"),
]
