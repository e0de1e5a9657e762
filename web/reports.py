"""Console pages: the reports table and one report (being built)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.page import page


async def list_reports(request: Request) -> Response:
    """The reports in the visitor's scope."""
    async with page(request) as p:
        return p.render("reports.html", active="reports")


routes: list[BaseRoute] = [Route("/reports", list_reports, methods=["GET"], name="reports")]
