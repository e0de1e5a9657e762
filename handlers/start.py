"""/start (with or without an invite token, or a link code from /settings' 连接钉钉 / 连接
Telegram), /help and unknown commands."""

from __future__ import annotations

from core.enums import Role
from core.rules import format_month_day
from core.texts import Raw, plain, t
from handlers import chase, invite, members, mine, org, status
from handlers.common import Handler, Turn
from handlers.menus import MENU_OPEN, command_rows, commands_for, home_buttons, home_key
from services.members import Outcome, is_link_code, join, link_account
from storage.members import active_memberships, load_actor
from storage.models import Membership


def describe_membership(turn: Turn, membership: Membership) -> str:
    """``科协管理员：XX企业科协`` for one role."""
    return membership_line(turn.lang, membership)


def membership_line(lang: str, membership: Membership) -> Raw:
    """``• 科协管理员：XX企业科协`` for one role in ``lang`` (the chat's /start and the invite
    page inside DingTalk say it alike)."""
    if membership.role == Role.CITY_ADMIN:
        scope = plain(lang, "scope_city")
    elif membership.organisation is not None:
        scope = membership.organisation.name
    elif membership.district is not None:
        scope = membership.district.name
    else:
        scope = ""
    return t(lang, "role_line", role=plain(lang, f"role_{membership.role}"), scope=scope)


async def start(turn: Turn) -> None:
    """/start: redeem an invite if one came with the link, then greet with the member's roles."""
    args = turn.command_args
    if args and is_link_code(args[0]):
        if not await _link(turn, args[0]) and turn.member is None:
            return
    elif args:
        joined = await join(
            turn.session,
            args[0],
            address=turn.address,
            first_name=turn.incoming.sender_name,
            username=turn.incoming.sender_handle,
            language=turn.lang,
        )
        if joined.key is not None:
            turn.reply(turn.t(joined.key))
            if turn.member is None:
                return
        else:
            assert joined.member is not None and joined.membership is not None
            turn.member = joined.member
            await turn.session.refresh(joined.membership, ["organisation", "district"])
            what = describe_membership(turn, joined.membership).removeprefix("• ")
            turn.reply(turn.t("joined_already" if joined.already else "joined", what=Raw(what)))
            turn.actor = await load_actor(turn.session, turn.member)
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    roles = "\n".join(
        describe_membership(turn, m) for m in await active_memberships(turn.session, turn.member.id)
    )
    # The home of the member's roles: a district's or the city's desk opens on its review queue.
    welcome = turn.t(
        home_key(turn.actor, "welcome"), name=turn.incoming.sender_name, roles=Raw(roles or "—")
    )
    turn.reply(welcome, await home_buttons(turn))
    turn.set_menu_later(turn.address, turn.actor, turn.lang)


async def _link(turn: Turn, code: str) -> bool:
    """A link code sent from this account: it joins the membership of whoever made the code (on
    the other messenger), then /start greets them as that member. False when refused."""
    linked = await link_account(
        turn.session, code, address=turn.address, username=turn.incoming.sender_handle
    )
    if linked.key is not None:
        turn.reply(turn.t(linked.key))
        return False
    assert linked.member is not None
    turn.member = linked.member
    turn.actor = await load_actor(turn.session, turn.member)
    key = "link_done" if linked.outcome == Outcome.DONE else "link_already"
    turn.reply(turn.t(key, channel=turn.label(f"channel_{turn.address.channel}")))
    return True


async def help_command(turn: Turn) -> None:
    """/help: exactly the commands the member may use, the main ones of their role first. An
    association member reads how to report (/report, /mine and /cancel explained, the others
    listed below); a district's or the city's desk gets its commands and how reviewing works.
    On a channel without a command menu (DingTalk) the commands come as buttons too, and the
    help says they can be typed by name."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    years = turn.settings.years
    deadline = format_month_day(years.month, years.day, turn.lang)
    key = home_key(turn.actor, "help")
    explained = (
        ("start", "help", "report", "mine", "cancel") if key == "help" else ("start", "help")
    )
    lines = "\n".join(
        turn.t("help_command_line", name=n, description=turn.label(f"cmd_{n}"))
        for n in commands_for(turn.actor)
        if n not in explained
    )
    if key != "help":
        text = turn.t(key, commands=Raw(lines), deadline=deadline)
    else:
        text = turn.t("help", deadline=deadline)
        if lines:
            text = Raw(text + turn.t("help_more", commands=Raw(lines)))
    if turn.caps.has_menu:
        # Telegram: the command menu beside the input already lists them, one tap away; a
        # second list of buttons would only push the help text out of sight.
        turn.reply(text)
        return
    turn.reply(Raw(text + turn.t("help_typed")), command_rows(turn.actor, turn.lang))


#: What each home button runs: the command's own handler, so the button answers as it does.
OPENED: dict[str, Handler] = {
    "mine": mine.list_reports,
    "status": status.show_status,
    "chase": chase.show_chase,
    "org": org.open_registry,
    "members": members.start_members,
    "invite": invite.start_invite,
}


async def open_home(turn: Turn) -> None:
    """A home button (``menu:<command>``) under the welcome or the idle hint: its command."""
    pressed = turn.button(MENU_OPEN)
    if pressed is not None:
        await OPENED[pressed.name](turn)


async def unknown_command(turn: Turn) -> None:
    """A command the bot does not know."""
    turn.reply(turn.t("unknown_command"))
