"""/start (with or without an invite token), /help and unknown commands."""

from __future__ import annotations

from core.enums import Role
from core.texts import Raw
from handlers.common import Turn
from handlers.menus import BASE_COMMANDS, commands_for, set_member_menu
from handlers.router import menu_buttons
from storage.members import active_memberships, load_actor, redeem_invite
from storage.models import Membership


def describe_membership(turn: Turn, membership: Membership) -> str:
    """``科协管理员：XX企业科协`` for one role."""
    if membership.role == Role.CITY_ADMIN:
        scope = turn.label("scope_city")
    elif membership.organisation is not None:
        scope = membership.organisation.name
    elif membership.district is not None:
        scope = membership.district.name
    else:
        scope = ""
    return turn.t("role_line", role=turn.label(f"role_{membership.role}"), scope=scope)


async def start(turn: Turn) -> None:
    """/start: redeem an invite if one came with the link, then greet with the member's roles."""
    args = turn.context.args or []
    if args:
        result = await redeem_invite(
            turn.session,
            args[0],
            telegram_id=turn.user.id,
            first_name=turn.user.first_name,
            username=turn.user.username,
            language=turn.lang,
        )
        if result.error:
            turn.reply(turn.t(result.error))
            if turn.member is None:
                return
        else:
            assert result.member is not None and result.membership is not None
            turn.member = result.member
            await turn.session.refresh(result.membership, ["organisation", "district"])
            what = describe_membership(turn, result.membership).removeprefix("• ")
            turn.reply(turn.t("joined_already" if result.already else "joined", what=Raw(what)))
            turn.actor = await load_actor(turn.session, turn.member)
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    roles = "\n".join(
        describe_membership(turn, m) for m in await active_memberships(turn.session, turn.member.id)
    )
    turn.reply(
        turn.t("welcome", name=turn.user.first_name, roles=Raw(roles or "—")), menu_buttons(turn)
    )
    bot, chat_id, actor, lang = turn.context.bot, turn.chat_id, turn.actor, turn.lang
    web_url = turn.settings.web_url
    turn.later(lambda: set_member_menu(bot, chat_id, actor, lang, web_url=web_url))


async def help_command(turn: Turn) -> None:
    """/help: what the bot does and how to answer, then exactly the member's other commands."""
    years = turn.settings.years
    text = turn.t("help", deadline=f"{years.month}月{years.day}日")
    more = [n for n in commands_for(turn.actor) if n not in ("start", *BASE_COMMANDS)]
    if more:
        lines = "\n".join(
            turn.t("help_command_line", name=n, description=turn.label(f"cmd_{n}")) for n in more
        )
        text = Raw(text + turn.t("help_more", commands=Raw(lines)))
    turn.reply(text)


async def unknown_command(turn: Turn) -> None:
    """A command the bot does not know."""
    turn.reply(turn.t("unknown_command"))
