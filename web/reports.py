"""Console page: the reports table (``GET /reports``), the submitted reports in the visitor's
scope, newest first, 50 per page, with its filters kept in the URL (a plain GET form)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.review_rules import ReviewState
from core.rules import ROLES
from storage.console_reports import (
    TEXT_MAX,
    ReportFilters,
    association_in_scope,
    associations_in_scope,
    district_in_scope,
    districts_in_scope,
    report_page,
)
from web.page import not_found, page
from web.params import number

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")

# 主办 / 协办 / 承办 as stored (core.rules.ROLES) → the catalog label in the visitor's language.
ROLE_KEYS: dict[str, str] = dict(
    zip(
        ROLES,
        ("web_reports_role_host", "web_reports_role_co", "web_reports_role_undertake"),
        strict=True,
    )
)
COLUMNS = ("date", "association", "name", "role", "headcount", "state", "late", "evidence")
STATE_KEYS: dict[str, str] = {
    ReviewState.PENDING: "web_reports_state_pending",
    ReviewState.APPROVED: "web_reports_state_approved",
    ReviewState.RETURNED: "web_reports_state_returned",
}


def parse_month(value: str | None) -> tuple[int, int] | None:
    """``2021-11`` → (2021, 11); anything else (``2021-13``, ``11``) → None (ignored)."""
    found = _MONTH.fullmatch(value or "")
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    return (year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def parse_filters(query: Mapping[str, str]) -> tuple[ReportFilters, int]:
    """The filters and page a URL asks for. A value that cannot be one (a month "2021-13", an
    unknown state, page=-1) is ignored, never an error; whether an id is in scope is the
    page's question."""
    state = query.get("state") or ""
    late = {"1": True, "0": False}.get(query.get("late") or "")
    filters = ReportFilters(
        district_id=number(query.get("district")),
        org_id=number(query.get("org")),
        month=parse_month(query.get("month")),
        state=ReviewState(state) if state in set(ReviewState) else None,
        late=late,
        text=(query.get("q") or "").strip()[:TEXT_MAX],
    )
    return filters, number(query.get("page")) or 1


def filter_query(filters: ReportFilters) -> dict[str, Any]:
    """The URL query of ``filters`` (for the pager's links and the form's values)."""
    return {
        "district": filters.district_id,
        "org": filters.org_id,
        "month": f"{filters.month[0]:04d}-{filters.month[1]:02d}" if filters.month else None,
        "state": filters.state.value if filters.state else None,
        "late": None if filters.late is None else ("1" if filters.late else "0"),
        "q": filters.text or None,
    }


async def list_reports(request: Request) -> Response:
    """The reports in the visitor's scope, filtered as the URL says."""
    filters, wanted = parse_filters(request.query_params)
    async with page(request) as p:
        scope = p.districts
        # An id outside the visitor's scope answers as a missing one: ids cannot be probed.
        if filters.district_id is not None and not await district_in_scope(
            p.db, scope, filters.district_id
        ):
            raise not_found()
        if filters.org_id is not None and not await association_in_scope(
            p.db, scope, filters.org_id
        ):
            raise not_found()
        result = await report_page(p.db, scope, filters, wanted)
        districts = await districts_in_scope(p.db, scope)
        associations = await associations_in_scope(p.db, scope, filters.district_id)
        query = filter_query(filters)
        groups: dict[str, list[tuple[int, str]]] = {}
        for org_id, name, district in associations:
            groups.setdefault(district, []).append((org_id, name))
        return p.render(
            "reports.html",
            active="reports",
            result=result,
            filters=filters,
            query=query,
            filtered=any(v is not None for v in query.values()),
            active_filters=sum(v is not None for v in query.values()),
            districts=districts,
            # A district admin of one district has nothing to choose there.
            show_district=len(districts) > 1,
            association_groups=groups,
            city_wide=scope is None or len(districts) > 1,
            states=list(STATE_KEYS.items()),
            # Looked up once per page, not once per row and cell.
            col={c: p.t(f"web_reports_col_{c}") for c in COLUMNS},
            role_labels={role: p.t(key) for role, key in ROLE_KEYS.items()},
            state_labels={state: p.t(key) for state, key in STATE_KEYS.items()},
            on_time=p.t("web_reports_on_time"),
            prev_href=p.href("/reports", {**query, "page": result.page - 1})
            if result.page > 1
            else None,
            next_href=p.href("/reports", {**query, "page": result.page + 1})
            if result.page < result.pages
            else None,
            text_max=TEXT_MAX,
        )


routes: list[BaseRoute] = [Route("/reports", list_reports, methods=["GET"], name="reports")]
