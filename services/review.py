"""Review (审核) as use cases: a reviewer's 通过 and 退回, the reporter's 重新提交 of a returned
report. The chat (a button, a typed reason, /review's 确认全部通过) and the console (its two
forms) call these and render the :class:`ReviewResult`; none of them changes a review state
itself.

Each use case, in the session its front opened (it flushes, never commits):

1. locks the report (:func:`storage.locks.lock_report`: PostgreSQL holds it until the
   transaction ends; on SQLite the writer lock of :mod:`storage.db` makes writers take turns),
   so two admins deciding one report at once, in two chats or in a chat and the console, take
   turns, and the second one reads the first one's committed decision;
2. loads the report and asks the policy (``REVIEW_REPORT`` for a decision, ``EDIT_REPORT`` for
   a resubmission): a missing report, a draft, or one outside the actor's districts is one
   refusal, :data:`NOT_FOUND`, whichever it is;
3. checks the state: a report no longer pending (decided, or withdrawn) answers
   :attr:`Outcome.ALREADY` with who decided and when, for the front's one "已由…处理" sentence;
4. changes it through :mod:`storage.review` (a conditional update: the last guard, should a
   writer that takes no lock have come between), which writes the audit entry;
5. queues the outbox rows of the event (the reporter's 退回 message, the district's card of
   the correction) with :func:`services.notices.queue_event_notices`, under the tick's own
   keys, in the same transaction. The front wakes the sender after its commit when
   :attr:`ReviewResult.queued` says something was queued.

An approval queues nothing: no message announces it (the card is edited in place, the
reporter sees it in 我的报送).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus
from core.policy import Action, Actor, allowed
from core.review_rules import ReviewState, check_reason
from scheduler.rows import Timing
from services.notices import queue_event_notices
from storage import reports, review
from storage.locks import lock_report
from storage.models import Activity
from storage.reports import report_target

__all__ = [
    "NOT_FOUND",
    "Outcome",
    "ReviewResult",
    "approve",
    "resubmit",
    "return_report",
]

#: The refusal's catalog key: a missing report and a forbidden one read the same.
NOT_FOUND = "not_found_or_denied"
# A draft is its author's business; a cancelled draft never was a report.
_HIDDEN = (ActivityStatus.DRAFT, ActivityStatus.CANCELLED)


class Outcome(enum.StrEnum):
    """What became of a press."""

    DONE = "done"
    REFUSED = "refused"  # missing, a draft, or not the actor's to review / resubmit
    ALREADY = "already"  # no longer pending: decided (or withdrawn) before this press
    INVALID = "invalid"  # 退回: the reason is too short, too long or says nothing
    NOT_RETURNED = "not_returned"  # 重新提交: the report is not (or no longer) returned
    UNCHANGED = "unchanged"  # 重新提交: nothing was corrected since the return


@dataclass(frozen=True)
class ReviewResult:
    """The outcome of 通过 / 退回 / 重新提交, for the front to render.

    ``key`` is the catalog key of the sentence for anything but :attr:`Outcome.DONE`
    (``review_already`` takes ``by``, ``when`` and ``state``; ``review_already_state`` takes
    ``state``; ``state`` is the catalog label :attr:`standing`). ``state``, ``by`` and ``at``
    are the report's review state now and who put it there when: the decision just made, or
    the one made first by someone else."""

    outcome: Outcome
    activity: Activity | None = None
    key: str | None = None
    state: str | None = None
    by: str | None = None
    at: datetime | None = None
    queued: int = 0  # outbox rows queued with the event (the front wakes the sender after commit)

    @property
    def done(self) -> bool:
        """Whether this press changed the report."""
        return self.outcome == Outcome.DONE

    @property
    def standing(self) -> str:
        """The catalog label of where the report stands: its status once no longer submitted
        (已撤回 …), else its review state."""
        activity = self.activity
        if activity is not None and activity.status != ActivityStatus.SUBMITTED:
            return f"status_{activity.status}"
        return f"review_state_{self.state or ReviewState.PENDING}"


async def _locked(
    session: AsyncSession, actor: Actor, report_id: int, action: Action
) -> Activity | ReviewResult:
    """The report, locked and read as committed now, if ``actor`` may do ``action`` to it;
    otherwise the refusal."""
    await lock_report(session, report_id)
    # populate_existing: the front may have loaded it before the lock; these are the
    # database's values now.
    activity = await reports.load_activity(session, report_id)
    if (
        activity is None
        or activity.status in _HIDDEN
        or not allowed(actor, action, report_target(activity))
    ):
        return ReviewResult(Outcome.REFUSED, activity=None, key=NOT_FOUND)
    return activity


async def _already(session: AsyncSession, activity: Activity) -> ReviewResult:
    """Decided (or withdrawn) before this press: who decided, when, and what. A withdrawn
    report was withdrawn, not decided: its last reviewer is never named for it."""
    by = await review.decided_by(session, activity)
    at = activity.reviewed_at
    named = by is not None and at is not None and activity.status == ActivityStatus.SUBMITTED
    return ReviewResult(
        Outcome.ALREADY,
        activity,
        key="review_already" if named else "review_already_state",
        state=activity.review_state,
        by=by,
        at=at,
    )


def _pending(activity: Activity) -> bool:
    return (
        activity.status == ActivityStatus.SUBMITTED and activity.review_state == ReviewState.PENDING
    )


async def approve(
    session: AsyncSession, actor: Actor, report_id: int, *, now: datetime | None = None
) -> ReviewResult:
    """通过: a pending report of the actor's districts is approved (audited)."""
    found = await _locked(session, actor, report_id, Action.REVIEW_REPORT)
    if isinstance(found, ReviewResult):
        return found
    if not _pending(found):
        return await _already(session, found)
    decided = await review.approve(session, found, actor.member_id, now)
    if not decided.done:
        return await _already(session, found)
    return ReviewResult(Outcome.DONE, found, state=decided.state, by=decided.by, at=decided.at)


