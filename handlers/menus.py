"""What each role is offered: its commands (the Telegram menu and /help), in the order of its
work, and the buttons under the welcome and the idle hint. Everything is derived from the one
policy: a command is offered when :func:`core.policy.may_somewhere` allows its action, so nobody
is offered a command that then refuses them. District and city admins also get the 控制台 (the
console, web/) as their chat's menu button when the console is published (``KEXIE_WEB_URL``)."""

from __future__ import annotations

from dataclasses import dataclass

from core import review_buttons as rv
from core.callbacks import Codec
from core.command_names import COMMAND, CommandPressed
from core.policy import Action, Actor, district_scope, may_open_console, may_somewhere
from core.schedule_buttons import MENU_REPORT, START_EXPORT
from core.texts import plain
from handlers.common import Turn
from handlers.port import AppButton, Buttons
from storage import review

#: Each command and the action it needs somewhere (None: any member's, whatever their roles).
COMMAND_ACTIONS: dict[str, Action | None] = {
    "report": Action.REPORT,
    "mine": Action.REPORT,  # the reports of one's own associations: for their members
    "plan": Action.REPORT,
    "review": Action.REVIEW_QUEUE,
    "status": Action.VIEW_STATUS,
    "chase": Action.CHASE,
    "export": Action.EXPORT,
    "org": Action.MANAGE_REGISTRY,
    "district": Action.DISTRICT_FIGURES,
    "members": Action.MANAGE_MEMBERS,
    "invite": Action.INVITE_REPORTER,
    "invites": Action.INVITE_REPORTER,
    "settings": None,
    "help": None,
    "cancel": None,
}
# An association's member reports first; the district's and the city's desk reviews first.
MEMBER_ORDER = (
    "report", "mine", "plan", "org", "members", "invite", "invites",
    "review", "status", "chase", "export", "district", "settings", "help", "cancel",
)  # fmt: skip
DESK_ORDER = (
    "review", "status", "chase", "export", "org", "district", "members", "invite", "invites",
    "report", "mine", "plan", "settings", "help", "cancel",
)  # fmt: skip
#: Before joining: how to join, nothing that would only say "you are not a member".
STRANGER_COMMANDS = ["start", "help"]


@dataclass(frozen=True)
class Opened:
    """A home button that runs command ``name`` (``handlers.start.open_home``)."""

    name: str


#: 📋 我的报送 (``menu:mine``, on every welcome since the first) and the other home buttons.
MENU_OPEN = Codec("menu:{name:mine|status|chase|org|members|invite}", Opened)
# (label key, callback data) of each command's home button: the same handler as the command.
HOME_BUTTONS: dict[str, tuple[str, str]] = {
    # The reminder's 打开待审核列表 too: the queue sent anew, the home stays where it is.
    "review": ("btn_home_review", rv.QUEUE_PAGE.pack(rv.QueuePage(1, "new"))),
    "status": ("btn_home_status", MENU_OPEN.pack(Opened("status"))),
    "chase": ("btn_home_chase", MENU_OPEN.pack(Opened("chase"))),
    "export": ("btn_home_export", START_EXPORT.pack()),
    "report": ("welcome_buttons_report", MENU_REPORT.pack()),
    "mine": ("welcome_buttons_mine", MENU_OPEN.pack(Opened("mine"))),
    "org": ("btn_home_org", MENU_OPEN.pack(Opened("org"))),
    "members": ("btn_home_members", MENU_OPEN.pack(Opened("members"))),
    "invite": ("btn_home_invite", MENU_OPEN.pack(Opened("invite"))),
}
DESK_HOME = (("review", "status"), ("chase", "export"), ("report", "mine"))
MEMBER_HOME = (("report", "mine"), ("org", "members", "invite"))


def home_kind(actor: Actor) -> str:
    """Whose home the member gets: the district's or city's ``desk``, an association
    ``member``'s, or ``none`` (every role ended)."""
    if may_open_console(actor):
        return "desk"
    return "member" if actor.grants else "none"


def home_key(actor: Actor, key: str) -> str:
    """The catalog key of ``key`` (welcome, idle_hint, help) for the member's home: the plain
    key is the association member's, ``<key>_desk`` and ``<key>_none`` the others'."""
    kind = home_kind(actor)
    return key if kind == "member" else f"{key}_{kind}"


def idle_hint(turn: Turn) -> str:
    """What to do next, said to a message outside any flow, in the words of the member's role."""
    return turn.t(home_key(turn.actor, "idle_hint"))


def offered(actor: Actor, name: str) -> bool:
    """Whether the member is offered command ``name`` (its action is allowed them somewhere)."""
    action = COMMAND_ACTIONS[name]
    return action is None or may_somewhere(actor, action)


def commands_for(actor: Actor) -> list[str]:
    """The command names a member should see, in the order of their work: /start, then the
    district's and city's desk (review first) or the association's (reporting first)."""
    order = DESK_ORDER if may_open_console(actor) else MEMBER_ORDER
    return ["start", *(name for name in order if offered(actor, name))]


#: Buttons per row on the help card (short Chinese labels; DingTalk lays a row out evenly).
COMMANDS_PER_ROW = 3


def command_rows(actor: Actor, lang: str) -> Buttons:
    """The help card's buttons on a channel without a command menu: one ``cmd:<name>`` button
    per command the member is offered (:func:`commands_for`, in the same order), /help itself
    left out."""
    names = [n for n in commands_for(actor) if n != "help"]
    buttons = [(plain(lang, f"btn_cmd_{n}"), COMMAND.pack(CommandPressed(n))) for n in names]
    return [buttons[i : i + COMMANDS_PER_ROW] for i in range(0, len(buttons), COMMANDS_PER_ROW)]


def home_rows(actor: Actor, lang: str, pending: int) -> Buttons:
    """The home buttons of the member's roles, row by row (``pending``: 待审核's count)."""
    layout = DESK_HOME if home_kind(actor) == "desk" else MEMBER_HOME
    rows = []
    for row in layout:
        shown = [name for name in row if offered(actor, name)]
        if shown:
            rows.append(
                [(plain(lang, HOME_BUTTONS[n][0], n=pending), HOME_BUTTONS[n][1]) for n in shown]
            )
    return rows


async def home_buttons(turn: Turn) -> Buttons:
    """The home buttons under the welcome and the idle hint, 待审核 with the live count."""
    pending = 0
    if offered(turn.actor, "review"):
        districts = district_scope(turn.actor)
        if districts is None:
            pending = await review.pending_count(turn.session, None)
        else:
            for district_id in districts:
                pending += await review.pending_count(turn.session, district_id)
    return home_rows(turn.actor, turn.lang, pending)


def console_url(web_url: str | None, actor: Actor) -> str | None:
    """The console's address for a district or city admin; None for everyone else, or when
    the console is not published (no ``KEXIE_WEB_URL``, or not over https: Telegram refuses a
    message or menu carrying such a button, and the card under it would be lost)."""
    if not web_url or not web_url.startswith("https://") or not may_open_console(actor):
        return None
    return f"{web_url.rstrip('/')}/"


def console_buttons(web_url: str | None, actor: Actor, lang: str) -> Buttons | None:
    """The 控制台 button under a card (it opens the console signed in); None when not offered."""
    url = console_url(web_url, actor)
    if url is None:
        return None
    return [[AppButton(plain(lang, "btn_console"), url)]]
