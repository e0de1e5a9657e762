"""The summary card's buttons: 提交, 修改 (the list of fields, one field fixed), 返回, 取消,
and the end of an amendment (修改完成); /cancel's 保留草稿 / 放弃草稿."""

from __future__ import annotations

from core import report_buttons as rb
from core import review_buttons as rv
from core.callbacks import Id
from core.report_steps import ReportData, Step, question
from core.texts import Raw
from handlers.common import Turn
from handlers.deliveries import wake_sender
from handlers.report.access import FLOW, data_of, pressed, refuse
from handlers.report.ask import card_buttons, field_buttons, go, render_card
from scheduler.rows import Timing
from services import report as change
from storage import chat_state, review
from storage.models import Activity


async def submit_report(turn: Turn) -> None:
    """提交: store as submitted and give the reference number; a report that looks like one
    already submitted (same association and date, similar name) is shown first, with 仍然提交
    (this handler again, past the check) and 查看那条."""
    anyway = rv.DUPLICATE_SUBMIT.parse(turn.pressed) is not None
    if anyway:
        again = await pressed(turn, rv.DUPLICATE_SUBMIT, steps=(Step.REVIEW,), drafts_only=True)
        activity = again[0] if again else None
    else:
        found = await pressed(turn, rb.SUBMIT, steps=(Step.REVIEW,), drafts_only=True)
        activity = found[0] if found else None
    if activity is None or turn.member is None:
        return
    if not anyway and (twin := await review.find_duplicate(turn.session, activity)) is not None:
        warning = turn.t("dup_warning", ref=twin.ref_no or "", name=twin.name or "")
        submit = rv.DUPLICATE_SUBMIT.pack(rv.OnDraft(activity.id))
        view = rv.DUPLICATE_VIEW.pack(Id(twin.id))
        turn.edit(
            render_card(turn, activity) + "\n\n" + warning,
            [
                [(turn.label("dup_btn_submit"), submit), (turn.label("dup_btn_view"), view)],
                *card_buttons(turn, activity)[1:],
            ],
        )
        return
    done = await change.submit(
        turn.session,
        turn.actor,
        activity.id,
        tz=turn.settings.tz,
        today=turn.today,
        years=turn.settings.years,
        timing=Timing.from_settings(turn.settings),
    )
    if done.outcome == change.Outcome.INCOMPLETE and done.step is not None:
        label = turn.label(f"label_{done.step}")
        turn.notice(turn.t("incomplete", fields=label), alert=True)
        return
    if done.outcome == change.Outcome.EXPIRED:  # submitted by a press that came first
        turn.notice(turn.t("button_expired"))
        return
    if not done.done:
        turn.notice(turn.t(done.key or "not_found_or_denied"), alert=True)
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    # The district's card is queued with the submit itself and sent as soon as it commits.
    if done.queued:
        wake_sender(turn)
    text = turn.t("submitted", ref=activity.ref_no, district=activity.organisation.district.name)
    if not activity.on_time:
        text = Raw(text + turn.t("submitted_late", days=activity.late_days))
    # One call: the card, its buttons gone, with the confirmation under it.
    turn.edit(Raw(render_card(turn, activity) + "\n\n" + text))


async def ask_field_to_fix(turn: Turn) -> None:
    """修改: which answer to change."""
    found = await pressed(turn, rb.EDIT, steps=(Step.REVIEW,))
    if found is None:
        return
    activity = found[0]
    turn.edit(
        render_card(turn, activity) + "\n\n" + turn.t("edit_pick"), field_buttons(turn, activity)
    )


async def begin_amend(turn: Turn, activity: Activity) -> None:
    """修改 on a submitted report (from /mine): the card's list of fields, in amend mode."""
    assert turn.member is not None
    # The version seen now: an amendment saved by someone else meanwhile is not overwritten.
    data = ReportData(amend=True, version=activity.version)
    await chat_state.set_state(
        turn.session, turn.member.id, FLOW, Step.REVIEW, activity.id, data.to_json()
    )
    # Straight to the list of fields: the card is already on screen.
    turn.edit(
        render_card(turn, activity) + "\n\n" + turn.t("edit_pick"), field_buttons(turn, activity)
    )


async def fix_field(turn: Turn) -> None:
    """A field from the 修改 list: ask only that question, then come back to the card."""
    found = await pressed(turn, rb.FIX, steps=(Step.REVIEW,))
    if found is None or turn.member is None:
        return
    activity, button = found
    assert button is not None
    q = question(button.step)
    if q is None:
        turn.notice(turn.t("button_expired"))
        return
    data = data_of(await chat_state.get_state(turn.session, turn.member.id))
    data.editing = True
    turn.close_buttons()
    await go(turn, activity, q.step, data)


async def show_card(turn: Turn) -> None:
    """返回 from the field list or the cancel question: the card again."""
    found = await pressed(turn, rb.CARD, steps=(Step.REVIEW,))
    if found is None:
        return
    activity = found[0]
    turn.edit(render_card(turn, activity), card_buttons(turn, activity))


async def finish_amend(turn: Turn) -> None:
    """修改完成 on a submitted report's card: leave the flow; every change is already saved."""
    found = await pressed(turn, rb.AMENDED, steps=(Step.REVIEW,))
    if found is None or turn.member is None:
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.edit(render_card(turn, found[0]))
    turn.reply(turn.t("amend_done"))


async def ask_cancel(turn: Turn) -> None:
    """取消 on the card: ask before throwing anything away."""
    found = await pressed(turn, rb.CANCEL, steps=(Step.REVIEW,))
    if found is None:
        return
    activity = found[0]
    turn.edit(
        render_card(turn, activity) + "\n\n" + turn.t("cancel_confirm"),
        [
            [
                (turn.label("btn_cancel_yes"), rb.DISCARD.pack(activity=activity.id)),
                (turn.label("btn_cancel_no"), rb.CARD.pack(activity=activity.id)),
            ]
        ],
    )


async def discard_draft(turn: Turn) -> None:
    """确认放弃 / 放弃草稿: the draft is marked cancelled and the flow ends."""
    found = await pressed(turn, rb.DISCARD, steps=None, drafts_only=True)
    if found is None or turn.member is None:
        return
    discarded = await change.discard_draft(turn.session, turn.actor, found[0])
    if discarded.outcome == change.Edit.EXPIRED:  # submitted or discarded by a press before
        turn.notice(turn.t("button_expired"))
        return
    if not discarded.done:
        refuse(turn, discarded.key)
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.edit(turn.t("report_cancelled"))


async def keep_draft(turn: Turn) -> None:
    """保留草稿 after /cancel: leave the flow, keep every answer."""
    found = await pressed(turn, rb.KEEP, steps=None, drafts_only=True)
    if found is None or turn.member is None:
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.edit(turn.t("draft_kept"))
