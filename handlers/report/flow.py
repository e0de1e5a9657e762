"""The reporting conversation (/report): entry, each message routed to its answer, resume /
restart, /cancel.

State lives in the database (``chat_states`` + the draft ``activities`` row); every answer is
committed when it arrives. The questions are the rows of :data:`core.report_steps.QUESTIONS`;
the flow is drawn in ``report.mmd`` beside this module, its states named as the stored steps.
"""

from __future__ import annotations

import logging

from core import report_buttons as rb
from core.enums import ActivityStatus
from core.report_steps import TOTAL, Step, answered_count, first_missing, question
from core.rules import NAME_MAX
from core.texts import listing
from handlers.common import Turn
from handlers.report import answers, evidence
from handlers.report.access import (
    FLOW,
    data_of,
    may_edit,
    may_report_for,
    pressed,
    refuse,
    tell_if_ended,
)
from handlers.report.ask import ask, go
from services import report as change
from storage import chat_state, reports
from storage.members import held_activity, reporting_orgs_of_loaded
from storage.models import Activity, ChatState, Organisation

log = logging.getLogger(__name__)

RESUME_WORDS = ("继续", "继续填写", "continue", "Continue")
RESTART_WORDS = ("重新开始", "重新", "restart", "Restart")


# ---------------------------------------------------------------------------------------------
# entry points


