"""Commands typed by name (issue 22: DingTalk has no command menu): the table and its reader
(core/command_names.py), pure."""

from __future__ import annotations

import pytest

from core.command_names import COMMAND, NAMES, CommandPressed, command_of, has_slash
from handlers.routes import COMMANDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/report", ("report", ())),
        ("report", ("report", ())),
        ("REPORT", ("report", ())),
        ("/Report 2021", ("report", ("2021",))),
        ("报送", ("report", ())),
        ("报告", ("report", ())),
        ("填报", ("report", ())),
        ("/报送", ("report", ())),
        ("／报送", ("report", ())),  # the full-width slash of a Chinese input method
        ("报送 2021", ("report", ("2021",))),
        ("报送\u30002021", ("report", ("2021",))),  # the full-width space
        ("  我的  ", ("mine", ())),
        ("审核", ("review", ())),
        ("催报", ("chase", ())),
        ("导出", ("export", ())),
        ("统计", ("status", ())),
        ("进度", ("status", ())),
        ("计划", ("plan", ())),
        ("设置", ("settings", ())),
        ("邀请", ("invite", ())),
        ("成员", ("members", ())),
        ("科协", ("org", ())),
        ("区县", ("district", ())),
        ("区（市）县", ("district", ())),
        ("帮助", ("help", ())),
        ("取消", ("cancel", ())),
        ("Cancel", ("cancel", ())),
        ("start abc123", ("start", ("abc123",))),
        ("开始 abc123", ("start", ("abc123",))),
    ],
)
def test_a_command_by_any_of_its_names(text: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert command_of(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "/",
        "／",
        "今天",  # an answer
        "50人",
        "报送了一个活动",  # a name must be the whole first word: no prefixes
        "我的报送情况",
        "reporting",
        "repor",  # no fuzzy matching
        "/backup",  # a CLI command, not a chat one
        "/xyz",
        "科技讲座 报送",  # only the first word counts
        "2021 报送",
        "//report",
    ],
)
def test_anything_else_is_no_command(text: str) -> None:
    assert command_of(text) is None


def test_every_chat_command_has_chinese_names_and_no_name_is_shared() -> None:
    # One entry per route of handlers/routes.py, so handler_for finds every name.
    assert set(NAMES) == set(COMMANDS)
    assert all(NAMES[c] for c in NAMES)
    every = [n.casefold() for c, names in NAMES.items() for n in (c, *names)]
    assert len(every) == len(set(every))


def test_the_slash_half_and_full_width() -> None:
    assert has_slash("/报送") and has_slash(" ／报送") and not has_slash("报送")


def test_the_help_button_codec() -> None:
    data = COMMAND.pack(CommandPressed("mine"))
    assert data == "cmd:mine"
    assert COMMAND.parse(data) == CommandPressed("mine")
    assert COMMAND.parse("cmd:backup") is None  # a forged name is an expired button
    with pytest.raises(ValueError, match="not one of"):
        COMMAND.pack(CommandPressed("backup"))
