"""The report flow's question table: one row per question, in the order they are asked.

Everything done with a question is a loop over :data:`QUESTIONS` or a look-up in it (which field
it fills, how its answer is read, its prompt and buttons, the next and the first missing
question, the 修改 list; and, by :attr:`Question.label` and :attr:`Question.shown`, how its
field is named and its value written on a card, in a change line ``old → new`` and on the
console, see :mod:`core.cards`), so adding a question is one row here plus its catalog
sentences (and its column on the model).
The step names are the values stored in ``chat_states.step``; :class:`ReportData` is the typed
form of ``chat_states.data``. No Telegram, no database.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from core.rules import (
    CONTENT_MAX,
    NAME_MAX,
    OUTCOME_MAX,
    check_text,
    parse_activity_date,
    parse_headcount,
    parse_role,
)


class Step(enum.StrEnum):
    """Where a member is in the report flow; the value is what ``chat_states.step`` stores."""

    ORG = "org"  # choosing the association (several)
    RESUME = "resume?"  # 继续 or 重新开始 an unfinished draft
    DATE = "date"
    NAME = "name"
    CONTENT = "content"
    ROLE = "role"
    HEADCOUNT = "headcount"
    CONFIRM_HEADCOUNT = "headcount?"  # a large headcount waits for 确认 (in ReportData)
    OUTCOME = "outcome"
    EVIDENCE = "evidence"
    REVIEW = "review"  # the summary card (also: the 修改 list, the cancel question)


class ButtonsKind(enum.StrEnum):
    """Which buttons come with a question."""

    NONE = "none"
    DATES = "dates"  # 今天 / 昨天 / 前天
    ROLES = "roles"  # 主办 / 协办 / 承办
    EVIDENCE = "evidence"  # 完成 (and 清空重传)


class Shown(enum.StrEnum):
    """How an answer is written on the card."""

    AS_IS = "as_is"
    DATE = "date"  # 2021年11月3日
    LONG_TEXT = "long_text"  # shortened on the card, stored whole
    HEADCOUNT = "headcount"  # 50人
    FILES = "files"  # 照片 2 张，文件 1 个


# A parser reads a typed answer (with today's date, for relative dates) into a value, or names
# the catalog sentence that says what was wrong: ``(value, None)`` or ``(None, error_key)``.
Parser = Callable[[str, date], tuple[Any, str | None]]


def _text_parser(limit: int, *, one_line: bool = False) -> Parser:
    return lambda text, _today: check_text(text, limit, one_line=one_line)


@dataclass(frozen=True)
class Question:
    """One row of the table."""

    step: Step
    field: str  # the Activity attribute it fills (evidence: the list of files)
    prompt: str  # catalog key of the question; gets {step}, {total} and {limit}
    parse: Parser | None  # None: answered with files, not text
    buttons: ButtonsKind = ButtonsKind.NONE
    limit: int | None = None  # a free-text answer's length limit (None: not a text step)
    shown: Shown = Shown.AS_IS
    repeat_on_error: bool = False  # a wrong typed answer shows the question (and buttons) again

    @property
    def is_text(self) -> bool:
        """A free-text answer (名称, 内容, 成效): length-checked, possibly split by the client."""
        return self.limit is not None

    @property
    def label(self) -> str:
        """Catalog key of the field's name on the card and the 修改 list."""
        return f"label_{self.step}"


QUESTIONS: tuple[Question, ...] = (
    Question(
        Step.DATE,
        "activity_date",
        "ask_date",
        parse_activity_date,
        ButtonsKind.DATES,
        shown=Shown.DATE,
    ),
    Question(Step.NAME, "name", "ask_name", _text_parser(NAME_MAX, one_line=True), limit=NAME_MAX),
    Question(
        Step.CONTENT,
        "content",
        "ask_content",
        _text_parser(CONTENT_MAX),
        limit=CONTENT_MAX,
        shown=Shown.LONG_TEXT,
    ),
    Question(
        Step.ROLE,
        "role",
        "ask_role",
        lambda text, _today: parse_role(text),
        ButtonsKind.ROLES,
        repeat_on_error=True,
    ),
    Question(
        Step.HEADCOUNT,
        "headcount",
        "ask_headcount",
        lambda text, _today: parse_headcount(text),
        shown=Shown.HEADCOUNT,
    ),
    Question(
        Step.OUTCOME,
        "outcome",
        "ask_outcome",
        _text_parser(OUTCOME_MAX),
        limit=OUTCOME_MAX,
        shown=Shown.LONG_TEXT,
    ),
    Question(
        Step.EVIDENCE, "evidence", "ask_evidence", None, ButtonsKind.EVIDENCE, shown=Shown.FILES
    ),
)

