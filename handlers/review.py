"""Review (审核): 通过 / 退回 on a delivery card and in /review (the list itself is
:mod:`handlers.review_queue`), the reason of a return (flow ``review``, step ``reason``; it
lapses after :data:`REASON_MINUTES` or at any other command or button), and on the author's
side 去修改 / 重新提交 of a returned report.

Buttons are the codecs of :mod:`core.review_buttons`; every change of a review state (its lock,
policy check, audit entry and queued messages) is a use case of :mod:`services.review`, whose
result this module renders. The flow is drawn in ``review.mmd``.

Nothing of the pressed message is read: a button pressed on a /review page carries that page
(:data:`core.review_buttons.APPROVE_QUEUED`), and the delivery card a decision is shown on is the
one the outbox sent to this chat (:mod:`storage.delivered`), found by the report and rendered
again from its row before the decision changes what it says.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import review_buttons as rv
from core.address import Address
from core.callbacks import Codec, Id
from core.enums import ActivityStatus
from core.policy import Action, allowed
from core.report_steps import ReportData, Step
from core.review_rules import ReviewState, check_reason
from core.rules import format_datetime, shorten
from core.texts import Raw
from handlers.common import Turn
from handlers.deliveries import wake_sender
from handlers.mine import pressed_report
from handlers.port import ChannelFailure
from handlers.report import FLOW as REPORT_FLOW
from handlers.report import field_buttons, render_card
from handlers.review_queue import show_queue
from scheduler import outbox
from scheduler.messenger import Outgoing
from scheduler.render import compose
from scheduler.rows import DELIVERY_KINDS, Timing
from services import review as decide
from storage import chat_state, reports, review
from storage.delivered import DeliveredCard, delivered_card
from storage.models import Activity, ChatState
from storage.reports import report_target

log = logging.getLogger(__name__)

FLOW = "review"
NAME_CHARS = 40
# A 退回 waits this long for its reason; any other command or button cancels it sooner, so a
# remark typed later never reaches a reporter as the reason of a return pressed by accident.
REASON_MINUTES = 10


class ReviewStep(enum.StrEnum):
    """The stored steps of the ``review`` flow (drawn in review.mmd)."""

    REASON = "reason"  # 退回 pressed: the reason is being typed


# ---------------------------------------------------------------------------------------------
# the reviewer: 通过 / 退回


@dataclass(frozen=True)
class _Pressed:
    """通过 or 退回 as pressed: the report, and the /review page it was shown on (None: on a
    delivery card, or a digest)."""

    id: int
    page: int | None


def _pressed(turn: Turn, on_card: Codec[Id], on_page: Codec[rv.QueuedReport]) -> _Pressed | None:
    """What the pressed 通过 / 退回 names, from its own data (None, answered as an expired
    button, when it is neither kind)."""
    queued = on_page.parse(turn.pressed)
    if queued is not None:
        return _Pressed(queued.id, max(1, queued.page))
    pressed = turn.button(on_card)
    return None if pressed is None else _Pressed(pressed.id, None)


@dataclass(frozen=True)
class _Card:
    """The delivery card of a report in this chat: the outbox row that sent it, and its text
    as it reads while the report waits for review."""

    row: DeliveredCard
    text: str


async def _delivered(turn: Turn, activity_id: int) -> _Card | None:
    """The card the outbox delivered of the report to this chat, rendered again from its row
    (None when none was: the report reached this admin in a digest, or not at all)."""
    row = await delivered_card(turn.session, turn.address, activity_id, DELIVERY_KINDS, outbox.SENT)
    if row is None:
        return None
    timing = Timing.from_settings(turn.settings)
    message = await compose(turn.session, row.kind, row.payload, turn.lang, timing)
    if not isinstance(message, Outgoing):  # its report is gone
        return None
    return _Card(row, message.text)


async def _reviewable(turn: Turn, pressed: _Pressed | None) -> Activity | None:
    """The report a review button names, if the presser may review it (a refusal reads the
    same as a report that does not exist)."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return None
    if pressed is None:
        return None
    activity = await reports.load_activity(turn.session, pressed.id)
    if (
        activity is None
        or activity.status in (ActivityStatus.DRAFT, ActivityStatus.CANCELLED)
        or not allowed(turn.actor, Action.REVIEW_REPORT, report_target(activity))
    ):
        turn.notice(turn.t("not_found_or_denied"), alert=True)
        return None
    return activity


