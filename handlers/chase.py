"""/chase (催报) for district and city admins: the district's associations by days without a
report, a phone screen to a page, 提醒 <n> under the quiet ones (never reported, or not for
``KEXIE_QUIET_DAYS``); 全部提醒 after a confirmation. Buttons (core/chase_buttons.py)
are re-checked against the policy on every press by the use cases (services/chase.py), which queue
the nudges as outbox rows, so quiet hours hold them until the morning and 24 hours must pass
between two."""

from __future__ import annotations

import math
from typing import Any

from core.callbacks import Codec
from core.chase_buttons import (
    CHASE_ALL,
    CHASE_ALL_GO,
    CHASE_ALL_NO,
    CHASE_NUDGE,
    CHASE_OPEN,
    CHASE_PAGE,
    ChasePage,
)
from core.policy import Action
from core.rules import format_date, format_datetime
from core.texts import Raw
from handlers.common import Handler, Turn
from handlers.pickers import district_buttons, pressed_district, refuse
from handlers.port import Buttons
from services import chase
from storage.chase import chase_lines
from storage.models import District
from storage.registry import districts_for_actor

PAGE_SIZE = 8  # associations a page, the longest silent first: one phone screen
NUDGES_A_ROW = 4  # 提醒 <n> buttons: the number says which line, the name is in the line


async def show_chase(turn: Turn) -> None:
    """/chase: the list of the administered district (or a district picker)."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    districts = await districts_for_actor(turn.session, turn.actor, Action.CHASE)
    if not districts:
        turn.reply(turn.t("reg_admins_only"))
        return
    if len(districts) == 1:
        await render_chase(turn, districts[0])
        return
    turn.reply(turn.t("district_pick"), district_buttons(districts, CHASE_OPEN))


async def open_chase(turn: Turn) -> None:
    """A district from the picker."""
    pressed = turn.button(CHASE_OPEN)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.id, Action.CHASE)
    if district is not None:
        await render_chase(turn, district)


async def render_chase(turn: Turn, district: District, page: int = 1) -> None:
    """One page of the associations, never-reported first, with 提醒 <n> under the quiet ones,
    上一页 / 下一页 and 全部提醒."""
    lines = await chase_lines(turn.session, district.id, turn.today)
    if not lines:
        turn.reply(turn.t("chase_empty", district=district.name))
        return
    days = turn.settings.quiet_days
    pages = max(1, math.ceil(len(lines) / PAGE_SIZE))
    page = min(max(1, page), pages)
    first = (page - 1) * PAGE_SIZE
    text = [str(turn.t("chase_head", district=district.name, page=page, pages=pages, days=days))]
    nudges: list[tuple[str, str]] = []
    for n, line in enumerate(lines[first : first + PAGE_SIZE], start=first + 1):
        if line.last_report is None:
            text.append(turn.t("chase_line_never", n=n, name=line.org.name, complete=line.complete))
        else:
            text.append(
                turn.t(
                    "chase_line",
                    n=n,
                    name=line.org.name,
                    last=format_date(line.last_report, turn.lang),
                    days=line.silent_days,
                    complete=line.complete,
                )
            )
        # An association that reported lately is not chased: no button invites it.
        if line.silent_days is None or line.silent_days >= days:
            nudges.append((turn.label("chase_btn_nudge", n=n), CHASE_NUDGE.pack(id=line.org.id)))
    buttons = [nudges[i : i + NUDGES_A_ROW] for i in range(0, len(nudges), NUDGES_A_ROW)]
    nav = []
    if page > 1:
        nav.append((turn.label("btn_prev"), CHASE_PAGE.pack(ChasePage(district.id, page - 1))))
    if page < pages:
        nav.append((turn.label("btn_next"), CHASE_PAGE.pack(ChasePage(district.id, page + 1))))
    if nav:
        buttons.append(nav)
    buttons.append([(turn.label("chase_btn_all", days=days), CHASE_ALL.pack(id=district.id))])
    body = Raw("\n".join(text))
    if turn.is_button and CHASE_PAGE.parse(turn.pressed) is not None:
        turn.edit(body, buttons)  # turning the page: the same message
    else:
        turn.reply(body, buttons)


async def turn_page(turn: Turn) -> None:
    """上一页 / 下一页 of the list."""
    pressed = turn.button(CHASE_PAGE)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.district, Action.CHASE)
    if district is not None:
        await render_chase(turn, district, pressed.page)


async def nudge_org(turn: Turn) -> None:
    """提醒: nudge one association's reporters and org admins (refused within 24 hours)."""
    pressed = turn.button(CHASE_NUDGE)
    if pressed is None:
        return
    done = await chase.nudge(turn.session, turn.actor, pressed.id, now=turn.now)
    if done.org is None:
        refuse(turn)
        return
    org = done.org
    if done.previous is not None:
        when = format_datetime(done.previous, turn.settings.tz, turn.lang)
        turn.notice(turn.label("chase_too_soon", org=org.name, when=when), alert=True)
    elif done.queued == 0:
        turn.notice(turn.label("chase_nobody", org=org.name), alert=True)
    else:
        turn.notice(turn.label("chase_sent", org=org.name, people=done.queued), alert=True)


async def ask_all(turn: Turn) -> None:
    """全部提醒: how many associations and people it would reach, and a confirmation."""
    pressed = turn.button(CHASE_ALL)
    if pressed is None:
        return
    days = turn.settings.quiet_days
    found = await chase.quiet_orgs(
        turn.session, turn.actor, pressed.id, now=turn.now, today=turn.today, quiet_days=days
    )
    if found is None:
        refuse(turn)
        return
    district, orgs, people = found
    if not orgs:
        turn.reply(turn.t("chase_all_none", days=days))
        return
    buttons: Buttons = [
        [
            (turn.label("chase_btn_confirm"), CHASE_ALL_GO.pack(id=district.id)),
            (turn.label("chase_btn_cancel"), CHASE_ALL_NO.pack(id=district.id)),
        ]
    ]
    turn.reply(turn.t("chase_all_confirm", orgs=len(orgs), days=days, people=people), buttons)


async def nudge_all(turn: Turn) -> None:
    """确定发送: nudge every association still quiet now (the list is taken again)."""
    pressed = turn.button(CHASE_ALL_GO)
    if pressed is None:
        return
    done = await chase.nudge_all(
        turn.session,
        turn.actor,
        pressed.id,
        now=turn.now,
        today=turn.today,
        quiet_days=turn.settings.quiet_days,
    )
    if done.refused:
        refuse(turn)
        return
    turn.edit(turn.t("chase_all_done", orgs=done.orgs, people=done.people))


async def cancel_all(turn: Turn) -> None:
    """取消: nothing is sent."""
    pressed = turn.button(CHASE_ALL_NO)
    if pressed is None:
        return
    turn.edit(turn.t("chase_all_cancelled"))


#: Every button of /chase with its handler, registered in this order by ``bot/app.py``.
BUTTONS: list[tuple[Handler, Codec[Any]]] = [
    (open_chase, CHASE_OPEN),
    (turn_page, CHASE_PAGE),
    (nudge_org, CHASE_NUDGE),
    (ask_all, CHASE_ALL),
    (nudge_all, CHASE_ALL_GO),
    (cancel_all, CHASE_ALL_NO),
]
