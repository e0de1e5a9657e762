"""The notices of a report's own events, built from the event itself: who is told, what they
are told, under which outbox key.

A submission, resubmission or withdrawal is carded to the district (its admins, and the city
admins who opted in); a correction (a returned report resubmitted) too; a return is told to the
report's author, if still in the association, and its org admins. An approval is told to nobody
(the card is edited in place, the reporter sees it in 我的报送).

The use cases (``services.report``, ``services.review``, through ``services.notices``) write
these rows in the transaction of the event, so the notice commits (or rolls back) with it and
the sender can be woken (:data:`WAKE`) at once. The minute tick derives the same events from the
audit log (:func:`scheduler.reminders.deliveries`, through :func:`announcements`, so the recipients
and keys are one definition): a safety net for events written by anything but a use case, and
for people who became recipients since; it finds the use case's rows queued under the same keys
and adds nothing. Amendments are not here: edits in a row are announced by the tick once they
settle (``Timing.edit_settle``).

Pure: plain rows in (:class:`scheduler.rows.Snapshot`, the audit entry, the report with its
evidence loaded), outbox rows out; the caller loads the rows and stores the result.
"""

from __future__ import annotations

from datetime import datetime

from core.review_rules import ReviewState
from scheduler.messages import album_parts, message
from scheduler.outbox import OutRow
from scheduler.rows import DELIVERY_KINDS, AuditRow, Due, Kind, Snapshot, Timing
from storage.models import Activity

__all__ = [
    "EVENT_KINDS",
    "WAKE",
    "announcements",
    "delivery_recipients",
    "event_rows",
]

#: ``bot_data`` key of the :class:`asyncio.Event` the sender waits on between runs
#: (:mod:`bot.jobs` installs it). The front sets it after committing a use case that queued
#: notices.
WAKE = "sender:wake"

#: audit_log actions that announce a report by themselves, and the notice each one is.
EVENT_KINDS = {
    "submit": Kind.REPORT_SUBMITTED,
    "resubmit": Kind.REPORT_RESUBMITTED,
    "withdraw": Kind.REPORT_WITHDRAWN,
    "correct": Kind.REPORT_CORRECTED,
    "return": Kind.REPORT_RETURNED,
}

# A submission's card is followed by the report's evidence files; the others are the card only.
_WITH_ALBUMS = frozenset({Kind.REPORT_SUBMITTED, Kind.REPORT_RESUBMITTED})


def delivery_recipients(snap: Snapshot, org_id: int) -> list[int]:
    """District admins of the association's district, then city admins who opted in."""
    org = snap.orgs.get(org_id)
    if org is None:
        return []
    ids = list(snap.district_admins.get(org.district_id, []))
    ids += [
        m
        for m in snap.city_admins
        if (person := snap.people.get(m)) is not None and person.city_delivery_opt_in
    ]
    return list(dict.fromkeys(ids))


def announcements(
    snap: Snapshot, entry: AuditRow, org_id: int, author_id: int, timing: Timing
) -> list[Due]:
    """The notices one event (an audit entry of :data:`EVENT_KINDS`) owes, one per recipient,
    valid from the event for ``timing.delivery_valid``; empty for any other entry.

    A return goes to the report's author (unless removed from the association) and its org
    admins; every other event to the district (:func:`delivery_recipients`)."""
    kind = EVENT_KINDS.get(entry.action)
    if kind is None:
        return []
    if kind == Kind.REPORT_RETURNED:
        ids = [author_id] if snap.may_report(author_id, org_id) else []
        ids += snap.org_admins.get(org_id, [])
    else:
        ids = delivery_recipients(snap, org_id)
    expires = entry.at + timing.delivery_valid
    return [
        Due(kind, member_id, entry.activity_id, str(entry.id), entry.at, expires, (entry.id,))
        for member_id in dict.fromkeys(ids)
    ]


def event_rows(
    snap: Snapshot, entry: AuditRow, activity: Activity, timing: Timing, moment: datetime
) -> list[OutRow]:
    """The outbox rows of one event of ``activity`` (its association's id, author, review
    state and, for a (re)submission, its ``evidence`` loaded), to be sent not before ``moment``:
    the event's moment, or the end of the quiet hours it falls in (when the tick would have
    queued them).

    The rows, keys and payloads are the ones the tick builds for the same event
    (:func:`scheduler.messages.rows_for`): a recipient who cannot be reached, or who reads the
    district's 每日汇总 instead of a card per report, gets none; a return no longer standing
    (corrected or withdrawn meanwhile) is told to nobody. A daily digest never covers the event
    (:func:`scheduler.digest.covered_by_digest`): it only covers what happened before it was
    queued, and this event happens now."""
    if not entry.at <= moment < entry.at + timing.delivery_valid:
        return []  # not announceable at ``moment``: left to the tick, as the rules would
    if entry.action == "return" and activity.review_state != ReviewState.RETURNED:
        return []
    items = announcements(snap, entry, activity.org_id, activity.author_id, timing)
    rows: list[OutRow] = []
    for item in sorted(items, key=lambda d: d.key):  # the tick's order: by key
        person = snap.people.get(item.member_id)
        if person is None or person.unreachable or person.address is None:
            continue
        if item.kind in DELIVERY_KINDS and person.daily_digest:
            continue  # 每日汇总: the 09:00 digest lists the day's reports instead
        if item.kind == Kind.REPORT_RETURNED:
            parts = [("", message(item.kind, activity=activity.id, audit=entry.id))]
        else:
            parts = [("", message(item.kind, activity=activity.id, refs=list(item.refs)))]
            if item.kind in _WITH_ALBUMS:
                parts += album_parts(activity, item.key, item.key)
        for suffix, payload in parts:
            payload["expires_at"] = item.expires_at.isoformat()
            payload["quiet"] = True
            rows.append(
                OutRow(
                    key=item.key + suffix,
                    to=person.address,
                    kind=item.kind,
                    payload=payload,
                    member_id=person.id,
                    not_before=moment,
                )
            )
    return rows
