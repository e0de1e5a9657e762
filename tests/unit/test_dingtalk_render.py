"""channels.dingtalk.render: the catalog's HTML as DingTalk markdown (user text can never change
the formatting), titles, and StandardCard data with its round trip through buttons_of."""

from __future__ import annotations

import json
import re

import pytest

from channels.dingtalk.render import (
    MAX_MARKDOWN,
    MAX_TITLE,
    buttons_of,
    card_data,
    escape,
    markdown_of,
    title_of,
)
from core.locales import zh
from core.texts import t
from handlers.port import AppButton, Button

HOSTILE = ["*x*", "**x**", "_x_", "[a](b)", "# h", "1. x", "> q", "- y", "`c`", "<b>x</b>", "a|b"]


def unescaped(markdown: str) -> str:
    """What a CommonMark reader shows for escaped plain text (a backslash before punctuation)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown.replace("  \n", "\n"))


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_in_the_catalog_stays_text(name: str) -> None:
    markdown = markdown_of(t("zh", "invite_pick_role", org=name))
    bold, rest = markdown.split("  \n")
    assert bold.startswith("**") and bold.endswith("**")
    inner = bold[2:-2]
    # Nothing in the name is markup any more: every special character is escaped...
    assert not re.search(r"(?<!\\)[*_\[\]`<>|]", inner), inner
    # ...and the reader sees the name exactly as it was written.
    assert unescaped(inner) == name
    assert rest == "邀请什么身份？"


@pytest.mark.parametrize("line", ["# h", "1. x", "> q", "- y", "+ z", "===", "   # indented"])
def test_user_text_on_its_own_line_starts_no_block(line: str) -> None:
    markdown = markdown_of(
        t("zh", "org_card_title", name="会", kind=line, district="区", filled=1, total=2)
    )
    second = markdown.split("  \n")[1]
    assert not re.match(r"(#|>|[-+=]|\d+\.\s| {4})", second), second
    assert unescaped(second).startswith(line.strip())


def test_escape_of_a_line_in_the_middle_leaves_start_rules_alone() -> None:
    assert escape("1. x # y", line_start=False) == "1. x # y"
    assert escape("1. x # y") == "1\\. x # y"
    assert escape("2021年11月3日 1.5万人") == "2021年11月3日 1.5万人"


def test_formatting_tags() -> None:
    html = '<b>粗</b> <i>斜</i> <code>a*b</code> <a href="https://x.cn/p?a=1">链接</a> <u>下</u>'
    assert markdown_of(html) == "**粗** *斜* `a*b` [链接](https://x.cn/p?a=1) 下"


def test_newlines_are_hard_breaks_and_blank_lines_paragraphs() -> None:
    assert markdown_of("一\n二\n\n三") == "一  \n二\n\n三"


def test_spaces_stay_outside_the_markers_and_empty_tags_vanish() -> None:
    assert markdown_of("<b> 名 </b>说<i></i>") == "**名** 说"


def test_entities_are_unescaped_then_escaped_for_markdown() -> None:
    assert markdown_of("a &lt;b&gt; &amp; c") == "a \\<b\\> & c"


def test_a_real_catalog_text_renders_without_stray_tags() -> None:
    html = t("zh", "chase_head", district="高新区", page=1, pages=3, days=14)
    markdown = markdown_of(html)
    assert "<" not in markdown and ">" not in markdown
    assert markdown.startswith("**高新区 · 催报**（第 1/3 页）  \n")
    assert "“提醒 *序号*”" in markdown


def test_every_catalog_text_renders_without_tags() -> None:
    for key, template in zh.TEXTS.items():
        markdown = markdown_of(template)
        assert not re.search(r"</?(b|i|code|a|u|s)>", markdown), key


def test_title_is_the_first_line_as_plain_text() -> None:
    assert title_of("<b>第1步/共7步 · 日期</b>\n请选择") == "第1步/共7步 · 日期"
    long = title_of("\n<b>" + "很长" * 20 + "</b>")
    assert len(long) == MAX_TITLE and long.endswith("…")
    assert title_of("a &lt;b&gt;") == "a <b>"


ROWS: list[list[Button]] = [
    [("提交", "rp:submit:12"), ("修改", "rp:edit:12")],
    [("取消", "rp:cancel:12")],
    [AppButton("打开控制台", "https://kexie.example/console")],
]


def test_card_data_shape() -> None:
    card = card_data("<b>审核</b>\n高新区 <b>科普周</b>", ROWS)
    assert card["config"] == {"autoLayout": True, "enableForward": False}
    assert card["header"] == {"title": {"type": "text", "text": "审核"}}
    markdown, *actions = card["contents"]
    assert markdown == {"type": "markdown", "text": "高新区 **科普周**", "id": "m0"}
    assert [block["id"] for block in actions] == ["a0", "a1", "a2"]
    assert actions[0] == {
        "type": "action",
        "id": "a0",
        "actions": [
            {
                "type": "button",
                "label": {"type": "text", "text": "提交"},
                "actionType": "request",
                "status": "normal",
                "id": "rp:submit:12",
            },
            {
                "type": "button",
                "label": {"type": "text", "text": "修改"},
                "actionType": "request",
                "status": "normal",
                "id": "rp:edit:12",
            },
        ],
    }
    assert actions[2]["actions"] == [
        {
            "type": "button",
            "label": {"type": "text", "text": "打开控制台"},
            "actionType": "openLink",
            "url": {"all": "https://kexie.example/console"},
            "id": "link0",
        }
    ]
    json.dumps(card)  # it is JSON as it is


def test_card_round_trip() -> None:
    card = json.loads(json.dumps(card_data("<b>审核</b>\n正文", ROWS)))
    assert buttons_of(card) == ROWS
    assert buttons_of(card_data("只有一行", None)) == []


def test_a_long_first_line_stays_in_the_markdown() -> None:
    first = "第一行很长" * 6
    card = card_data(f"{first}\n第二行", None)
    assert card["header"]["title"]["text"] == first[: MAX_TITLE - 1] + "…"
    assert card["contents"][0]["text"] == f"{first}  \n第二行"


def test_button_data_over_64_bytes_is_refused() -> None:
    card_data("x", [[("ok", "a" * 64)]])
    with pytest.raises(ValueError):
        card_data("x", [[("no", "审" * 22)]])  # 66 bytes in UTF-8


def test_escaping_never_takes_a_text_over_dingtalk_s_limit() -> None:
    # 4 900 characters that each need a backslash: 9 800 after escaping.
    text = markdown_of("*" * 4900)
    assert len(text) <= MAX_MARKDOWN and text.endswith("…")
    assert not text[:-1].endswith("\\")  # no escape cut in half
    block = card_data("标题\n" + "_" * 4900, None)["contents"][0]["text"]
    assert len(block) <= MAX_MARKDOWN