def _outcome(turn: Turn, decided: decide.ReviewResult, reason: str | None) -> Raw:
    when = format_datetime(decided.at, turn.settings.tz, turn.lang) if decided.at else ""
    if decided.state == ReviewState.RETURNED:
        return turn.t(
            "review_outcome_returned", by=decided.by or "", when=when, reason=reason or ""
        )
    return turn.t("review_outcome_approved", by=decided.by or "", when=when)


def _already(turn: Turn, activity: Activity, by: str | None) -> Raw:
    """Decided (or withdrawn) before this press: who decided, when, and what."""
    state = _state_label(turn, activity)
    # A withdrawn report was withdrawn, not decided: never name the last reviewer for it.
    if by and activity.reviewed_at is not None and activity.status == ActivityStatus.SUBMITTED:
        when = format_datetime(activity.reviewed_at, turn.settings.tz, turn.lang)
        return turn.t("review_already", by=by, when=when, state=state)
    return turn.t("review_already_state", state=state)


def _told(turn: Turn, result: decide.ReviewResult) -> Raw:
    """A press that changed nothing, as the use case says why: refused, decided (or withdrawn)
    first by someone else — who, when, and what — or (重新提交) not returned or unchanged."""
    key = result.key or decide.NOT_FOUND
    if result.outcome != decide.Outcome.ALREADY:
        return turn.t(key)
    state = turn.label(result.standing)
    if key == "review_already" and result.at is not None:
        when = format_datetime(result.at, turn.settings.tz, turn.lang)
        return turn.t(key, by=result.by or "", when=when, state=state)
    return turn.t("review_already_state", state=state)


def _state_label(turn: Turn, activity: Activity) -> str:
    """Where the report stands now: its review state, or its status once no longer submitted."""
    if activity.status != ActivityStatus.SUBMITTED:
        return turn.label(f"status_{activity.status}")
    return turn.label(f"review_state_{activity.review_state or 'pending'}")


def _named(activity: Activity) -> dict[str, str]:
    """The reference and the (shortened) name a sentence about the report shows."""
    return {"ref": activity.ref_no or "", "name": shorten(activity.name or "", NAME_CHARS)}


async def _told_already(turn: Turn, activity: Activity) -> None:
    """An outdated button: who decided, when, and what (the card shows it too)."""
    turn.notice(
        _already(turn, activity, await review.decided_by(turn.session, activity)), alert=True
    )


