"""/chase (催报) for district and city admins: the district's associations by days without a
report, each with a 提醒 button; 全部提醒 after a confirmation. Buttons (core/chase_buttons.py)
are re-checked against the policy on every press; the nudges are outbox rows (scheduler/chase.py),
so quiet hours hold them until the morning and 24 hours must pass between two."""

from __future__ import annotations

from core.callbacks import Codec, Id
from core.chase_buttons import CHASE_ALL, CHASE_ALL_GO, CHASE_ALL_NO, CHASE_NUDGE, CHASE_OPEN
from core.policy import Action
from core.rules import format_date, format_datetime
from core.texts import Raw
from handlers.common import Buttons, Handler, Turn
from handlers.pickers import district_buttons, pressed_district, pressed_org
from scheduler.chase import nudge, quiet_orgs
from storage.chase import chase_lines
from storage.models import District
from storage.registry import districts_for_actor

LINES_SHOWN = 30  # associations listed (and buttons), the longest silent first


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


async def render_chase(turn: Turn, district: District) -> None:
    """The associations, never-reported first, with one 提醒 button each and 全部提醒."""
    lines = (await chase_lines(turn.session, district.id, turn.today))[:LINES_SHOWN]
    if not lines:
        turn.reply(turn.t("chase_empty", district=district.name))
        return
    text = [str(turn.t("chase_head", district=district.name))]
    buttons: list[list[tuple[str, str]]] = []
    for n, line in enumerate(lines, start=1):
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
        label = turn.label("chase_btn_nudge", n=n, name=line.org.name[:40])
        buttons.append([(label, CHASE_NUDGE.pack(id=line.org.id))])
    days = turn.settings.quiet_days
    buttons.append([(turn.label("chase_btn_all", days=days), CHASE_ALL.pack(id=district.id))])
    turn.reply(Raw("\n".join(text)), buttons)


async def nudge_org(turn: Turn) -> None:
    """提醒: nudge one association's reporters and org admins (refused within 24 hours)."""
    pressed = turn.button(CHASE_NUDGE)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.id, Action.CHASE)
    if org is None:
        return
    done = await nudge(turn.session, org, org.district_id, turn.now)
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
    district = await pressed_district(turn, pressed.id, Action.CHASE)
    if district is None:
        return
    days = turn.settings.quiet_days
    orgs, people = await quiet_orgs(turn.session, district.id, turn.now, turn.today, days)
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
    district = await pressed_district(turn, pressed.id, Action.CHASE)
    if district is None:
        return
    days = turn.settings.quiet_days
    orgs, _ = await quiet_orgs(turn.session, district.id, turn.now, turn.today, days)
    reached, people = 0, 0
    for org in orgs:
        done = await nudge(turn.session, org, district.id, turn.now)
        if done.queued:
            reached += 1
            people += done.queued
    turn.edit(turn.t("chase_all_done", orgs=reached, people=people))


async def cancel_all(turn: Turn) -> None:
    """取消: nothing is sent."""
    pressed = turn.button(CHASE_ALL_NO)
    if pressed is None:
        return
    turn.edit(turn.t("chase_all_cancelled"))


#: Every button of /chase with its handler, registered in this order by ``bot/app.py``.
BUTTONS: list[tuple[Handler, Codec[Id]]] = [
    (open_chase, CHASE_OPEN),
    (nudge_org, CHASE_NUDGE),
    (ask_all, CHASE_ALL),
    (nudge_all, CHASE_ALL_GO),
    (cancel_all, CHASE_ALL_NO),
]
