"""Console pages: the association registry (annex 1-1 / 1-2 fields, completeness, reporting),
one association, and 提醒, the same nudge as the chat's /chase with the same once-a-day rule."""

from __future__ import annotations

import logging
from datetime import date

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.policy import Action, allowed, org_target
from services import chase
from storage.chase import CHASE_GAP, chase_recipients, latest_nudge_size
from storage.console_orgs import OrgDetail, org_detail, org_page
from storage.models import utcnow
from storage.registry import all_districts, districts_by_id
from web.page import Page, not_found, page
from web.params import number, path_id

log = logging.getLogger(__name__)

MAX_PAGE = 1_000_000  # a page number past any registry (the listing clamps to its last page)


async def list_associations(request: Request) -> Response:
    """The registry of the associations in the visitor's scope, 50 a page."""
    async with page(request) as p:
        district_id = number(request.query_params.get("district"))
        wanted = number(request.query_params.get("page"), high=MAX_PAGE) or 1
        districts = (
            await all_districts(p.db)
            if p.districts is None
            else await districts_by_id(p.db, p.districts)
        )
        if district_id is not None and district_id not in {d.id for d in districts}:
            district_id = None  # a district outside the scope filters nothing in
        listing = await org_page(
            p.db,
            p.districts,
            district_id=district_id,
            page=wanted,
            today=_today(p),
            years=p.settings.years,
            quiet_days=p.settings.quiet_days,
        )
        query = {"district": district_id}
        return p.render(
            "associations.html",
            active="associations",
            listing=listing,
            districts=districts,
            district_id=district_id,
            quiet_days=p.settings.quiet_days,
            prev_href=p.href("/associations", {**query, "page": listing.page - 1})
            if listing.page > 1
            else None,
            next_href=p.href("/associations", {**query, "page": listing.page + 1})
            if listing.page < listing.pages
            else None,
        )


async def show_association(request: Request) -> Response:
    """One association: its annex fields, what is missing, members, latest reports, 提醒."""
    async with page(request) as p:
        detail = await _detail(p, request.path_params["org_id"])
        org = detail.figures.org
        note = await _note(p, detail, request.query_params.get("note"))
        missing = "、".join(str(p.t(f"reg_f_{spec.key}")) for spec in detail.figures.missing)
        may_chase = allowed(p.actor, Action.CHASE, org_target(org.id, org.district_id))
        return p.render(
            "association.html",
            active="associations",
            detail=detail,
            org=org,
            note=note,
            missing=missing,
            may_chase=may_chase,
            quiet_days=p.settings.quiet_days,
        )


async def _note(p: Page, detail: OrgDetail, kind: str | None) -> Markup | None:
    """The outcome of the 提醒 just made (``?note=``), as the database records it: the URL only
    says which sentence to look for, so a link cannot make the page claim a nudge or a count."""
    org = detail.figures.org
    last = detail.last_chase
    recent = last is not None and utcnow() - last < CHASE_GAP
    if kind == "sent" and recent:
        people = await latest_nudge_size(p.db, org.id)
        return p.t("chase_sent", org=org.name, people=people) if people else None
    if kind == "too_soon" and recent and last is not None:
        return p.t("chase_too_soon", org=org.name, when=p.moment(last))
    if kind == "nobody":
        recipients = await chase_recipients(p.db, org.id)
        if not any(m.address() is not None for m in recipients):
            return p.t("chase_nobody", org=org.name)
    return None


async def chase_association(request: Request) -> Response:
    """提醒: queue the /chase nudge to the association's reporters and org admins (refused
    within 24 hours of the previous one, :func:`services.chase.nudge`), then back to its page
    with the outcome."""
    async with page(request, post=True) as p:
        done = await chase.nudge(
            p.db, p.actor, path_id(request.path_params["org_id"]), now=utcnow()
        )
        if done.org is None:
            raise not_found()
        org = done.org
        # The count is read back from the outbox, not the URL.
        query: dict[str, object] = {"note": done.outcome.value}
        log.info("console: chase org %s by member %s, queued %d", org.id, p.member.id, done.queued)
        target = p.href(f"/associations/{org.id}", query)
    if done.queued:
        p.console.wake()  # committed: the sender may send it now (quiet hours still hold it)
    return RedirectResponse(target, status_code=303)


async def _detail(p: Page, org_id: int) -> OrgDetail:
    detail = await org_detail(
        p.db,
        path_id(org_id),
        p.districts,
        today=_today(p),
        years=p.settings.years,
        quiet_days=p.settings.quiet_days,
    )
    if detail is None:
        raise not_found()
    org = detail.figures.org
    if not allowed(p.actor, Action.MANAGE_REGISTRY, org_target(org.id, org.district_id)):
        raise not_found()
    return detail


def _today(p: Page) -> date:
    """Today in the installation's time zone."""
    return utcnow().astimezone(p.settings.tz).date()


routes: list[BaseRoute] = [
    Route("/associations", list_associations, methods=["GET"], name="associations"),
    Route("/associations/{org_id:int}", show_association, methods=["GET"], name="association"),
    Route(
        "/associations/{org_id:int}/chase",
        chase_association,
        methods=["POST"],
        name="association_chase",
    ),
]