async def approve_pressed(turn: Turn) -> None:
    """通过 on a delivery card: approved, and the card says by whom."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return
    pressed = _pressed(turn, rv.APPROVE, rv.APPROVE_QUEUED)
    if pressed is None:
        return
    # The card as it reads while the report waits, before the decision changes that.
    card = await _delivered(turn, pressed.id) if pressed.page is None else None
    decided = await decide.approve(turn.session, turn.actor, pressed.id)
    activity = decided.activity
    if not decided.done or activity is None:  # refused, or decided first by someone else
        turn.notice(_told(turn, decided), alert=True)
        return
    turn.notice(turn.t("review_approved_toast", ref=activity.ref_no or ""))
    if pressed.page is not None:
        await show_queue(turn, pressed.page)
        return
    if card is not None:
        _edit_card(turn, card, _outcome(turn, decided, None), resend=True)


async def ask_reason(turn: Turn) -> None:
    """退回 on a card or in /review: ask for the reason (stored: a restart keeps the step)."""
    pressed = _pressed(turn, rv.RETURN, rv.RETURN_QUEUED) if turn.member is not None else None
    activity = await _reviewable(turn, pressed)
    if activity is None or pressed is None or turn.member is None:
        return
    if activity.review_state != ReviewState.PENDING:
        await _told_already(turn, activity)
        return
    note = await _switched(turn, activity)
    # When and on which update the reason was asked, and the report's version as the admin saw
    # it: a reason coming after another update, too late, or for a changed report is no reason.
    # Pressed on a card (not on /review): its card shows the outcome once the reason came.
    data: dict[str, object] = {
        "asked": turn.now.isoformat(),
        "update": turn.update_key,
        "version": activity.version,
        "card": pressed.page is None,
    }
    await chat_state.set_state(
        turn.session, turn.member.id, FLOW, ReviewStep.REASON, activity.id, data
    )
    ask = turn.t("review_ask_reason", **_named(activity), minutes=REASON_MINUTES)
    turn.reply(Raw(note + "\n\n" + ask) if note else ask)


async def _switched(turn: Turn, activity: Activity) -> str:
    """退回 pressed on another report while one waited for its reason: that one is cancelled,
    and the sentence says so (empty when nothing was waiting)."""
    assert turn.member is not None
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW or state.activity_id in (None, activity.id):
        return ""
    earlier = await reports.load_activity(turn.session, state.activity_id or 0)
    return turn.t("review_return_switched", **_named(earlier)) if earlier is not None else ""


def _lapsed(turn: Turn, data: dict[str, object]) -> str | None:
    """Why a waiting 退回 no longer takes a reason (a catalog key), or None while it does: the
    admin used another command or button since (the account's last update is not the one
    that asked, or the last refused reason), or more than :data:`REASON_MINUTES` passed."""
    assert turn.member is not None
    account = turn.member.account(turn.address.channel)
    last = account.last_update_id if account is not None else None
    asked_on = data.get("update")  # the key as text (a number before the port)
    if asked_on is not None and last is not None and str(last) != str(asked_on):
        return "review_return_interrupted"
    asked = data.get("asked")
    waited = turn.now - datetime.fromisoformat(asked) if isinstance(asked, str) else None
    if waited is not None and waited > timedelta(minutes=REASON_MINUTES):
        return "review_return_expired"
    return None


async def _stale(turn: Turn, activity: Activity, data: dict[str, object]) -> Raw | None:
    """Why the report cannot be returned with this reason any more, as a whole sentence naming
    it and where it stands (None: it can)."""
    if activity.status == ActivityStatus.WITHDRAWN:
        return turn.t("review_return_withdrawn", **_named(activity))
    if activity.status != ActivityStatus.SUBMITTED or (
        activity.review_state != ReviewState.PENDING
    ):
        return _already(turn, activity, await review.decided_by(turn.session, activity))
    seen = data.get("version")
    if isinstance(seen, int) and activity.version != seen:
        return turn.t(
            "review_return_changed", **_named(activity), state=_state_label(turn, activity)
        )
    return None


async def receive_reason(turn: Turn, state: ChatState) -> None:
    """The typed reason (:func:`core.review_rules.check_reason`), then the report is returned;
    unless the 退回 lapsed or the report changed meanwhile: then nothing is returned, and the
    admin is told so in a sentence naming the report."""
    assert turn.member is not None
    data = dict(state.data or {})
    activity = await reports.load_activity(turn.session, state.activity_id or 0)
    if activity is None or not allowed(turn.actor, Action.REVIEW_REPORT, report_target(activity)):
        await chat_state.clear_state(turn.session, turn.member.id)
        turn.reply(turn.t("not_found_or_denied"))
        return
    lapsed = _lapsed(turn, data)
    if lapsed is not None:
        await chat_state.clear_state(turn.session, turn.member.id)
        state_now = _state_label(turn, activity)
        turn.reply(turn.t(lapsed, **_named(activity), state=state_now, minutes=REASON_MINUTES))
        return
    text = turn.text
    reason, error = check_reason(text) if text is not None else (None, "expect_text")
    if error is not None or reason is None:
        # Still waiting for the reason: this message is part of the 退回, not another action.
        data["update"] = turn.update_key
        await chat_state.set_state(
            turn.session, turn.member.id, FLOW, ReviewStep.REASON, activity.id, data
        )
        turn.reply(turn.t(error or "review_reason_short"))
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    stale = await _stale(turn, activity, data)
    if stale is not None:
        turn.reply(stale)
        return
    # A 退回 asked before this version held the card's HTML in "card": also pressed on a card.
    card = await _delivered(turn, activity.id) if data.get("card") else None
    decided = await decide.return_report(
        turn.session, turn.actor, activity.id, reason, timing=Timing.from_settings(turn.settings)
    )
    if not decided.done:  # decided meanwhile (the result says how): no return, no notice
        turn.reply(_told(turn, decided))
        return
    # The reporter's 退回 message was queued with the return: it leaves once this commits.
    if decided.queued:
        wake_sender(turn)
    if card is not None:
        # The card first: the confirmation below is the last thing the reviewer sees.
        _edit_card(turn, card, _outcome(turn, decided, reason), resend=False)
    turn.reply(turn.t("review_returned_done", ref=activity.ref_no or ""))


def _edit_card(turn: Turn, card: _Card, outcome: str, *, resend: bool) -> None:
    """The delivery card now shows the outcome, without its buttons: edited in place, after
    the commit; on a channel that cannot edit a message, sent anew. ``resend``: a card the
    channel refuses to edit (gone, too old) is sent anew too (after 通过, as an edit of the
    pressed message always was); after 退回 it is left as it is."""
    text = turn.fit(card.text + "\n\n" + outcome)
    front, update_id = turn.front, turn.update_key
    where: Address = card.row.to
    ref = card.row.message_ref

    async def _edit() -> None:
        try:
            if front.caps.can_edit:
                try:
                    await front.edit(where, ref, text)
                    return
                except ChannelFailure as exc:
                    if not resend or exc.transient:
                        raise
            await front.send(where, text)
        except ChannelFailure as exc:  # the card is a convenience; the decision is committed
            log.info(
                "update %s: card not edited (%s)", update_id, type(exc.__cause__ or exc).__name__
            )

    turn.later(_edit)


async def cancel_reason(turn: Turn, state: ChatState) -> None:
    """/cancel while typing a reason: nothing returned, the report stays pending."""
    assert turn.member is not None
    await chat_state.clear_state(turn.session, turn.member.id)
    activity = await reports.load_activity(turn.session, state.activity_id or 0)
    if activity is None:
        turn.reply(turn.t("flow_left"))
    elif activity.status == ActivityStatus.SUBMITTED and (
        activity.review_state == ReviewState.PENDING
    ):
        turn.reply(turn.t("review_return_cancelled", ref=activity.ref_no or ""))
    else:  # withdrawn or decided meanwhile: "still pending" would be wrong
        turn.reply(turn.t("review_return_switched", **_named(activity)))


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Ask for the reason again (after a crash re-delivered an update)."""
    activity = await reports.load_activity(turn.session, state.activity_id or 0)
    if activity is not None:
        ask = turn.t("review_ask_reason", **_named(activity), minutes=REASON_MINUTES)
        turn.reply(ask)


