"""Answers: a typed answer read by its question's parser, the date and role buttons, the large
headcount's confirmation, and storing an answer (with the amendment's version check)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from core import report_buttons as rb
from core.cards import answer_value
from core.enums import ActivityStatus
from core.report_steps import BY_STEP, Question, Step, next_step
from core.rules import (
    ROLES,
    format_date,
    format_datetime,
    needs_headcount_confirmation,
    parse_headcount,
    window_closes_at,
)
from core.texts import Raw
from handlers.common import Turn
from handlers.report.access import data_of, pressed, presser_state, refuse, save_data
from handlers.report.ask import CARD_CONTENT_CHARS, ask, go
from services import report as change
from storage.models import Activity, ChatState

log = logging.getLogger(__name__)

SPLIT_LENGTH = 4000  # a text this long was probably cut by the client; the rest comes next
SPLIT_WAIT = timedelta(seconds=10)  # how long after it the rest may still arrive
CONFIRM_WORDS = ("确认", "是", "对", "没错", "确定", "confirm", "Confirm", "yes", "Yes")
REDO_WORDS = ("重新填写", "重新", "重填", "re-enter", "Re-enter", "no", "No")


async def answer(turn: Turn, state: ChatState, activity: Activity, q: Question, text: str) -> None:
    """A typed answer to question ``q``: read by the question's parser; a wrong answer is told
    what was wrong (a text answer with its length and limit)."""
    assert q.parse is not None
    value, error = q.parse(text, turn.today)
    data = data_of(state)
    if error:
        if q.is_text:
            field = turn.label(q.label)
            turn.reply(turn.t(error, field=field, length=len(text.strip()), limit=q.limit))
            sent_at = turn.sent_at
            if error == "text_too_long" and len(text) >= SPLIT_LENGTH and sent_at is not None:
                # Telegram clients cut a long paste into 4096-character messages: the rest
                # follows.
                data.split_until = sent_at + SPLIT_WAIT
                save_data(state, data)
        else:
            turn.reply(turn.t(error))
            if q.repeat_on_error:
                await ask(turn, activity, q.step, state)
        return
    if q.is_text and data.split_until is not None:
        data.split_until = None
        save_data(state, data)
    if q.step == Step.HEADCOUNT and needs_headcount_confirmation(value):
        # Not stored yet: the number waits in the conversation state for 确认.
        data.headcount = value
        await go(turn, activity, Step.CONFIRM_HEADCOUNT, data)
        return
    await store(turn, state, activity, q.step, value)


def echo_choice(turn: Turn) -> None:
    """Replace the pressed question's buttons with the answer chosen ("✅ 主办"): the chat keeps
    what was answered, for the same one Bot API call that removing the buttons took (issue 10's
    budget). A message that can no longer be edited keeps its text; its buttons are refused."""
    card = turn.card
    if not turn.is_button or card is None or card.text_html is None:
        turn.close_buttons()
        return
    chosen = [
        button[0]
        for row in card.buttons or ()
        for button in row
        if isinstance(button, tuple) and button[1] == turn.pressed
    ]
    if not chosen:
        turn.close_buttons()
        return
    # Gone, too old to edit, or reading so already: its buttons are refused anyway.
    turn.replace_card(card.text_html + "\n\n" + turn.t("answer_chosen", choice=chosen[0]))


async def pick_date(turn: Turn) -> None:
    """A quick date button (今天/昨天/前天)."""
    found = await pressed(turn, rb.DATE, steps=(Step.DATE,))
    if found is None:
        return
    activity, button = found
    assert button is not None
    if button.day > turn.today:  # a button from yesterday's chat could point at "tomorrow" now
        turn.notice(turn.t("date_future"), alert=True)
        return
    echo_choice(turn)
    state = await presser_state(turn)
    await store(turn, state, activity, Step.DATE, button.day)


async def pick_role(turn: Turn) -> None:
    """主办 / 协办 / 承办 button."""
    found = await pressed(turn, rb.ROLE, steps=(Step.ROLE,))
    if found is None:
        return
    activity, button = found
    assert button is not None
    if not 0 <= button.index < len(ROLES):
        turn.notice(turn.t("button_expired"))
        return
    echo_choice(turn)
    state = await presser_state(turn)
    await store(turn, state, activity, Step.ROLE, ROLES[button.index])


async def answer_headcount_confirmation(
    turn: Turn, state: ChatState, activity: Activity, text: str
) -> None:
    """确认 / 重新填写 typed; a new number is a new answer; anything else asks again."""
    typed = text.strip()
    if typed in CONFIRM_WORDS:
        await _confirmed_headcount(turn, state, activity)
    elif typed in REDO_WORDS:
        await go(turn, activity, Step.HEADCOUNT, data_of(state))
    elif parse_headcount(typed)[0] is not None:
        await answer(turn, state, activity, BY_STEP[Step.HEADCOUNT], typed)
    else:
        await ask(turn, activity, Step.CONFIRM_HEADCOUNT, state)


async def confirm_headcount(turn: Turn) -> None:
    """确认 / 重新填写 pressed under a large headcount."""
    found = await pressed(turn, rb.HEADCOUNT, steps=(Step.CONFIRM_HEADCOUNT,))
    if found is None:
        return
    activity, button = found
    assert button is not None
    state = await presser_state(turn)
    echo_choice(turn)
    if button.confirmed:
        await _confirmed_headcount(turn, state, activity)
    else:
        await go(turn, activity, Step.HEADCOUNT, data_of(state))


async def _confirmed_headcount(turn: Turn, state: ChatState, activity: Activity) -> None:
    data = data_of(state)
    if data.headcount is None:
        await go(turn, activity, Step.HEADCOUNT, data)
        return
    await store(turn, state, activity, Step.HEADCOUNT, data.headcount)


# ---------------------------------------------------------------------------------------------
# storing an answer


async def store(turn: Turn, state: ChatState, activity: Activity, step: Step, value: Any) -> None:
    """Commit one answer and move on: to the next question, or back to the card when fixing.

    A submitted report is changed only if nobody changed it since this editor opened it;
    otherwise they see the current value and are asked again.
    """
    assert turn.member is not None
    field, tz = BY_STEP[step].field, turn.settings.tz
    data = data_of(state)
    if activity.status == ActivityStatus.DRAFT:
        saved = await change.answer(turn.session, turn.actor, activity, field, value, tz=tz)
    else:
        saved = await change.amend(
            turn.session,
            turn.actor,
            activity,
            field,
            value,
            opened=data.version if data.version is not None else activity.version,
            tz=tz,
            today=turn.today,
            years=turn.settings.years,
        )
        if saved.outcome == change.Edit.CONFLICT:
            log.info("amend conflict on activity %s (member %s)", activity.id, turn.member.id)
            await _tell_conflict(turn, state, activity, step)
            return
        if saved.done:
            data.version = saved.version
            save_data(state, data)
    if not saved.done:
        refuse(turn, saved.key)
        return
    # After the date, the window is told above the next question (or the card): one message.
    window = (
        _window(turn, activity, value) if step == Step.DATE and isinstance(value, date) else None
    )
    if data.back_to_card:
        if activity.status != ActivityStatus.DRAFT:
            if window is not None:
                turn.reply(window)  # before "saved", as it always was
                window = None
            turn.reply(turn.t("amend_saved"))
        await go(turn, activity, Step.REVIEW, data, lead=window)
    else:
        await go(turn, activity, next_step(step), lead=window)


def _window(turn: Turn, activity: Activity, value: date) -> Raw | None:
    """After the date: when the 3-day window closes, or that it has closed (late)."""
    closes = window_closes_at(value, turn.settings.tz)
    if turn.now >= closes:
        closed = format_date(value + timedelta(days=3), turn.lang)
        return turn.t("date_late_warning", closed=closed)
    if activity.status == ActivityStatus.DRAFT:
        return turn.t(
            "date_window_ok",
            closes=format_datetime(closes - timedelta(minutes=1), turn.settings.tz, turn.lang),
        )
    return None


async def _tell_conflict(turn: Turn, state: ChatState, activity: Activity, step: Step) -> None:
    """Someone saved the report after this editor opened it: show what it says now, ask again."""
    q = BY_STEP[step]
    current = answer_value(turn.lang, q, activity, CARD_CONTENT_CHARS)
    turn.reply(
        turn.t(
            "amend_conflict",
            field=turn.label(q.label),
            current=turn.label("card_missing") if current is None else current,
        )
    )
    # They have now been shown the report as it is: their next answer may replace it.
    data = data_of(state)
    data.version = activity.version
    await go(turn, activity, step, data)
