"""End-to-end: forged, repeated and orphaned button presses never end in an exception.

Every callback pattern the application registers is pressed with ids that do not fit a 64-bit
integer (they must read as an expired button) and with the largest ids that do (they must read
as "not found"); the same settings button pressed twice changes nothing; a button whose message
is gone gets its reply as a new message.
"""

from __future__ import annotations

import logging
import re
import re._constants as _c
import re._parser as sre_parse  # the stdlib's own regex parser, to build matching data
from typing import Any

import pytest
from telegram.ext import CallbackQueryHandler

from channels.telegram.front import MAX_CALLBACK_BYTES
from tests.harness import Kexie
from tests.standin import FakeUser
from tests.steps import step_label

TOO_BIG = "9" * 21  # > 2**63
BIGGEST = "9" * 18  # < 2**63: a well-formed id that names nothing


def _is_digits(items: Any) -> bool:
    return (
        len(items) == 1
        and items[0][0] is _c.IN
        and items[0][1] == [(_c.CATEGORY, _c.CATEGORY_DIGIT)]
    )


def _samples(pattern: str, run: str) -> list[str]:
    """Strings the pattern matches: one per variable-length digit run, that run set to ``run``
    and every other one to ``1``."""
    parsed = sre_parse.parse(pattern)
    runs = 0

    def count(items: Any) -> None:
        nonlocal runs
        for op, av in items:
            if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
                lo, hi, sub = av
                if _is_digits(list(sub)) and hi != lo:
                    runs += 1
                else:
                    count(sub)
            elif op is _c.SUBPATTERN:
                count(av[3])
            elif op is _c.BRANCH:
                for alt in av[1]:
                    count(alt)

    def gen(items: Any, target: int, seen: list[int], branch: int) -> str:
        out = []
        for op, av in items:
            if op is _c.LITERAL:
                out.append(chr(av))
            elif op is _c.IN:
                kind, value = av[0]
                if kind is _c.LITERAL:
                    out.append(chr(value))
                elif kind is _c.RANGE:
                    out.append(chr(value[0]))
                elif value is _c.CATEGORY_DIGIT:
                    out.append("1")
                else:
                    out.append("a")
            elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
                lo, hi, sub = av
                if _is_digits(list(sub)) and hi != lo:
                    out.append(run if seen[0] == target else "1")
                    seen[0] += 1
                else:
                    out.append(gen(sub, target, seen, branch) * max(lo, 1))
            elif op is _c.SUBPATTERN:
                out.append(gen(av[3], target, seen, branch))
            elif op is _c.BRANCH:
                alts = av[1]
                out.append(gen(alts[min(branch, len(alts) - 1)], target, seen, branch))
        return "".join(out)

    count(parsed)
    samples = set()
    for branch in range(3):
        for target in range(max(runs, 1)):
            data = gen(parsed, target, [0], branch)
            if runs and re.fullmatch(r"\D*", data) is None:
                samples.add(data)
    return sorted(samples)


def callback_patterns(kexie: Kexie) -> list[str]:
    assert kexie.app is not None
    found = []
    for group in kexie.app.handlers.values():
        for handler in group:
            if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                assert isinstance(handler.pattern, re.Pattern)
                found.append(handler.pattern.pattern)
    return found


def test_sampler_builds_matching_data() -> None:
    pattern = r"^inv:make:\d+:[ra]:\d+:\d+$"
    assert _samples(pattern, "77") == [
        "inv:make:1:r:1:77",
        "inv:make:1:r:77:1",
        "inv:make:77:r:1:1",
    ]
    assert _samples(r"^(menu:mine|mine:page:\d+)$", "5") == ["mine:page:5"]


async def press_everything(
    kexie: Kexie, user: FakeUser, run: str, caplog: pytest.LogCaptureFixture
) -> list[str]:
    """Press every sample of every pattern; return the data whose press logged an error."""
    bad = []
    for pattern in callback_patterns(kexie):
        for data in _samples(pattern, run):
            if len(data.encode()) > MAX_CALLBACK_BYTES:
                continue  # Telegram would not carry it
            caplog.clear()
            answers = len(user.callback_answers)
            await user.press_data(data, user.last.message_id)
            await kexie.standin.wait_until_confirmed()
            failed = any(r.levelno >= logging.ERROR or r.exc_info for r in caplog.records)
            if failed or len(user.callback_answers) != answers + 1:
                bad.append(data)
            user.drain()
            user._answer_cursor = len(user.callback_answers)
    return bad


@pytest.mark.parametrize("role", ["reporter", "city_admin"])
async def test_forged_ids_out_of_range_are_expired_buttons(
    kexie: Kexie, caplog: pytest.LogCaptureFixture, role: str
) -> None:
    org = await kexie.org("蓉城材料科技有限公司科协")
    user = await kexie.member(4201, role, org=org if role == "reporter" else None)
    with caplog.at_level(logging.INFO):
        assert await press_everything(kexie, user, TOO_BIG, caplog) == []
        assert await press_everything(kexie, user, BIGGEST, caplog) == []


async def test_same_language_twice_changes_nothing(kexie: Kexie) -> None:
    org = await kexie.org("蓉城材料科技有限公司科协")
    user = await kexie.member(4202, "reporter", org=org)
    await user.send("/settings")
    panel = await user.expect_any("设置")
    menus = len(kexie.standin.calls_of("setMyCommands"))
    await user.press("中文", panel)
    await user.expect_answer()
    await kexie.standin.wait_until_confirmed()
    assert kexie.standin.errors == []  # no "message is not modified"
    assert not kexie.standin.calls_of("editMessageText")
    assert len(kexie.standin.calls_of("setMyCommands")) == menus  # the menu is already Chinese


async def test_settings_on_a_vanished_message_answers_anew(
    kexie: Kexie, caplog: pytest.LogCaptureFixture
) -> None:
    org = await kexie.org("蓉城材料科技有限公司科协")
    user = await kexie.member(4203, "reporter", org=org)
    await user.send("/settings")
    panel = await user.expect_any("设置")
    kexie.standin.fail_next(
        "editMessageText", 400, description="Bad Request: message to edit not found"
    )
    with caplog.at_level(logging.INFO):
        await user.press("English", panel)
        await user.expect_answer()
        fresh = await user.expect("Reminders and language")
    assert not fresh.edited
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("refusal", ["message to edit not found", "message can't be edited"])
async def test_buttons_on_an_uneditable_message_still_lead_on(
    kexie: Kexie, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    org = await kexie.org("蓉城材料科技有限公司科协")
    user = await kexie.member(4204, "reporter", org=org)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    for method in ("editMessageText", "editMessageReplyMarkup"):
        kexie.standin.fail_next(method, 400, description=f"Bad Request: {refusal}")
    with caplog.at_level(logging.INFO):
        await user.press("昨天")
        await user.expect_any(step_label("name"))
        await kexie.standin.wait_until_confirmed()
    assert kexie.standin.injected  # the refusal did happen
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
