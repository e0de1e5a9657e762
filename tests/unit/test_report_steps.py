"""Unit tests of the report flow's question table, its typed state, its buttons, the rules of
who may report or amend, and ``reports.submit`` refusing an incomplete report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import report_buttons as rb
from core.callbacks import Codec, Id
from core.enums import ActivityStatus, Role
from core.policy import Actor, Grant, Target
from core.report_steps import (
    NUMBER,
    QUESTIONS,
    TOTAL,
    IncompleteReport,
    ReportData,
    Step,
    answered_count,
    first_missing,
    next_step,
    question,
)
from core.rules import evidence_ready, may_amend, may_continue_draft, may_report
from core.texts import t
from core.years import ReportingYears
from storage import reports
from storage.db import Database
from storage.models import AuditEntry
from tests.journeys import attach_photo, new_member_draft

# The order and fields before the table existed: stored steps and drafts must keep their meaning.
HISTORICAL_STEPS = ("date", "name", "content", "role", "headcount", "outcome", "evidence")
HISTORICAL_FIELDS = {
    "date": "activity_date",
    "name": "name",
    "content": "content",
    "role": "role",
    "headcount": "headcount",
    "outcome": "outcome",
}


@dataclass
class Draft:
    """Anything with the report's fields (the table needs no database)."""

    activity_date: date | None = None
    name: str | None = None
    content: str | None = None
    role: str | None = None
    headcount: int | None = None
    outcome: str | None = None
    evidence: list[object] = field(default_factory=list)


def complete() -> Draft:
    return Draft(date(2021, 11, 3), "沙龙", "内容", "主办", 50, "成效", ["photo"])


# ---------------------------------------------------------------------------------------------
# the table


def test_the_table_keeps_the_stored_step_names_order_and_fields() -> None:
    # A question may be added, but none of these is renamed, dropped or moved past another.
    asked = [q.step.value for q in QUESTIONS]
    assert tuple(s for s in asked if s in HISTORICAL_STEPS) == HISTORICAL_STEPS
    assert tuple(asked) == reports.STEPS
    assert HISTORICAL_FIELDS.items() <= reports.FIELD_OF_STEP.items()
    assert len(QUESTIONS) == TOTAL and NUMBER[Step.DATE] == 1 and NUMBER[Step.EVIDENCE] == TOTAL
    # Every step a chat_states row may hold is a Step (old rows included), and no other.
    stored = {"org", "resume?", "headcount?", "review", *HISTORICAL_STEPS, *asked}
    assert {s.value for s in Step} == stored


def test_next_step_walks_the_table_and_ends_at_the_card() -> None:
    walked = [Step.DATE]
    while walked[-1] != Step.REVIEW:
        walked.append(next_step(walked[-1]))
    assert walked == [*(q.step for q in QUESTIONS), Step.REVIEW]
    assert next_step("outcome") == Step.EVIDENCE  # a stored string works too


def test_first_missing_is_the_first_unanswered_question_then_the_card() -> None:
    assert first_missing(Draft()) == Step.DATE
    draft = complete()
    assert first_missing(draft) == Step.REVIEW and answered_count(draft) == TOTAL
    draft.role = None
    assert first_missing(draft) == Step.ROLE and answered_count(draft) == TOTAL - 1
    draft = complete()
    draft.evidence = []
    assert first_missing(draft) == Step.EVIDENCE and answered_count(draft) == TOTAL - 1


def test_question_of_a_stored_step() -> None:
    assert question("name") is not None and question("name").limit == 100  # type: ignore[union-attr]
    assert question("review") is None and question("headcount?") is None
    assert question("no such step") is None


def test_parsers_in_the_table_are_the_rules() -> None:
    today = date(2021, 11, 5)
    by = {q.step: q for q in QUESTIONS}

    def read(step: Step, text: str) -> tuple[object, str | None]:
        parse = by[step].parse
        assert parse is not None
        return parse(text, today)

    assert read(Step.DATE, "昨天") == (date(2021, 11, 4), None)
    assert read(Step.NAME, "a\nb") == (None, "text_one_line")
    assert read(Step.ROLE, "协办") == ("协办", None)
    assert read(Step.HEADCOUNT, "约50人") == (50, None)
    assert by[Step.EVIDENCE].parse is None  # answered with files
    text = {q.step for q in QUESTIONS if q.is_text}
    assert {Step.NAME, Step.CONTENT, Step.OUTCOME} <= text
    assert not {Step.DATE, Step.ROLE, Step.HEADCOUNT, Step.EVIDENCE} & text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_prompts_take_their_number_from_the_table(lang: str) -> None:
    for q in QUESTIONS:
        text = t(lang, q.prompt, step=NUMBER[q.step], total=TOTAL, limit=q.limit or "")
        expected = (
            f"第{NUMBER[q.step]}步/共{TOTAL}步"
            if lang == "zh"
            else f"Step {NUMBER[q.step]} of {TOTAL}"
        )
        assert expected in text


