"""Who may act on a report now, and the report a pressed button names.

Every id in a button is checked again on press: the button may be old, forged, or its presser's
membership may have ended since it was drawn.
"""

from __future__ import annotations

import logging
from typing import Protocol, TypeVar

from core.callbacks import Codec
from core.enums import ActivityStatus
from core.report_steps import ReportData, Step
from handlers.common import Turn
from services import report as change
from storage import chat_state, reports
from storage.members import held_activity
from storage.models import Activity, ChatState, Organisation

log = logging.getLogger(__name__)

FLOW = "report"


class NamesReport(Protocol):
    """A report button's value: every ``rep:<id>:…`` codec's dataclass has the report's id."""

    @property
    def activity(self) -> int:
        """The activity id."""
        ...


B = TypeVar("B", bound=NamesReport)


def data_of(state: ChatState | None) -> ReportData:
    """The typed ``chat_states.data`` of the report flow."""
    return ReportData.from_json(state.data if state is not None else None)


def save_data(state: ChatState, data: ReportData) -> None:
    """Store ``data`` in the state (a new dict, so the JSON column sees the change)."""
    state.data = data.to_json()


async def may_report_for(turn: Turn, org_id: int) -> bool:
    """Whether the member may start a report for the association now
    (:func:`services.report.may_start`, the rule its use case applies)."""
    org = await reports.org_of(turn.session, org_id)
    return org is not None and change.may_start(turn.actor, org)


def may_amend(turn: Turn, activity: Activity, *, withdrawing: bool = False) -> bool:
    """Whether the member may change, withdraw or resubmit a report now
    (:func:`services.report.may_change`, the rule its use cases apply)."""
    return change.may_change(
        turn.actor,
        activity,
        today=turn.today,
        years=turn.settings.years,
        withdrawing=withdrawing,
    )


def may_edit(turn: Turn, activity: Activity) -> bool:
    """A draft is its author's alone; a submitted report follows :func:`may_amend`
    (:func:`services.report.may_edit`, the rule the use cases that change it apply)."""
    return change.may_edit(turn.actor, activity, today=turn.today, years=turn.settings.years)


def refuse(turn: Turn, key: str | None) -> None:
    """Say a use case's refusal (a press that came between this update's check and its
    write): a toast under a button, a reply to a message."""
    text = turn.t(key or "not_found_or_denied")
    if turn.is_button:
        turn.notice(text, alert=True)
    else:
        turn.reply(text)


async def presser_state(turn: Turn) -> ChatState:
    """The state of whoever pressed (an org admin amends a report someone else wrote)."""
    assert turn.member is not None
    state = await chat_state.get_state(turn.session, turn.member.id)
    assert state is not None  # pressed() checked it
    return state


async def _ended_org(turn: Turn, activity: Activity) -> Organisation | None:
    """The report's association, if the member's role there was removed."""
    assert turn.member is not None
    for org in await reports.ended_orgs(turn.session, turn.member.id):
        if org.id == activity.org_id:
            return org
    return None


async def tell_if_ended(turn: Turn, activity: Activity, *, toast: bool = False) -> bool:
    """Say that the member's membership of the report's association ended (and how to get a
    new invitation) instead of "not found"; their draft there is set aside, since nobody can
    finish it. False when that is not why they may not act on it."""
    org = await _ended_org(turn, activity)
    if org is None:
        return False
    assert turn.member is not None
    log.info("member %s acted on activity %s after removal", turn.member.id, activity.id)
    set_aside = await change.set_aside_draft(turn.session, turn.actor, activity)
    if set_aside.done:
        state = await chat_state.get_state(turn.session, turn.member.id)
        if state is not None and state.activity_id == activity.id:
            await chat_state.clear_state(turn.session, turn.member.id)
        text = turn.t(
            "membership_ended_draft",
            org=org.name,
            name=activity.name or turn.label("report_untitled"),
        )
    else:
        text = turn.t("membership_ended", org=org.name)
    if toast:
        turn.notice(text, alert=True)
    else:
        turn.reply(text)
    return True


async def pressed(
    turn: Turn,
    codec: Codec[B],
    *,
    steps: tuple[Step, ...] | None,
    drafts_only: bool = False,
    activity_id: int | None = None,
) -> tuple[Activity, B | None] | None:
    """The activity a ``rep:<id>:…`` button names (with the button's typed value), if the
    presser may still act on it now; None after telling them why not.

    ``activity_id`` is given instead of reading the button when another flow's button (a
    reminder's 继续) leads here; the value is then None.
    """
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return None
    value: B | None = None
    if activity_id is None:
        value = turn.button(codec)
        if value is None:
            return None
        activity_id = value.activity
    # The conversation's activity came with the member (the unit of work): no second query.
    activity = held_activity(turn.session, activity_id) or await reports.load_activity(
        turn.session, activity_id
    )
    if activity is None or not may_edit(turn, activity):
        if activity is None or not await tell_if_ended(turn, activity, toast=True):
            turn.notice(turn.t("not_found_or_denied"), alert=True)
        return None
    if drafts_only and activity.status != ActivityStatus.DRAFT:
        turn.notice(turn.t("button_expired"))
        return None
    if steps is not None:
        state = await chat_state.get_state(turn.session, turn.member.id)
        if (
            state is None
            or state.flow != FLOW
            or state.activity_id != activity.id
            or state.step not in steps
        ):
            turn.notice(turn.t("button_expired"))
            return None
    return activity, value
