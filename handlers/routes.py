"""Which handler an event meets: the commands, the buttons and the flows, in one table that
every front reads (``bot/app.py`` turns it into python-telegram-bot handlers; the in-memory
channel in ``tests/`` dispatches through :func:`handler_for`).

The order is the order updates meet the handlers: the first button whose codec matches the
pressed data wins. What no route takes falls to the fallbacks at the end: a message is the
answer to the current question (``handlers.router``), an unknown command gets the command
list, a button that matches nothing is stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from core import report_buttons as rb
from core import review_buttons as rv
from core.callbacks import Codec
from core.command_names import COMMAND, ESCAPES, canonical, command_of, has_slash
from core.schedule_buttons import CANCEL_PLAN, REPORT_PLAN, RESUME_DRAFT, START_EXPORT
from handlers import chase as chase_desk
from handlers import (
    district,
    export,
    invite,
    members,
    mine,
    org,
    org_card,
    org_new,
    pickers,
    plan,
    registry_import,
    report,
    review,
    review_queue,
    router,
    start,
    status,
)
from handlers import settings as settings_panel
from handlers.common import Handler, Turn
from handlers.menus import MENU_OPEN
from handlers.port import Incoming
from services.members import is_invite_token, is_link_code


@dataclass(frozen=True)
class Command:
    """``/name`` runs ``handler`` (the words after it are the event's ``args``)."""

    name: str
    handler: Handler


@dataclass(frozen=True)
class Press:
    """A pressed button whose data ``codec`` matches runs ``handler``."""

    codec: Codec[Any]
    handler: Handler


Route = Command | Press


def _presses(pairs: list[tuple[Handler, Codec[Any]]]) -> tuple[Press, ...]:
    return tuple(Press(codec, handler) for handler, codec in pairs)


async def run_command(turn: Turn, name: str, args: tuple[str, ...] = ()) -> None:
    """Run command ``name`` on ``turn`` as if ``/name args`` had been typed: the turn's event
    becomes that command (so its handler reads its arguments, and answers a pressed help
    button as it answers the typed command, with a new message rather than an edit)."""
    turn.incoming = replace(
        turn.incoming, kind="command", command=name, args=args, pressed=None, card=None
    )
    await COMMANDS[name](turn)


async def press_command(turn: Turn) -> None:
    """A help-card button (``cmd:<name>``, channels without a command menu): its command."""
    pressed = turn.button(COMMAND)
    if pressed is not None:
        await run_command(turn, pressed.name)


ROUTES: tuple[Route, ...] = (
    # 1. Commands everybody has.
    Command("start", start.start),
    Command("help", start.help_command),
    Command("cancel", router.cancel),
    Press(COMMAND, press_command),  # the help card's buttons where there is no menu
    Press(MENU_OPEN, start.open_home),  # the home's buttons (handlers/menus.py)
    # 2. Reporting an activity (handlers/report/, report.mmd; buttons: core/report_buttons.py).
    Command("report", report.start_report),
    Press(rb.MENU, report.start_report),
    Press(rb.ORG, report.choose_org),
    Press(rb.RESUME, report.resume_draft),
    Press(rb.RESTART, report.restart_draft),
    Press(rb.DATE, report.pick_date),
    Press(rb.ROLE, report.pick_role),
    Press(rb.HEADCOUNT, report.confirm_headcount),
    Press(rb.EVIDENCE_DONE, report.finish_evidence),
    Press(rb.EVIDENCE_CLEAR, report.clear_evidence),
    Press(rb.SUBMIT, report.submit_report),
    Press(rb.EDIT, report.ask_field_to_fix),
    Press(rb.FIX, report.fix_field),
    Press(rb.CARD, report.show_card),
    Press(rb.AMENDED, report.finish_amend),
    Press(rb.CANCEL, report.ask_cancel),
    Press(rb.DISCARD, report.discard_draft),
    Press(rb.KEEP, report.keep_draft),
    # 3. The association's reports (handlers/mine.py).
    Command("mine", mine.list_reports),
    Press(mine.MINE_PAGE, mine.list_reports),
    Press(mine.MINE_OPEN, mine.open_report),
    Press(mine.MINE_EDIT, mine.edit_report),
    Press(mine.MINE_WITHDRAW, mine.ask_withdraw),
    Press(mine.MINE_WITHDRAW_YES, mine.withdraw_report),
    Press(mine.MINE_RESUBMIT, mine.resubmit_report),
    # 4. Registry and roles. /org (handlers/org.py, org_new.py, org_card.py, org.mmd) and
    # /district (handlers/district.py, district.mmd); a spreadsheet sent outside any flow is a
    # registry import (SPREADSHEET below).
    Command("org", org.open_registry),
    Press(org.ORG_OPEN, org.open_org),
    Press(org_card.ORG_FILL, org.fill_missing),
    Press(org_card.ORG_EDIT, org.pick_field),
    Press(org.ORG_FIELD, org.choose_field),
    Press(org.ORG_CHOICE, org.pick_choice),
    Press(org.ORG_SKIP, org.skip_field),
    Press(pickers.ORG_NEW, org_new.ask_new_kind),
    Press(org_new.ORG_KIND, org_new.ask_new_name),
    Command("district", district.open_district),
    Press(district.DST_OPEN, district.open_district_pressed),
    Press(district.DST_SET, district.ask_figure),
    # /invite and /invites (handlers/invite.py, invite.mmd).
    Command("invite", invite.start_invite),
    Press(invite.INV_ORG, invite.choose_org),
    Press(invite.INV_ROLE, invite.choose_role),
    Press(invite.INV_USES, invite.choose_uses),
    Press(invite.INV_MAKE, invite.make_invite),
    Command("invites", invite.list_invites),
    Press(invite.INV_REVOKE, invite.revoke),
    # /members (handlers/members.py, members.mmd).
    Command("members", members.start_members),
    Press(members.MEM_ORG, members.choose_org),
    Press(members.MEM_RM, members.ask_remove),
    Press(members.MEM_RMYES, members.remove_member),
    # /status (handlers/status.py).
    Command("status", status.show_status),
    Press(status.STS_OPEN, status.open_status),
    # /chase 催报 (handlers/chase.py, chase.mmd; codecs in core/chase_buttons.py).
    Command("chase", chase_desk.show_chase),
    *_presses(chase_desk.BUTTONS),
    # Review (审核, handlers/review.py, review.mmd; buttons: core/review_buttons.py): 通过 / 退回
    # on cards and in /review (review_queue.py: pages, 本页全部通过 → the photos → 确认全部通过),
    # the reason (flow "review"), 去修改 / 重新提交.
    Command("review", review_queue.show_queue),
    *_presses(review_queue.BUTTONS),
    Press(rv.APPROVE, review.approve_pressed),
    Press(rv.APPROVE_QUEUED, review.approve_pressed),
    Press(rv.RETURN, review.ask_reason),
    Press(rv.RETURN_QUEUED, review.ask_reason),
    Press(rv.AMEND, review.amend_returned),
    Press(rv.RESUBMIT, review.resubmit_returned),
    # 可能重复 at 提交 (handlers/report/card.py): 仍然提交 submits past the check, 查看那条.
    Press(rv.DUPLICATE_SUBMIT, report.submit_report),
    Press(rv.DUPLICATE_VIEW, review.view_duplicate),
    # 5. Exports (annexes 1-1, 1-2, 1-3); 导出 on a deadline reminder or the city summary opens
    # the same flow.
    Command("export", export.start_export),
    Press(START_EXPORT, export.start_export),
    Press(export.EXP_ANNEX, export.choose_annex),
    Press(export.EXP_YEAR, export.choose_year),
    Press(export.EXP_WHERE, export.choose_where),
    Press(export.EXP_WHERE_CITY, export.choose_where),
    Press(export.EXP_CANCEL, export.cancel_button),
    Press(export.EXP_APPROVED, export.toggle_approved),
    # 6. Scheduler commands: /plan (handlers/plan.py, plan.mmd), /settings (handlers/settings.py,
    # settings.mmd), and the buttons of the scheduler's messages.
    Command("plan", plan.start_plan),
    Press(plan.PLAN_ORG, plan.choose_org),
    Press(plan.PLAN_DATE, plan.pick_date),
    Press(CANCEL_PLAN, plan.cancel_plan),
    Press(RESUME_DRAFT, plan.resume_reminded_draft),
    Press(REPORT_PLAN, plan.report_planned_activity),
    Command("settings", settings_panel.show_settings),
    Press(settings_panel.SETTING_LANG, settings_panel.change_setting),
    # The scheduler's 不再提醒 (core.schedule_buttons.MUTE_NUDGES) is a switch button too.
    Press(settings_panel.SETTING_SWITCH, settings_panel.change_setting),
    Press(settings_panel.SETTING_LINK, settings_panel.link_other_channel),
)


#: Each command's handler, by its name (``core.command_names.NAMES`` has one entry per name).
COMMANDS: dict[str, Handler] = {r.name: r.handler for r in ROUTES if isinstance(r, Command)}


def register_flows() -> None:
    """The flows that receive plain messages, chosen by the state stored for each member
    (``handlers.router``); idempotent."""
    router.register_flow(
        report.FLOW, report.receive_message, report.cancel_report, report.ask_again
    )
    router.register_flow(org_card.FLOW, org.receive_answer, org.cancel_registry, org.ask_again)
    router.register_flow(
        district.DISTRICT_FLOW, district.receive_figure, org.cancel_registry, district.ask_again
    )
    router.register_flow(review.FLOW, review.receive_reason, review.cancel_reason, review.ask_again)
    router.register_flow(export.FLOW, export.receive_message, export.cancel_export)
    router.register_flow(plan.FLOW, plan.receive_message, plan.cancel_plan_flow, plan.ask_again)


async def stale_button(turn: Turn) -> None:
    """A button whose data matches nothing any more (an old keyboard, or a forged one)."""
    turn.notice(turn.t("button_expired"))


# The fallbacks, after every route.
#: A spreadsheet sent outside a command (.xls too, so an old-format registry gets "save it as
#: .xlsx", storage/importer.py): a registry import.
SPREADSHEET = registry_import.receive_spreadsheet
SPREADSHEET_EXTENSIONS = ("xlsx", "xls")


async def route_text(turn: Turn) -> None:
    """Any other message: a command typed by name (``/报送``, ``我的``, ``取消``; the way to
    give one on a channel without a command menu, and on Telegram a Chinese name), else the
    answer to the current question, or a hint (``handlers.router.route_message``).

    A bare name while a question waits is that question's answer (the member may mean the
    word), except the :data:`core.command_names.ESCAPES` (取消), which no question takes as an
    answer; with a slash it is always the command, as on Telegram."""
    typed = command_of(turn.text or "") if turn.incoming.kind == "text" else None
    if typed is not None:
        name, args = typed
        slashed = has_slash(turn.text or "")
        if slashed or name in ESCAPES or not await router.in_flow(turn):
            await run_command(turn, name, args)
            return
    word = (turn.text or "").strip()
    if turn.member is None and (is_invite_token(word) or is_link_code(word)):
        # Somebody new sends the invite's token (or a link code) alone, as DingTalk's users
        # are told to: it is /start with it.
        await run_command(turn, "start", (word,))
        return
    await router.route_message(turn)


#: Any other message: a command by name, the answer to the current question, or a hint.
MESSAGE = route_text
UNKNOWN_COMMAND = start.unknown_command
EDITED = router.edited_message  # 编辑 on an answer already sent
STALE_BUTTON = stale_button
#: An event delivered a second time: ask the current question again, apply nothing.
REPROMPT = router.reprompt


def _is_spreadsheet(name: str | None) -> bool:
    return name is not None and name.lower().endswith(
        tuple(f".{e}" for e in SPREADSHEET_EXTENSIONS)
    )


def handler_for(event: Incoming) -> Handler:
    """The handler ``event`` meets, as the Telegram assembly orders them (for fronts without
    a dispatcher of their own)."""
    if event.kind == "button":
        for route in ROUTES:
            if isinstance(route, Press) and re.match(route.codec.pattern, event.pressed or ""):
                return route.handler
        return STALE_BUTTON
    if event.kind == "command":
        # A front may hand over a command by any of its names (/报送, /Report): one handler.
        name = canonical(event.command or "")
        return COMMANDS[name] if name is not None else UNKNOWN_COMMAND
    if event.kind == "edited":
        return EDITED
    if event.kind == "file" and any(
        f.kind == "document" and _is_spreadsheet(f.name) for f in event.files
    ):
        return SPREADSHEET
    return MESSAGE