# ---------------------------------------------------------------------------------------------
# chat_states.data, typed


def test_report_data_reads_a_row_written_before_it_was_typed() -> None:
    old = {
        "editing": True,
        "version": 3,
        "split_until": "2021-11-05T10:00:10+00:00",
        "headcount": 12000,
        "something_else": [1, 2],
    }
    data = ReportData.from_json(old)
    assert data == ReportData(
        editing=True,
        amend=False,
        version=3,
        split_until=datetime(2021, 11, 5, 10, 0, 10, tzinfo=UTC),
        headcount=12000,
    )
    assert data.back_to_card
    assert ReportData.from_json(data.to_json()) == data
    assert data.to_json() == {k: v for k, v in old.items() if k != "something_else"}


def test_report_data_reads_nonsense_as_unset() -> None:
    odd = {"version": "3", "headcount": True, "split_until": "not a date", "amend": 0}
    assert ReportData.from_json(odd) == ReportData()
    assert ReportData.from_json(None) == ReportData()
    assert ReportData().to_json() == {}


def test_entering_a_step_keeps_the_modes_and_the_waiting_headcount_only_where_it_belongs() -> None:
    moment = datetime(2021, 11, 5, tzinfo=UTC)
    data = ReportData(editing=True, amend=True, version=4, split_until=moment, headcount=12000)
    assert data.entering(Step.CONFIRM_HEADCOUNT) == ReportData(
        editing=True, amend=True, version=4, headcount=12000
    )
    assert data.entering(Step.NAME) == ReportData(editing=True, amend=True, version=4)
    on_card = data.entering(Step.REVIEW)
    assert not on_card.editing and on_card.headcount is None
    assert on_card.amend and on_card.version == 4


# ---------------------------------------------------------------------------------------------
# buttons


def test_report_buttons_round_trip_and_match_their_patterns() -> None:
    import re

    cases: list[tuple[Codec[Any], object, str]] = [
        (rb.ROLE, rb.RolePicked(7, 2), "rep:7:role:2"),
        (rb.DATE, rb.DatePicked(7, date(2021, 11, 3)), "rep:7:date:2021-11-03"),
        (rb.HEADCOUNT, rb.HeadcountAnswer(7, "yes"), "rep:7:hc:yes"),
        (rb.FIX, rb.FieldPicked(7, "name"), "rep:7:fix:name"),
        (rb.SUBMIT, rb.OnReport(7), "rep:7:submit"),
        (rb.ORG, Id(9), "rep:org:9"),
    ]
    for codec, value, data in cases:
        assert codec.pack(value) == data
        assert re.match(codec.pattern, data)
        assert codec.parse(data) == value
    assert rb.MENU.parse("menu:report") is not None


def test_report_buttons_that_name_nothing_parse_as_none() -> None:
    assert rb.DATE.parse("rep:7:date:2021-02-30") is None  # no such day
    assert rb.SUBMIT.parse(f"rep:{2**63}:submit") is None  # beyond the database's ids
    assert rb.SUBMIT.parse("rep:7:card") is None  # another kind
    assert rb.HEADCOUNT.parse("rep:7:hc:maybe") is None
    assert rb.ORG.parse("rep:7:submit") is None and rb.SUBMIT.parse("rep:org:7") is None


# ---------------------------------------------------------------------------------------------
# rules


ORG = Target(district_id=1, org_id=10)
REPORTER = Actor(7, (Grant(Role.REPORTER, org_id=10, district_id=1),))
ORG_ADMIN = Actor(8, (Grant(Role.ORG_ADMIN, org_id=10, district_id=1),))
DISTRICT = Actor(9, (Grant(Role.DISTRICT_ADMIN, district_id=1),))
ELSEWHERE = Actor(6, (Grant(Role.REPORTER, org_id=11, district_id=1),))


