"""/settings: mute the non-essential reminders, choose 中文 or English, and connect the other
messenger (连接钉钉 / 连接 Telegram: a one-time code for its robot, so one membership is reached
on both).

One panel, buttons only (no conversation state; drawn in ``settings.mmd``). Buttons:
``settings:lang:<zh|en>`` and ``settings:<nudges|summary|delivery|digest>:<on|off>``. Each
member sees only the switches that concern them: nudges reach org admins, the city summary and
the city-wide deliveries reach city admins, and district admins choose 逐条推送 (every report as
it arrives, ``digest:off``, the default) or 每日汇总 (one 09:00 message, ``digest:on``).
Deadline and reporting-window reminders are essential and cannot be muted.
``settings:link:<telegram|dingtalk>`` shows a link code for that channel when it is configured
and the member has no account there (:func:`services.members.link_code`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec
from core.enums import Channel, Role
from core.settings import Settings
from core.texts import Raw
from handlers.common import Turn
from handlers.port import Buttons
from services.members import LINK_MINUTES, link_code
from storage.models import Member

LANGUAGES = ("zh", "en")
SWITCHES = ("nudges", "summary", "delivery", "digest")


@dataclass(frozen=True)
class Language:
    """中文 / English pressed."""

    lang: str


@dataclass(frozen=True)
class Switch:
    """A reminder switched ``on`` or ``off``."""

    switch: str
    value: str


SETTING_LANG = Codec("settings:lang:{lang:" + "|".join(LANGUAGES) + "}", Language)
# The scheduler's 不再提醒 (core.schedule_buttons.MUTE_NUDGES) is one of these.
SETTING_SWITCH = Codec("settings:{switch:" + "|".join(SWITCHES) + "}:{value:on|off}", Switch)


@dataclass(frozen=True)
class LinkTo:
    """连接钉钉 / 连接 Telegram pressed."""

    channel: str


SETTING_LINK = Codec("settings:link:{channel:" + "|".join(c.value for c in Channel) + "}", LinkTo)


def serves(settings: Settings, channel: Channel) -> bool:
    """Whether this installation runs ``channel`` (its credentials are set)."""
    return bool(settings.bot_token) if channel == Channel.TELEGRAM else settings.dingtalk


def linkable(turn: Turn, member: Member) -> list[Channel]:
    """The other channels the member could connect: served here, and no account there yet."""
    return [
        channel
        for channel in Channel
        if channel != turn.address.channel
        and serves(turn.settings, channel)
        and member.account(channel) is None
    ]


def switches_for(turn: Turn) -> list[str]:
    """The switches that mean something for this member's roles."""
    shown = []
    if turn.actor.has(Role.ORG_ADMIN):
        shown.append("nudges")
    if turn.actor.has(Role.DISTRICT_ADMIN):
        shown.append("digest")
    if turn.actor.is_city:
        shown += ["summary", "delivery"]
    return shown


def _is_on(member: Member, switch: str) -> bool:
    if switch == "nudges":
        return not member.mute_nudges
    if switch == "summary":
        return not member.mute_city_summary
    if switch == "digest":
        return member.daily_digest
    return member.city_delivery_opt_in


def _set(member: Member, switch: str, on: bool) -> None:
    if switch == "nudges":
        member.mute_nudges = not on
    elif switch == "summary":
        member.mute_city_summary = not on
    elif switch == "digest":
        member.daily_digest = on
    else:
        member.city_delivery_opt_in = on


def render_panel(turn: Turn, member: Member) -> tuple[Raw, Buttons]:
    """The settings text and its buttons, in the member's (possibly just changed) language."""
    lines = [
        turn.t("settings_title"),
        "",
        turn.t("settings_lang_line", lang=turn.label(f"lang_name_{member.language}")),
    ]
    rows: list[list[tuple[str, str]]] = [
        [(turn.label(f"lang_name_{code}"), SETTING_LANG.pack(Language(code))) for code in LANGUAGES]
    ]
    for switch in switches_for(turn):
        on = _is_on(member, switch)
        state = turn.label("settings_on" if on else "settings_off")
        if switch == "digest":  # a choice between two ways, not a switch
            state = turn.label("settings_digest_daily" if on else "settings_digest_each")
        lines.append(turn.t(f"settings_{switch}_line", state=state))
        target = "off" if on else "on"
        label = turn.label(f"settings_btn_{switch}_{target}")
        rows.append([(label, SETTING_SWITCH.pack(Switch(switch, target)))])
    lines += ["", turn.t("settings_essential")]
    for channel in linkable(turn, member):
        rows.append(
            [(turn.label(f"settings_btn_link_{channel}"), SETTING_LINK.pack(LinkTo(channel)))]
        )
    return Raw("\n".join(lines)), rows


async def show_settings(turn: Turn) -> None:
    """/settings: the panel."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    text, rows = render_panel(turn, turn.member)
    turn.reply(text, rows)


async def change_setting(turn: Turn) -> None:
    """A switch or a language button: store it, redraw the panel."""
    member = turn.member
    if member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return
    language = SETTING_LANG.parse(turn.pressed)
    switch = SETTING_SWITCH.parse(turn.pressed)
    if language is not None:
        value = language.lang
        if value != member.language:  # the language already chosen: nothing to redo
            member.language = value
            turn.lang = value
            turn.set_menu_later(turn.address, turn.actor, value)
    elif switch is not None:
        # A nudge's 不再提醒 button reaches members whatever their roles are now.
        _set(member, switch.switch, switch.value == "on")
    else:
        turn.notice(turn.t("button_expired"))
        return
    text, rows = render_panel(turn, member)
    turn.edit(text, rows)
    turn.notice(turn.t("settings_saved"))


async def link_other_channel(turn: Turn) -> None:
    """连接钉钉 / 连接 Telegram: a one-time code to send to the robot there."""
    member = turn.member
    pressed = SETTING_LINK.parse(turn.pressed)
    if member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return
    if pressed is None or Channel(pressed.channel) not in linkable(turn, member):
        turn.notice(turn.t("button_expired"))
        return
    made = await link_code(turn.session, member, Channel(pressed.channel))
    if made is None:  # an account there since the panel was drawn
        turn.notice(turn.t("button_expired"))
        return
    turn.reply(turn.t(f"link_code_for_{pressed.channel}", code=made.code, minutes=LINK_MINUTES))
