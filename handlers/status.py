"""/status for district admins: registry gaps, associations with no activity this year, late
reports — one short card with counts. Button: ``sts:open:<district>`` (re-checked)."""

from __future__ import annotations

from core.callbacks import id_codec
from core.policy import Action
from core.texts import Raw
from handlers.common import Turn
from handlers.pickers import district_buttons, pressed_district
from storage import review
from storage.models import District
from storage.registry import districts_for_actor
from storage.status import district_status

NAMES_SHOWN = 8  # names listed under each heading; the rest are counted

STS_OPEN = id_codec("sts:open")


async def show_status(turn: Turn) -> None:
    """/status: the card of the administered district (or a picker)."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    districts = await districts_for_actor(turn.session, turn.actor, Action.VIEW_STATUS)
    if not districts:
        turn.reply(turn.t("reg_admins_only"))
        return
    if len(districts) == 1:
        await render_status(turn, districts[0])
        return
    turn.reply(turn.t("district_pick"), district_buttons(districts, STS_OPEN))


async def open_status(turn: Turn) -> None:
    """A district from the picker."""
    pressed = turn.button(STS_OPEN)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.id, Action.VIEW_STATUS)
    if district is None:
        return
    await render_status(turn, district)


async def render_status(turn: Turn, district: District) -> None:
    """Queue the status card of one district for this year."""
    status = await district_status(turn.session, district.id, turn.today.year)
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
    pending = await review.pending_count(turn.session, district.id, status.year)
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
    turn.reply(Raw("\n".join(lines)))