# ---------------------------------------------------------------------------------------------
# the author and the org admins: 去修改 / 重新提交


async def amend_returned(turn: Turn) -> None:
    """去修改 on a return: the report's card in amend mode, as a new message (the return, with
    its 重新提交, stays above it)."""
    activity = await pressed_report(turn, rv.AMEND, Action.EDIT_REPORT, ActivityStatus.SUBMITTED)
    if activity is None or turn.member is None:
        return
    data = ReportData(amend=True, version=activity.version)
    await chat_state.set_state(
        turn.session, turn.member.id, REPORT_FLOW, Step.REVIEW, activity.id, data.to_json()
    )
    turn.reply(
        render_card(turn, activity) + "\n\n" + turn.t("edit_pick"), field_buttons(turn, activity)
    )


async def resubmit_returned(turn: Turn) -> None:
    """重新提交 a returned report after at least one change: pending again, the district gets
    the changes."""
    activity = await pressed_report(turn, rv.RESUBMIT, Action.EDIT_REPORT, ActivityStatus.SUBMITTED)
    if activity is None or turn.member is None:
        return
    resubmitted = await decide.resubmit(
        turn.session, turn.actor, activity.id, timing=Timing.from_settings(turn.settings)
    )
    if not resubmitted.done:  # not returned (any more), or nothing corrected since the return
        turn.notice(_told(turn, resubmitted), alert=True)
        return
    if resubmitted.queued:  # the correction's card, queued with it
        wake_sender(turn)
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is not None and state.flow == REPORT_FLOW and state.activity_id == activity.id:
        await chat_state.clear_state(turn.session, turn.member.id)  # the amendment is over
    turn.close_buttons()
    turn.reply(
        turn.t(
            "review_resubmitted",
            ref=activity.ref_no or "",
            district=activity.organisation.district.name,
        )
    )


async def view_duplicate(turn: Turn) -> None:
    """查看那条 at 提交: the earlier report that the draft may repeat."""
    activity = await pressed_report(turn, rv.DUPLICATE_VIEW, Action.VIEW_REPORTS)
    if activity is None:
        return
    turn.reply(render_card(turn, activity))
