"""The commands as people type them on a channel without a command menu (DingTalk): with or
without the slash, by their Latin name or by a Chinese one (``/report``, ``report``, ``报送``,
``／报送 2021``), and the ``cmd:<name>`` button of the help card that runs one.

Only the first word counts and only an exact name (Latin case-insensitive): ``报送活动`` is a
name, ``报送了一个活动`` is not. Whether a bare name is a command or the answer to a pending
question is the router's decision (``handlers.routes.route_text``): it knows the flow, this
module only reads the words. No IO.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec

#: Each command (its Telegram name, as in ``handlers.routes.ROUTES``) and the Chinese names it
#: is also typed by: the word on the issue's list first, then the labels of its home buttons
#: (📋 我的报送, 📊 报送情况 …), which people type back when they cannot press.
NAMES: dict[str, tuple[str, ...]] = {
    "start": ("开始", "主菜单"),
    "help": ("帮助", "使用帮助"),
    "report": ("报送", "报告", "填报", "报送活动"),
    "mine": ("我的", "我的报送"),
    "plan": ("计划",),
    "settings": ("设置",),
    "review": ("审核", "待审核"),
    "chase": ("催报",),
    "status": ("统计", "进度", "报送情况"),
    "export": ("导出",),
    "invite": ("邀请",),
    "invites": ("邀请管理",),
    "members": ("成员",),
    "org": ("科协", "登记信息"),
    "district": ("区县", "区（市）县"),
    "cancel": ("取消",),
}

#: Commands whose bare name counts even while a question waits for its answer: 取消 is how
#: people leave a question that has no buttons, and no question of any flow takes it as an
#: answer (their word lists: 继续/重新开始, 确认/重新填写, 完成; free text: a name of one word
#: "取消" is a mistake, not an activity).
ESCAPES: frozenset[str] = frozenset({"cancel"})

SLASHES = ("/", "／")  # the full-width one is what a Chinese input method types

_BY_NAME: dict[str, str] = {
    name: command
    for command, chinese in NAMES.items()
    for name in (command, *(c.casefold() for c in chinese))
}


def canonical(name: str) -> str | None:
    """The command ``name`` stands for (``报送`` → ``report``, ``Report`` → ``report``), or
    None when it names none. ``name`` is one word, without the slash."""
    return _BY_NAME.get(name.casefold())


def has_slash(text: str) -> bool:
    """Whether ``text`` starts with a slash (half or full width), as a command typed on purpose."""
    return text.lstrip().startswith(SLASHES)


def command_of(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``(command, args)`` when the first word of ``text`` is a command's name, with or without
    a slash (``"／报送 2021"`` → ``("report", ("2021",))``); None for anything else (a plain
    answer, an unknown ``/word``, an empty text)."""
    words = text.split()  # any whitespace, the full-width space (U+3000) too
    if not words:
        return None
    first = words[0]
    if first.startswith(SLASHES):
        first = first[1:]
    command = canonical(first) if first else None
    return None if command is None else (command, tuple(words[1:]))


@dataclass(frozen=True)
class CommandPressed:
    """A help-card button that runs command ``name`` as if it were typed."""

    name: str


#: ``cmd:<name>``: only the names above parse, so a forged ``cmd:backup`` is an expired button.
COMMAND = Codec("cmd:{name:" + "|".join(NAMES) + "}", CommandPressed)