def test_may_report_for_an_active_association_of_ones_own() -> None:
    assert may_report(REPORTER, ORG, org_active=True)
    assert may_report(ORG_ADMIN, ORG, org_active=True)
    assert not may_report(REPORTER, ORG, org_active=False)
    assert not may_report(DISTRICT, ORG, org_active=True)
    assert not may_report(ELSEWHERE, ORG, org_active=True)


def test_a_draft_is_its_authors_alone() -> None:
    mine = Target(district_id=1, org_id=10, author_member_id=7)
    assert may_continue_draft(REPORTER, mine)
    assert not may_continue_draft(ORG_ADMIN, mine)
    assert not may_continue_draft(ELSEWHERE, Target(district_id=1, org_id=10, author_member_id=6))


def test_may_amend_until_the_annual_deadline_inclusive() -> None:
    report = Target(district_id=1, org_id=10, author_member_id=7)
    day = date(2021, 11, 3)
    years = ReportingYears()
    assert may_amend(REPORTER, report, day, date(2021, 11, 30), years)
    assert not may_amend(REPORTER, report, day, date(2021, 12, 1), years)
    # a configured deadline
    assert may_amend(REPORTER, report, day, date(2021, 12, 15), ReportingYears(12, 15))
    # the org admin, not the author
    assert may_amend(ORG_ADMIN, report, day, date(2021, 11, 5), years)
    assert not may_amend(DISTRICT, report, day, date(2021, 11, 5), years)
    assert not may_amend(REPORTER, report, None, date(2021, 11, 5), years)
    # a returned report is never a dead end: it may be corrected after the deadline too
    assert may_amend(REPORTER, report, day, date(2021, 12, 5), years, returned=True)
    # … but the district may still not touch it
    assert not may_amend(DISTRICT, report, day, date(2021, 12, 5), years, returned=True)


def test_an_activity_in_december_is_editable_until_next_years_deadline() -> None:
    report = Target(district_id=1, org_id=10, author_member_id=7)
    years = ReportingYears()
    assert may_amend(REPORTER, report, date(2026, 12, 4), date(2026, 12, 5), years)
    assert may_amend(REPORTER, report, date(2026, 12, 4), date(2027, 11, 30), years)
    assert not may_amend(REPORTER, report, date(2026, 12, 4), date(2027, 12, 1), years)


def test_a_report_stays_editable_during_its_window_across_the_deadline() -> None:
    report = Target(district_id=1, org_id=10, author_member_id=7)
    years = ReportingYears()
    # 29 November, reported on 1 December: its year is closed, its 3-day window is not.
    assert may_amend(REPORTER, report, date(2026, 11, 29), date(2026, 12, 2), years)
    assert not may_amend(REPORTER, report, date(2026, 11, 29), date(2026, 12, 3), years)


def test_evidence_needs_a_photo() -> None:
    assert evidence_ready(["document", "photo"])
    assert not evidence_ready(["document", "document"])
    assert not evidence_ready([])


# ---------------------------------------------------------------------------------------------
# reports.submit refuses an incomplete report


async def test_submit_refuses_an_incomplete_report_and_changes_nothing(db: Database) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    async with db.session() as session:
        member, activity = await new_member_draft(session, "提交科协", "沙龙")
        with pytest.raises(IncompleteReport) as refused:
            await reports.submit(session, activity, member.id, tz)
        assert refused.value.step == next_step(Step.NAME)
        given: dict[str, object] = {
            "content": "内容",
            "role": "主办",
            "headcount": 9,
            "outcome": "好",
        }
        for q in QUESTIONS[NUMBER[Step.NAME] : -1]:  # after the name, before the evidence
            value = given.get(q.field, "填写")  # a free-text question added later
            reports.set_field(session, activity, q.field, value, member.id, tz)
        with pytest.raises(IncompleteReport) as refused:
            await reports.submit(session, activity, member.id, tz)
        assert refused.value.step == Step.EVIDENCE
        assert activity.status == ActivityStatus.DRAFT and activity.ref_no is None
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        await attach_photo(session, activity, member.id, "1" * 64)
        await reports.submit(session, activity, member.id, tz)
        assert activity.status == ActivityStatus.SUBMITTED and activity.ref_no is not None
