"""/status for district admins: registry gaps, associations with no activity this year, late
reports — one short card with counts, then a chart of the same district (``scheduler/charts.py``:
this year's reports per month, on time / late, and the ten most active associations). A city
admin picks a district, or 全市 for the city's chart (one bar per district) on its own. Drawn in
``status.mmd``. Button: ``sts:open:<district>`` (re-checked), ``sts:open:0`` for 全市 (no
district has id 0); under the card, 控制台 opens the console (web/) when it is published."""

from __future__ import annotations

import asyncio
import logging

from core.callbacks import Id, id_codec
from core.policy import Action
from core.texts import Raw
from handlers.common import Turn
from handlers.menus import console_buttons
from handlers.pickers import district_buttons, pressed_district, refuse
from scheduler.charts import chart_data, chart_labels, draw_chart
from storage import review
from storage.models import District
from storage.registry import districts_for_actor
from storage.status import district_status

log = logging.getLogger(__name__)

NAMES_SHOWN = 8  # names listed under each heading; the rest are counted

STS_OPEN = id_codec("sts:open")
CITY = 0  # the 全市 button's id: ids start at 1, and one codec keeps the bot's router as it is


async def show_status(turn: Turn) -> None:
    """/status: the card of the administered district, or a picker (with 全市 for the city)."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    districts = await districts_for_actor(turn.session, turn.actor, Action.VIEW_STATUS)
    if not districts:
        turn.reply(turn.t("reg_admins_only"))
        return
    if len(districts) == 1 and not turn.actor.is_city:
        await render_status(turn, districts[0])
        return
    buttons = district_buttons(districts, STS_OPEN)
    if turn.actor.is_city:  # 全市 first: the city's chart is what a city admin looks at most
        buttons = [[(turn.label("btn_status_city"), STS_OPEN.pack(Id(CITY)))], *buttons]
    turn.reply(turn.t("district_pick"), buttons)


async def open_status(turn: Turn) -> None:
    """A district from the picker, or 全市 (a city admin's alone)."""
    pressed = turn.button(STS_OPEN)
    if pressed is None:
        return
    if pressed.id == CITY:
        if not turn.actor.is_city:
            refuse(turn)
            return
        await send_chart(turn, None)
        return
    district = await pressed_district(turn, pressed.id, Action.VIEW_STATUS)
    if district is None:
        return
    await render_status(turn, district)


async def render_status(turn: Turn, district: District) -> None:
    """Queue the status card of one district for this year."""
    years = turn.settings.years
    status = await district_status(turn.session, district.id, turn.this_year, years)
    lines: list[str] = [
        turn.t(
            "status_card",
            district=district.name,
            year=status.year,
            orgs=status.organisations,
            enterprises=status.enterprises,
            zones=status.zones,
            incomplete=len(status.incomplete),
            silent=len(status.silent),
            reports=status.reports,
            late=status.late,
        )
    ]
    pending = await review.pending_count(turn.session, district.id, years.span(status.year))
    if pending:  # reports the district has not reviewed yet (issue 12)
        lines.append(turn.t("review_status_pending", n=pending))
    if status.incomplete:
        lines += ["", turn.t("status_incomplete_head")]
        lines += [
            turn.t("status_incomplete_line", name=org.name, n=n)
            for org, n in status.incomplete[:NAMES_SHOWN]
        ]
        if len(status.incomplete) > NAMES_SHOWN:
            lines.append(turn.t("status_more", n=len(status.incomplete) - NAMES_SHOWN))
    if status.silent:
        lines += ["", turn.t("status_silent_head")]
        lines += [turn.t("status_name_line", name=org.name) for org in status.silent[:NAMES_SHOWN]]
        if len(status.silent) > NAMES_SHOWN:
            lines.append(turn.t("status_more", n=len(status.silent) - NAMES_SHOWN))
    text = "\n".join(lines)
    turn.reply(Raw(text), console_buttons(turn.settings.web_url, turn.actor, turn.lang))
    await send_chart(turn, district)


async def send_chart(turn: Turn, district: District | None) -> None:
    """Queue the chart of the district (the city's for ``None``) as a photo after the card,
    captioned with its totals (drawn off the event loop: it takes a while)."""
    year = turn.this_year
    district_id = None if district is None else district.id
    data = await chart_data(turn.session, year, district_id, turn.settings.years)
    where = turn.label("chart_city") if district is None else district.name
    labels = chart_labels(turn.lang, year, where, city=district is None)
    caption = turn.t(
        "status_chart_caption",
        where=where,
        year=year,
        reports=sum(data.on_time) + sum(data.late),
        late=sum(data.late),
    )
    try:
        png = await asyncio.to_thread(draw_chart, data, labels)
    except Exception as exc:  # the card already says it all; a chart is a bonus
        log.warning(
            "status chart failed for member %s: %s", turn.actor.member_id, type(exc).__name__
        )
        return
    turn.send_photo(png, caption, filename="status.png")