async def start_report(turn: Turn) -> None:
    """/report or the 报送活动 button: pick an association, or offer to resume a draft."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    if turn.is_button:
        turn.close_buttons()
    draft = await reports.open_draft(turn.session, turn.member.id)
    told = False
    if draft is not None and await may_report_for(turn, draft.org_id):
        activity = await reports.load_activity(turn.session, draft.id)
        assert activity is not None
        if answered_count(activity) == 0:
            await go(turn, activity, Step.DATE)  # nothing to lose: just start at step 1 again
        else:
            await _offer_resume(turn, activity)
        return
    if draft is not None:
        activity = await reports.load_activity(turn.session, draft.id)
        assert activity is not None
        told = await tell_if_ended(turn, activity)
    orgs = reporting_orgs_of_loaded(turn.member)
    if not orgs:
        if not told:
            ended = await reports.ended_orgs(turn.session, turn.member.id)
            if ended:
                turn.reply(
                    turn.t("membership_ended", org=listing(turn.lang, (o.name for o in ended)))
                )
            else:
                turn.reply(turn.t("report_no_org"))
        return
    if len(orgs) > 1:
        await chat_state.set_state(turn.session, turn.member.id, FLOW, Step.ORG)
        turn.reply(turn.t("report_pick_org"), [[(o.name[:60], rb.ORG.pack(id=o.id))] for o in orgs])
        return
    await _begin(turn, orgs[0])


async def _offer_resume(turn: Turn, activity: Activity) -> None:
    assert turn.member is not None
    await chat_state.set_state(turn.session, turn.member.id, FLOW, Step.RESUME, activity.id)
    name = activity.name or turn.label("report_untitled")
    turn.reply(
        turn.t("report_draft_exists", name=name, done=answered_count(activity), total=TOTAL),
        [
            [
                (turn.label("report_resume"), rb.RESUME.pack(activity=activity.id)),
                (turn.label("report_restart"), rb.RESTART.pack(activity=activity.id)),
            ]
        ],
    )


async def choose_org(turn: Turn) -> None:
    """A button from the association picker."""
    assert turn.member is not None
    picked = turn.button(rb.ORG)
    if picked is None:
        return
    org = await reports.org_of(turn.session, picked.id)
    started = None if org is None else await change.start_draft(turn.session, turn.actor, org)
    if org is None or started is None or not started.done or started.activity is None:
        turn.notice(turn.t("not_allowed"), alert=True)
        return
    turn.close_buttons()
    await _ask_first(turn, org, started.activity)


async def resume_draft(turn: Turn, activity_id: int | None = None) -> None:
    """继续: go back to the first unanswered question (or the card). ``activity_id`` when
    another flow's button (a draft reminder's 继续) leads here."""
    found = await pressed(turn, rb.RESUME, steps=(Step.RESUME,), activity_id=activity_id)
    if found is None:
        return
    turn.close_buttons()
    await _resume(turn, found[0])


async def _resume(turn: Turn, activity: Activity) -> None:
    await go(turn, activity, first_missing(activity))


async def restart_draft(turn: Turn) -> None:
    """重新开始: discard the draft and begin a fresh one for the same association."""
    found = await pressed(turn, rb.RESTART, steps=(Step.RESUME,))
    if found is None:
        return
    turn.close_buttons()
    await _restart(turn, found[0])


async def _restart(turn: Turn, activity: Activity) -> None:
    restarted = await change.restart_draft(turn.session, turn.actor, activity)
    if not restarted.done or restarted.activity is None:
        refuse(turn, restarted.key)
        return
    await _ask_first(turn, activity.organisation, restarted.activity)


async def _begin(turn: Turn, org: Organisation) -> None:
    started = await change.start_draft(turn.session, turn.actor, org)
    if not started.done or started.activity is None:
        refuse(turn, started.key)
        return
    await _ask_first(turn, org, started.activity)


async def _ask_first(turn: Turn, org: Organisation, activity: Activity) -> None:
    """Question 1 of a new draft."""
    # Whose report this is and how to leave, above question 1: one message, one call.
    await go(turn, activity, Step.DATE, lead=turn.t("report_started", org=org.name))


# ---------------------------------------------------------------------------------------------
# answers typed or sent as files


async def receive_message(turn: Turn, state: ChatState) -> None:
    """Any message while in the report flow: the answer to the current question."""
    assert turn.member is not None
    if state.activity_id is None:
        turn.reply(turn.t("report_pick_org"))
        return
    # Loaded with the member (the adapter's unit of work): no query of its own.
    activity = held_activity(turn.session, state.activity_id) or await reports.load_activity(
        turn.session, state.activity_id
    )
    if activity is None or not may_edit(turn, activity):
        await chat_state.clear_state(turn.session, turn.member.id)
        if activity is None or not await tell_if_ended(turn, activity):
            turn.reply(turn.t("not_found_or_denied"))
        return
    step = state.step
    if step == Step.RESUME:
        await _answer_resume_question(turn, activity, turn.text or "")
        return
    refused = turn.incoming.unsupported
    if refused:
        if step == Step.EVIDENCE:
            turn.reply(turn.t("evidence_bad_kind", kind=turn.label(refused)))
        else:
            turn.reply(turn.t("expect_text"))
            await ask(turn, activity, step, state)
        return
    if turn.files:
        # Photos sent early (people often send them first) are kept for the evidence step.
        await evidence.receive_evidence(turn, state, activity)
        return
    text = turn.text
    if text is None:
        turn.reply(turn.t("expect_text"))
        return
    data = data_of(state)
    sent_at = turn.sent_at
    if data.split_until is not None and sent_at is not None and sent_at <= data.split_until:
        # The rest of an over-long message the Telegram client split in two: never an answer.
        q = question(step)
        turn.reply(turn.t("text_split_tail", limit=q.limit if q and q.limit else NAME_MAX))
        return
    if step == Step.EVIDENCE:
        await evidence.typed_at_evidence(turn, state, activity, text)
        return
    q = question(step)
    if q is not None and q.parse is not None:
        await answers.answer(turn, state, activity, q, text)
    elif step == Step.CONFIRM_HEADCOUNT:
        await answers.answer_headcount_confirmation(turn, state, activity, text)
    else:  # the card: its buttons are the answer
        turn.reply(turn.t("card_use_buttons"))
        await ask(turn, activity, step, state)


async def _answer_resume_question(turn: Turn, activity: Activity, text: str) -> None:
    """Typed 继续 / 重新开始 instead of pressing; anything else shows the question again."""
    typed = text.strip()
    if typed in RESUME_WORDS:
        await _resume(turn, activity)
    elif typed in RESTART_WORDS:
        await _restart(turn, activity)
    else:
        await _offer_resume(turn, activity)


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Repeat the current question (the previous reply may never have reached the user)."""
    if state.activity_id is None:
        return
    activity = await reports.load_activity(turn.session, state.activity_id)
    if activity is not None and (
        question(state.step) is not None or state.step in (Step.CONFIRM_HEADCOUNT, Step.REVIEW)
    ):
        await ask(turn, activity, state.step, state)


# ---------------------------------------------------------------------------------------------
# /cancel


async def cancel_report(turn: Turn, state: ChatState) -> None:
    """/cancel inside the report flow."""
    assert turn.member is not None
    activity = (
        await reports.load_activity(turn.session, state.activity_id) if state.activity_id else None
    )
    if activity is None or activity.status != ActivityStatus.DRAFT:
        await chat_state.clear_state(turn.session, turn.member.id)
        turn.reply(turn.t("flow_left"))
        return
    turn.reply(
        turn.t("cancel_ask"),
        [
            [
                (turn.label("btn_keep_draft"), rb.KEEP.pack(activity=activity.id)),
                (turn.label("btn_discard_draft"), rb.DISCARD.pack(activity=activity.id)),
            ]
        ],
    )
