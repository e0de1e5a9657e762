"""The report's questions as the tests name them, from the question table
(:data:`core.report_steps.QUESTIONS`): a question's ``第N步`` (:func:`step_label`), and walks
that answer the questions a test does not care about, so a question inserted into the table
breaks no test that walks past it.

    await user.send("/report")
    await answer_questions(user, until="headcount")  # 第1步 … 第4步 answered, 第5步 asked
    await user.send("约50人")
    await expect_question(user, "evidence", after="headcount")  # 第6步 answered on the way
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from core.report_steps import BY_FIELD, NUMBER, QUESTIONS, TOTAL
from tests.standin import BotMessage, FakeUser


def step_number(field: str) -> int:
    """Where the question that fills ``field`` is asked (1 for the date)."""
    return NUMBER[BY_FIELD[field].step]


def step_label(field: str) -> str:
    """The ``第N步`` its question starts with (``step_label("headcount") == "第5步"`` today)."""
    return f"第{step_number(field)}步"


def answered_label(count: int) -> str:
    """How the resume offer counts a draft's answers: ``已填 1/7 项``."""
    return f"已填 {count}/{TOTAL} 项"


@dataclass(frozen=True)
class Press:
    """An answer given by pressing a button (its label)."""

    label: str


Answer = str | Press

# Valid answers a walk gives to the questions a test does not answer itself.
DEFAULT_ANSWERS: dict[str, Answer] = {
    "activity_date": Press("昨天"),
    "name": "科技政策解读会",
    "content": "邀请市科技局专家解读2021年科技企业扶持政策，面向园区企业。",
    "role": Press("主办"),
    "headcount": "约50人",
    "outcome": "30家企业了解了申报流程，5家企业当场提交了意向。",
}
# The answer to a free-text question none of the above knows (one added to the table later).
FILLER = "测试填写"


def default_answer(field: str) -> Answer:
    """What a walk answers to ``field``'s question when the test does not say."""
    if field in DEFAULT_ANSWERS:
        return DEFAULT_ANSWERS[field]
    if BY_FIELD[field].is_text:
        return FILLER
    raise AssertionError(f"no default answer for the question {field!r}: add one to tests/steps.py")


def next_field(field: str) -> str:
    """The question the table asks right after ``field``'s (``next_field("name") == "content"``
    today): what a test that answered ``field`` expects next, or a draft answered up to it
    goes on with."""
    order = [q.field for q in QUESTIONS]
    return order[order.index(field) + 1]


def fields_between(after: str, field: str) -> list[str]:
    """The questions the table asks after ``after`` and before ``field``."""
    order = [q.field for q in QUESTIONS]
    start, stop = order.index(after), order.index(field)
    assert start < stop, f"{field!r} is not asked after {after!r}"
    return order[start + 1 : stop]


def stored_answers(today: date, **given: object) -> list[tuple[str, object]]:
    """Every answered question's stored value, in the table's order, for a test that builds a
    finished report through storage: ``given`` values as they are, the others parsed by the
    table's own parser from :func:`default_answer` (so a question added to the table is filled
    too). The evidence question is answered with files, not here."""
    values: list[tuple[str, object]] = []
    for q in QUESTIONS:
        if q.parse is None:
            continue
        if q.field in given:
            values.append((q.field, given[q.field]))
            continue
        answer = default_answer(q.field)
        value, error = q.parse(answer.label if isinstance(answer, Press) else answer, today)
        assert error is None, f"the default answer to {q.field!r} is refused: {error}"
        values.append((q.field, value))
    return values


async def give(user: FakeUser, answer: Answer) -> None:
    """Answer the question being asked: press the button or send the text."""
    if isinstance(answer, Press):
        await user.press(answer.label)
    else:
        await user.send(answer)


async def expect_question(
    user: FakeUser,
    field: str,
    *,
    after: str | None = None,
    answers: Mapping[str, Answer] | None = None,
    timeout: float = 10.0,
) -> BotMessage:
    """Wait for ``field``'s question (by its ``第N步``) and return it. With ``after`` (the
    question the test just answered), each question the table puts between the two is first
    awaited and answered (from ``answers``, else :func:`default_answer`). ``timeout``: how long
    each question may take to come (longer for a bot process just started)."""
    given = answers or {}
    if after is not None:
        for between in fields_between(after, field):
            await user.expect_any(step_label(between), timeout=timeout)
            await give(user, given.get(between, default_answer(between)))
    return await user.expect_any(step_label(field), timeout=timeout)


async def answer_questions(
    user: FakeUser, answers: Mapping[str, Answer] | None = None, *, until: str = "evidence"
) -> BotMessage:
    """From the first question (already asked, after ``/report``), answer each in the table's
    order until ``until`` is asked; that question is returned."""
    first = QUESTIONS[0].field
    if until == first:
        return await user.expect_any(step_label(first))
    await user.expect_any(step_label(first))
    await give(user, (answers or {}).get(first, default_answer(first)))
    return await expect_question(user, until, after=first, answers=answers)
