"""Two admins deciding one report at the same moment make one decision (issue 18, point 3).

Each press loads the report while it is still pending, waits until the other press has loaded
it too, and only then decides: the window in which, before the fix, both decisions were
applied. Afterwards there is exactly one decision (one audit entry), the report is in the
state the winner was told, and the loser is told who decided first. Through the use cases
(:mod:`services.review`) as the chat and the console call them, and through the real fronts (a
button or a typed reason in the chat against a form in the console, both arriving at the use
case's lock together), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.enums import ActivityStatus, OrgKind, Role
from core.policy import Actor, Grant
from core.review_rules import ReviewState
from scheduler.rows import Timing
from services import review as decide
from storage import console_report, reports, review
from storage.models import Activity, AuditEntry, Member, OutboxMessage, utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import at_telegram, telegram_member
from tests.console import console_client, sign_in
from tests.harness import Kexie
from tests.standin import FakeUser

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

ROUNDS = 4
GATE_TIMEOUT = 20.0  # seconds a press waits for the other one to have loaded the report
DECISIONS = (review.APPROVE, review.RETURN)
T = TypeVar("T")
TIMING = Timing(tz=ZoneInfo("Asia/Shanghai"))
ACTORS: dict[int, Actor] = {}  # member id → what the policy knows of them (set by _people)


async def _people(kexie: Kexie) -> tuple[int, int, int, int]:
    """A 锦江区 association with its author and two reviewers: (org, author, 陈静, 刘洋) ids."""
    async with kexie.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "锦江光电科技科协")
        people = [
            telegram_member(9100 + n, first_name=name)
            for n, name in enumerate(("王芳", "陈静", "刘洋"))
        ]
        session.add_all(people)
        await session.flush()
        author, chen, liu = (p.id for p in people)
        ACTORS[author] = Actor(author, (Grant(Role.REPORTER, org.id, district.id),))
        for reviewer in (chen, liu):
            ACTORS[reviewer] = Actor(reviewer, (Grant(Role.DISTRICT_ADMIN, None, district.id),))
        return org.id, author, chen, liu


async def _pending(kexie: Kexie, org_id: int, author_id: int, n: int) -> int:
    """A submitted report waiting for review (written as a submission leaves it)."""
    now = utcnow()
    async with kexie.session() as session:
        activity = Activity(
            org_id=org_id, author_id=author_id, status=ActivityStatus.SUBMITTED,
            activity_date=date(2026, 11, 20), name=f"技术交流会第{n}场", content="面向园区企业。",
            role="主办", headcount=40, outcome="8家企业提出合作需求。", ref_no=f"RACE-{n:04d}",
            submitted_at=now, first_submitted_at=now, on_time=True,
            review_state=ReviewState.PENDING,
        )  # fmt: skip
        session.add(activity)
        await session.flush()
        return activity.id


async def _decisions(kexie: Kexie, activity_id: int, actions: tuple[str, ...]) -> list[Any]:
    async with kexie.session() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.member_id)
            .where(AuditEntry.activity_id == activity_id, AuditEntry.action.in_(actions))
            .order_by(AuditEntry.id)
        )
        return [tuple(r) for r in rows.all()]


async def _press(
    kexie: Kexie,
    activity_id: int,
    loaded: asyncio.Barrier,
    decide: Callable[[Any, Activity], Awaitable[T]],
    load: Callable[[Any, int], Awaitable[Activity | None]] = reports.load_activity,
) -> T:
    """One admin's press in its own session (committed at the end, as a front commits):
    load the report, wait until the other admin has loaded it too, decide."""
    async with kexie.session() as session:
        activity = await load(session, activity_id)
        assert activity is not None
        await asyncio.wait_for(loaded.wait(), GATE_TIMEOUT)
        return await decide(session, activity)


Press = Callable[[Any, Activity], Awaitable[decide.ReviewResult]]


def _approve(member_id: int) -> Press:
    """通过 through the use case, as both fronts call it."""
    return lambda session, activity: decide.approve(session, ACTORS[member_id], activity.id)


def _return(member_id: int, reason: str) -> Press:
    """退回 with ``reason`` through the use case, as both fronts call it."""
    actor = ACTORS[member_id]
    return lambda session, activity: decide.return_report(
        session, actor, activity.id, reason, timing=TIMING
    )


async def test_two_approvals_at_once_make_one_decision(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    org, author, chen, liu = await _people(kexie)
    names = {chen: "陈静", liu: "刘洋"}
    for n in range(ROUNDS):
        activity_id = await _pending(kexie, org, author, n)
        loaded = asyncio.Barrier(2)
        first, second = await asyncio.gather(
            _press(kexie, activity_id, loaded, _approve(chen)),
            _press(kexie, activity_id, loaded, _approve(liu)),
        )
        assert sorted([first.done, second.done]) == [False, True], (n, first, second)
        decisions = await _decisions(kexie, activity_id, DECISIONS)
        assert len(decisions) == 1, (n, decisions)
        winner = decisions[0][1]
        loser = second if first.done else first
        assert (loser.state, loser.by) == (ReviewState.APPROVED, names[winner])
        row = await kexie.get(Activity, activity_id)
        assert (row.review_state, row.reviewed_by) == (ReviewState.APPROVED, winner)


async def test_approve_racing_a_return_applies_the_one_reported_done(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    org, author, chen, liu = await _people(kexie)
    names = {chen: "陈静", liu: "刘洋"}
    for n in range(ROUNDS):
        activity_id = await _pending(kexie, org, author, n)
        loaded = asyncio.Barrier(2)
        # 陈静 presses 通过 while 刘洋 sends the reason of a 退回; who starts first alternates.
        presses = [
            _press(kexie, activity_id, loaded, _approve(chen)),
            _press(kexie, activity_id, loaded, _return(liu, "参与人数与签到表不符")),
        ]
        if n % 2:
            presses.reverse()
        outcomes = await asyncio.gather(*presses)
        approved, returned = outcomes if n % 2 == 0 else outcomes[::-1]
        assert sorted([approved.done, returned.done]) == [False, True], (n, approved, returned)
        won, lost = (approved, returned) if approved.done else (returned, approved)
        decisions = await _decisions(kexie, activity_id, DECISIONS)
        assert len(decisions) == 1, (n, decisions)
        row = await kexie.get(Activity, activity_id)
        assert row.review_state == won.state == lost.state
        assert lost.by == won.by == names[row.reviewed_by]
        expected = ReviewState.APPROVED if approved.done else ReviewState.RETURNED
        assert row.review_state == expected
        assert row.review_reason == (None if approved.done else "参与人数与签到表不符")


async def test_the_chat_and_the_console_at_once_make_one_decision(kexie_idle: Kexie) -> None:
    """The services as each front calls them: the chat loads with storage.reports, the
    console with storage.console_report; both decide through storage.review."""
    kexie = kexie_idle
    org, author, chen, liu = await _people(kexie)
    for n in range(ROUNDS):
        activity_id = await _pending(kexie, org, author, n)
        loaded = asyncio.Barrier(2)
        chat, console = await asyncio.gather(
            _press(kexie, activity_id, loaded, _return(chen, "照片不清楚，请补充")),
            _press(kexie, activity_id, loaded, _approve(liu), console_report.load_report),
        )
        assert sorted([chat.done, console.done]) == [False, True], (n, chat, console)
        assert len(await _decisions(kexie, activity_id, DECISIONS)) == 1
        row = await kexie.get(Activity, activity_id)
        assert row.review_state == (chat if chat.done else console).state


async def test_a_returned_report_resubmitted_twice_at_once_is_resubmitted_once(
    kexie_idle: Kexie,
) -> None:
    kexie = kexie_idle
    org, author, chen, _liu = await _people(kexie)
    activity_id = await _pending(kexie, org, author, 0)
    async with kexie.session() as session:
        activity = await reports.load_activity(session, activity_id)
        assert activity is not None
        returned = await decide.return_report(
            session, ACTORS[chen], activity_id, "人数有误，请核对", timing=TIMING
        )
        assert returned.done
        # The correction, as an amendment records it.
        session.add(
            AuditEntry(
                activity_id=activity_id, member_id=author, action="edit", field="headcount",
                old_value="40", new_value="45", at=utcnow(),
            )
        )  # fmt: skip
    loaded = asyncio.Barrier(2)

    def resubmit(session: Any, activity: Activity) -> Awaitable[decide.ReviewResult]:
        return decide.resubmit(session, ACTORS[author], activity.id, timing=TIMING)

    outcomes = await asyncio.gather(
        _press(kexie, activity_id, loaded, resubmit), _press(kexie, activity_id, loaded, resubmit)
    )
    assert sorted(o.done for o in outcomes) == [False, True]
    # The second press is told the report is no longer returned (it is pending again).
    lost = next(o for o in outcomes if not o.done)
    assert (lost.outcome, lost.key) == (decide.Outcome.NOT_RETURNED, "review_not_returned")
    assert len(await _decisions(kexie, activity_id, (review.CORRECT,))) == 1
    row = await kexie.get(Activity, activity_id)
    assert row.review_state == ReviewState.PENDING


# ---------------------------------------------------------------------------------------------
# the real fronts: a press or a reason in the chat, a form in the console


def _gate(monkeypatch: pytest.MonkeyPatch, activity_id: int, arrived: Any) -> None:
    """Both fronts' presses reach the use case's lock of the report together: each of the
    first two waits there, having read whatever its front read, until the other has come too
    (then they take the lock in turn)."""
    original = decide.lock_report
    gated_calls = 0

    async def gated(session: Any, ident: int) -> None:
        nonlocal gated_calls
        if ident == activity_id and gated_calls < 2:
            gated_calls += 1
            await asyncio.wait_for(arrived.wait(), GATE_TIMEOUT)
        await original(session, ident)

    monkeypatch.setattr(decide, "lock_report", gated)


async def _fronts(kexie: Kexie) -> tuple[FakeUser, int, int, str]:
    """A reporter, 陈静 (in the chat) and 刘洋 (in the console), both district admins, and a
    report of the reporter's waiting for review: (陈静, the console's signed-in id, the report,
    its reference number)."""
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    await kexie.member(7101, "reporter", org=org, first_name="王芳")
    chen = await kexie.member(7201, "district_admin", district="锦江区", first_name="陈静")
    await kexie.member(7202, "district_admin", district="锦江区", first_name="刘洋")
    async with kexie.session() as session:
        author = await session.scalar(select(Member.id).where(at_telegram(7101)))
    assert author is not None
    activity_id = await _pending(kexie, org, author, 1)
    return chen, 7202, activity_id, "RACE-0001"


async def _chat_says(user: FakeUser, *pieces: str) -> str:
    """The next message to ``user`` containing any of ``pieces``."""
    while True:
        message = await user.expect()
        if any(p in message.text for p in pieces):
            return message.text


async def _returns_queued(kexie: Kexie) -> list[Any]:
    async with kexie.session() as session:
        rows = await session.execute(
            select(OutboxMessage.member_id, func.count())
            .where(OutboxMessage.kind == "report_returned")
            .group_by(OutboxMessage.member_id)
        )
        return [tuple(r) for r in rows.all()]


async def test_a_chat_approval_racing_a_console_return(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    chen, liu, activity_id, ref = await _fronts(kexie)
    await chen.send("/review")
    page = await chen.expect_any("待审核报送")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, liu)
        _gate(monkeypatch, activity_id, asyncio.Barrier(2))
        chen._answer_cursor = len(chen.callback_answers)

        async def press() -> str:
            await chen.press_data(f"rev:ok:{activity_id}", page.message_id)
            return (await chen.expect_answer(timeout=GATE_TIMEOUT)).text or ""

        toast, answer = await asyncio.gather(
            press(),
            client.post(
                f"/console/reports/{activity_id}/return",
                data={"csrf": csrf, "reason": "参与人数与签到表不符"},
            ),
        )
    decisions = await _decisions(kexie, activity_id, DECISIONS)
    assert len(decisions) == 1, decisions
    row = await kexie.get(Activity, activity_id)
    returns = await _returns_queued(kexie)
    if decisions[0][0] == review.APPROVE:
        assert row.review_state == ReviewState.APPROVED
        assert toast == f"已通过 {ref}"
        assert answer.status_code == 409 and "这条报送已由 陈静 于" in answer.text
        assert "处理：已通过" in answer.text
        assert returns == []  # the reporter hears of no return
    else:
        assert row.review_state == ReviewState.RETURNED
        assert answer.status_code == 303
        assert "这条报送已由 刘洋 于" in toast and "处理：已退回" in toast
        assert returns and all(count == 1 for _member, count in returns), returns


async def test_a_chat_return_racing_a_console_approval(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    """通过 in the console while 陈静 types the reason of a 退回 in the chat."""
    chen, liu, activity_id, ref = await _fronts(kexie)
    await chen.send("/review")
    page = await chen.expect_any("待审核报送")
    await chen.press_data(f"rev:back:{activity_id}", page.message_id)
    await chen.expect_any("的理由（至少 4 个字）")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, liu)
        _gate(monkeypatch, activity_id, asyncio.Barrier(2))

        async def reason() -> str:
            await chen.send("参与人数与签到表不符")
            return await _chat_says(chen, f"已退回 {ref}", "这条报送已由")

        told, answer = await asyncio.gather(
            reason(), client.post(f"/console/reports/{activity_id}/approve", data={"csrf": csrf})
        )
    decisions = await _decisions(kexie, activity_id, DECISIONS)
    assert len(decisions) == 1, decisions
    row = await kexie.get(Activity, activity_id)
    returns = await _returns_queued(kexie)
    if decisions[0][0] == review.RETURN:
        assert row.review_state == ReviewState.RETURNED
        assert f"已退回 {ref}" in told
        assert answer.status_code == 409 and "这条报送已由 陈静 于" in answer.text
        assert "处理：已退回" in answer.text
        assert returns and all(count == 1 for _member, count in returns), returns
    else:
        assert row.review_state == ReviewState.APPROVED
        assert answer.status_code == 303
        assert "这条报送已由 刘洋 于" in told and "处理：已通过" in told
        assert returns == []
