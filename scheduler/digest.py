"""Two rules of the district's desk (pure, like :mod:`scheduler.reminders`, which includes them
among its candidates).

每日汇总: admins who chose the digest get no card per report (``reminders._muted``); at the
morning hour they get yesterday's reports of their district in one message, and nothing on a
day after none. Switching between the two never announces a report twice: a report a digest
listed is not carded afterwards (:func:`covered_by_digest`), a report carded is not listed.

催报 of a correction: a report returned and not corrected within :data:`RETURN_FIX_DAYS` days
reminds its author, once per return."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from core.calendar import on_working_day
from scheduler.rows import DELIVERY_KINDS, Due, Kind, Snapshot, Timing

RETURN_FIX_DAYS = 3  # a returned report not corrected after this many days reminds its author

# audit_log actions a district's daily digest lists (a report that reached the district), and
# the card each one is announced with to an admin on 逐条推送 (scheduler.reminders.deliveries).
CARD_OF = {
    "submit": Kind.REPORT_SUBMITTED,
    "resubmit": Kind.REPORT_RESUBMITTED,
    "correct": Kind.REPORT_CORRECTED,
}
DIGEST_ACTIONS = frozenset(CARD_OF)


def daily_digests(snap: Snapshot, now: datetime, timing: Timing) -> Iterator[Due]:
    """Yesterday's reports per district, to its admins who chose the digest (refs: the audit
    entries, oldest first); valid until the end of the day."""
    today = now.astimezone(timing.tz).date()
    yesterday = today - timedelta(days=1)
    org_of = {a.id: a.org_id for a in snap.activities}
    entries: dict[int, list[int]] = {}  # district id → audit ids
    for entry in sorted(snap.audits, key=lambda e: (e.at, e.id)):
        if entry.action not in DIGEST_ACTIONS:
            continue
        if entry.at.astimezone(timing.tz).date() != yesterday:
            continue
        org = snap.orgs.get(org_of.get(entry.activity_id, 0))
        if org is not None:
            entries.setdefault(org.district_id, []).append(entry.id)
    # Not moved off holidays: it is the district's own inbox, not a reminder.
    due = timing.at(today, timing.morning)
    expires = timing.at(today + timedelta(days=1), time(0))
    for district_id, refs in sorted(entries.items()):
        for admin in snap.district_admins.get(district_id, []):
            person = snap.people.get(admin)
            if person is not None and person.daily_digest:
                yield Due(
                    Kind.DAILY_DIGEST,
                    admin,
                    district_id,
                    yesterday.isoformat(),
                    due,
                    expires,
                    tuple(refs),
                )


def covered_by_digest(snap: Snapshot, item: Due, timing: Timing) -> bool:
    """Whether a daily digest of the card's recipient already listed its report after the event
    the card announces (``Snapshot.digested``): an admin back on 逐条推送 is not told again.

    The other way round, a digest leaves out what was carded (``digest_message``)."""
    if item.kind not in DELIVERY_KINDS:
        return False
    listed = snap.digested.get((item.member_id, item.subject))
    if listed is None:
        return False
    # An amendment's card is due once its edits settled; the edits came before that.
    happened = item.due_at - timing.edit_settle if item.kind == Kind.REPORT_EDITED else item.due_at
    return happened <= listed


def return_reminders(snap: Snapshot, timing: Timing) -> Iterator[Due]:
    """Each returned report still uncorrected :data:`RETURN_FIX_DAYS` days after its return:
    its author, once (the slot is the return's moment: a second return is a new occasion).
    Not urgent, so it waits for a working day's morning; stale after a week."""
    for activity_id, org_id, author_id, returned_at in snap.returned:
        if not snap.may_report(author_id, org_id):
            continue  # no longer in the association: the org admins had the return too
        due = returned_at + timedelta(days=RETURN_FIX_DAYS)
        if timing.holidays:
            due = on_working_day(due, timing.tz, timing.morning)
        slot = f"{int(returned_at.timestamp())}"
        yield Due(
            Kind.RETURN_REMINDER,
            author_id,
            activity_id,
            slot,
            due,
            due + timing.escalation_valid,
        )