TOTAL = len(QUESTIONS)
BY_STEP: dict[Step, Question] = {q.step: q for q in QUESTIONS}
BY_FIELD: dict[str, Question] = {q.field: q for q in QUESTIONS}
NUMBER: dict[Step, int] = {q.step: i for i, q in enumerate(QUESTIONS, start=1)}


class IncompleteReport(ValueError):
    """A report was to be submitted with a question unanswered (``step``)."""

    def __init__(self, step: Step) -> None:
        super().__init__(f"report incomplete: {step}")
        self.step = step


def question(step: str) -> Question | None:
    """The row of a stored step, or None for a step that is not a question (org, review …)."""
    try:
        return BY_STEP.get(Step(step))
    except ValueError:
        return None


def label_key(field: str | None) -> str | None:
    """Catalog key of a field's name (as the card, the 修改 list, a change line and the console
    name it), or None for a field that is no question (an audit row of a field since removed)."""
    q = BY_FIELD.get(field or "")
    return q.label if q is not None else None


def answered(q: Question, report: object) -> bool:
    """Whether ``report`` (an Activity or any object with the fields) has this answer; the
    evidence question counts as answered once there is a file."""
    value = getattr(report, q.field)
    if q.shown is Shown.FILES:
        return bool(value)
    return value is not None


def answered_count(report: object) -> int:
    """How many of the questions have an answer."""
    return sum(1 for q in QUESTIONS if answered(q, report))


def first_missing(report: object) -> Step:
    """The first question still unanswered, or :attr:`Step.REVIEW` when the report is complete."""
    for q in QUESTIONS:
        if not answered(q, report):
            return q.step
    return Step.REVIEW


def next_step(step: Step | str) -> Step:
    """The question after ``step`` (:attr:`Step.REVIEW` after the last one)."""
    steps = [q.step for q in QUESTIONS]
    index = steps.index(Step(step))
    return steps[index + 1] if index + 1 < len(steps) else Step.REVIEW


# ---------------------------------------------------------------------------------------------
# chat_states.data, typed


@dataclass
class ReportData:
    """What the report flow keeps beside the step (``chat_states.data``).

    Stored as JSON with the same keys as before it was typed, so a conversation that was in
    progress during an upgrade continues; unknown keys and wrong types read as unset.
    """

    editing: bool = False  # fixing one answer from the card: back to the card after it
    amend: bool = False  # changing a submitted report (from /mine): every answer is audited
    version: int | None = None  # the report's version when the amendment was opened
    split_until: datetime | None = None  # messages sent before this are the rest of a long text
    headcount: int | None = None  # a large headcount waiting for 确认

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ReportData:
        """Read the stored JSON (tolerant of old rows and of anything malformed)."""
        data = data or {}

        def integer(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        split: datetime | None = None
        raw = data.get("split_until")
        if isinstance(raw, str):
            try:
                split = datetime.fromisoformat(raw)
            except ValueError:
                split = None
        return cls(
            editing=bool(data.get("editing")),
            amend=bool(data.get("amend")),
            version=integer("version"),
            split_until=split,
            headcount=integer("headcount"),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON to store: only what is set, under the historical keys."""
        out: dict[str, Any] = {}
        if self.editing:
            out["editing"] = True
        if self.amend:
            out["amend"] = True
        if self.version is not None:
            out["version"] = self.version
        if self.split_until is not None:
            out["split_until"] = self.split_until.isoformat()
        if self.headcount is not None:
            out["headcount"] = self.headcount
        return out

    def entering(self, step: Step | str) -> ReportData:
        """What is kept on moving to ``step``: the modes (fixing, amending, the version) always;
        the waiting headcount only into its confirmation; on the card nothing is being fixed."""
        if step == Step.REVIEW:
            return replace(self, editing=False, headcount=None)
        kept = ReportData(editing=self.editing, amend=self.amend, version=self.version)
        if step == Step.CONFIRM_HEADCOUNT:
            kept.headcount = self.headcount
        return kept

    @property
    def back_to_card(self) -> bool:
        """After an answer, the card again (fixing or amending) rather than the next question."""
        return self.editing or self.amend


def field_steps() -> Sequence[Step]:
    """The questions' steps in order (the 修改 list)."""
    return [q.step for q in QUESTIONS]