async def return_report(
    session: AsyncSession,
    actor: Actor,
    report_id: int,
    reason: str,
    *,
    timing: Timing,
    now: datetime | None = None,
) -> ReviewResult:
    """退回 with a reason (:func:`core.review_rules.check_reason`; the reason as typed): the
    report is returned (audited) and the message to its author and the association's admins is
    queued with it."""
    found = await _locked(session, actor, report_id, Action.REVIEW_REPORT)
    if isinstance(found, ReviewResult):
        return found
    if not _pending(found):
        return await _already(session, found)
    checked, error = check_reason(reason)
    if error is not None or checked is None:
        return ReviewResult(
            Outcome.INVALID, found, key=error or "review_reason_short", state=found.review_state
        )
    decided = await review.return_report(session, found, actor.member_id, checked, now)
    if not decided.done:
        return await _already(session, found)
    queued = await queue_event_notices(session, found, (review.RETURN,), timing, now)
    return ReviewResult(
        Outcome.DONE, found, state=decided.state, by=decided.by, at=decided.at, queued=queued
    )


async def resubmit(
    session: AsyncSession,
    actor: Actor,
    report_id: int,
    *,
    timing: Timing,
    now: datetime | None = None,
) -> ReviewResult:
    """重新提交 a returned report corrected at least once since its return: pending again
    (audited), and the correction's card for the district queued with it."""
    found = await _locked(session, actor, report_id, Action.EDIT_REPORT)
    if isinstance(found, ReviewResult):
        return found
    if found.status != ActivityStatus.SUBMITTED or found.review_state != ReviewState.RETURNED:
        return ReviewResult(
            Outcome.NOT_RETURNED, found, key="review_not_returned", state=found.review_state
        )
    if not await review.changes_since_return(session, found):
        return ReviewResult(
            Outcome.UNCHANGED, found, key="review_resubmit_needs_change", state=found.review_state
        )
    if not await review.resubmit_corrected(session, found, actor.member_id, now):
        # A press that came first resubmitted it (or it was decided or withdrawn meanwhile).
        return ReviewResult(
            Outcome.NOT_RETURNED, found, key="review_not_returned", state=found.review_state
        )
    queued = await queue_event_notices(session, found, (review.CORRECT,), timing, now)
    return ReviewResult(Outcome.DONE, found, state=found.review_state, queued=queued)
