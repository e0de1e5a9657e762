"""Pure rules: which messages are due at a given moment, derived from rows of the database.

Nothing here touches the database or Telegram. :func:`due_now` takes a :class:`Snapshot` (plain
rows, loaded by ``scheduler.snapshot``) and a moment, and returns the :class:`Due` items whose
moment has come and not yet passed. Every item has a stable key (kind, subject, occasion,
recipient): the outbox stores each key once, so deriving the same item on every tick, after a
restart or in two processes never sends it twice.

Each item is valid from ``due_at`` until ``expires_at``; the expiry is the moment its follow-up
takes over (the draft's closing reminder replaces the morning one, the plan's last call
replaces the morning-after question…), so after downtime a passed item is not sent stale.
Nothing is emitted during quiet hours: an item due at night is emitted when they end, if it is
still valid then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

from core.calendar import on_working_day
from core.review_rules import PENDING_REMIND_DAYS
from core.rules import WINDOW_DAYS, window_closes_at
from scheduler.digest import covered_by_digest, daily_digests, return_reminders
from scheduler.notices import EVENT_KINDS, announcements, delivery_recipients
from scheduler.rows import (
    DELIVERY_KINDS,
    AuditRow,
    Due,
    Kind,
    Recipient,
    Snapshot,
    Timing,
)

__all__ = [
    "candidates",
    "deadline_reminders",
    "deliveries",
    "draft_reminders",
    "due_now",
    "is_quiet",
    "plan_reminders",
    "quiet_ends",
    "quiet_nudges",
    "review_reminders",
]

# audit_log actions grouped into one "edited" (the events are scheduler.notices.EVENT_KINDS).
_EDIT_ACTIONS = frozenset({"edit", "evidence"})


# ---------------------------------------------------------------------------------------------
# quiet hours


def is_quiet(moment: datetime, timing: Timing) -> bool:
    """Whether ``moment`` falls into the quiet hours (which may wrap past midnight)."""
    start, end = timing.quiet
    if start == end:
        return False
    local = moment.astimezone(timing.tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_ends(moment: datetime, timing: Timing) -> datetime:
    """The first moment at or after ``moment`` outside the quiet hours."""
    if not is_quiet(moment, timing):
        return moment
    local = moment.astimezone(timing.tz)
    end = timing.at(local.date(), timing.quiet[1])
    if end <= local:
        end = timing.at(local.date() + timedelta(days=1), timing.quiet[1])
    return end


def working(moment: datetime, timing: Timing) -> datetime:
    """A non-urgent moment moved off weekends and public holidays to the next working morning."""
    if not timing.holidays:
        return moment
    return on_working_day(moment, timing.tz, timing.morning)


# ---------------------------------------------------------------------------------------------
# the rules


def due_now(snap: Snapshot, now: datetime, timing: Timing) -> list[Due]:
    """Every item due at ``now``: valid now, not in quiet hours, recipient reachable and willing."""
    if is_quiet(now, timing):
        return []
    found: dict[str, Due] = {}
    for item in candidates(snap, now, timing):
        if not item.due_at <= now < item.expires_at:
            continue
        person = snap.people.get(item.member_id)
        if person is None or person.unreachable or _muted(person, item.kind):
            continue
        if covered_by_digest(snap, item, timing):
            continue  # back on 逐条推送: a digest already listed this report to them
        found.setdefault(item.key, item)
    return sorted(found.values(), key=lambda d: (d.due_at, d.key))


def _muted(person: Recipient, kind: Kind) -> bool:
    if kind in DELIVERY_KINDS and person.daily_digest:
        return True  # 每日汇总: the 09:00 digest lists the day's reports instead
    if kind == Kind.QUIET_NUDGE:
        return person.mute_nudges
    if kind == Kind.CITY_SUMMARY:
        return person.mute_city_summary
    return False


def candidates(snap: Snapshot, now: datetime, timing: Timing) -> Iterator[Due]:
    """Every item the rows imply around ``now``, due or not (filtered by :func:`due_now`)."""
    yield from deliveries(snap, timing)
    yield from draft_reminders(snap, now, timing)
    yield from plan_reminders(snap, timing)
    yield from quiet_nudges(snap, now, timing)
    yield from deadline_reminders(snap, now, timing)
    yield from daily_digests(snap, now, timing)
    yield from return_reminders(snap, timing)
    yield from review_reminders(snap, now, timing)


def deliveries(snap: Snapshot, timing: Timing) -> Iterator[Due]:
    """Each report's events (:func:`scheduler.notices.announcements`: the use cases queue them
    at once, this finds them queued) and its edits in a row, announced once they settle."""
    org_of = {a.id: a.org_id for a in snap.activities}
    author_of = {a.id: a.author_id for a in snap.activities}
    edits: dict[int, list[AuditRow]] = {}
    returned: set[int] = set()  # edits to a returned report go with its correction's card
    for entry in sorted(snap.audits, key=lambda e: (e.at, e.id)):
        org_id = org_of.get(entry.activity_id)
        if org_id is None:
            continue
        if entry.action == "return":
            returned.add(entry.activity_id)
        elif entry.action == "correct":
            returned.discard(entry.activity_id)
        if entry.action in EVENT_KINDS:
            yield from announcements(snap, entry, org_id, author_of[entry.activity_id], timing)
        elif entry.action in _EDIT_ACTIONS and entry.activity_id not in returned:
            edits.setdefault(entry.activity_id, []).append(entry)
    for activity_id, entries in edits.items():
        for session in _sessions(entries, timing.edit_settle):
            settled = session[-1].at + timing.edit_settle
            refs = tuple(e.id for e in session)
            for member_id in delivery_recipients(snap, org_of[activity_id]):
                yield Due(
                    Kind.REPORT_EDITED,
                    member_id,
                    activity_id,
                    f"e{session[0].id}",
                    settled,
                    settled + timing.delivery_valid,
                    refs,
                )


def review_reminders(snap: Snapshot, now: datetime, timing: Timing) -> Iterator[Due]:
    """Reports pending review for more than two days: their district's admins, once a day."""
    today = now.astimezone(timing.tz).date()
    due = timing.at(today, timing.morning)
    if working(due, timing) != due:
        return  # not urgent, and daily: the next working day's own reminder covers days off
    # Judged at the morning's moment, so every tick of the day derives the same items.
    cutoff = due - timedelta(days=PENDING_REMIND_DAYS)
    districts: set[int] = set()
    for _activity_id, org_id, since in snap.pending_reviews:
        org = snap.orgs.get(org_id)
        if org is not None and since <= cutoff:
            districts.add(org.district_id)
    for district_id in sorted(districts):
        for admin in snap.district_admins.get(district_id, []):
            yield Due(
                Kind.REVIEW_PENDING,
                admin,
                district_id,
                today.isoformat(),
                due,
                _end_of_day(due, timing),
            )


def _sessions(entries: list[AuditRow], gap: timedelta) -> Iterator[list[AuditRow]]:
    """Split time-ordered entries where more than ``gap`` passed between two of them."""
    current: list[AuditRow] = []
    for entry in entries:
        if current and entry.at - current[-1].at > gap:
            yield current
            current = []
        current.append(entry)
    if current:
        yield current


def draft_reminders(snap: Snapshot, now: datetime, timing: Timing) -> Iterator[Due]:
    """A dated draft on its window's last day: in the morning, and a few hours before midnight."""
    for a in snap.activities:
        if a.status != "draft" or a.activity_date is None:
            continue
        if not snap.may_report(a.author_id, a.org_id):
            continue  # removed from the association: the draft is no longer theirs to finish
        if now - a.updated_at < timing.draft_idle:
            continue  # they are working on it right now
        last_day = a.activity_date + timedelta(days=WINDOW_DAYS)
        morning = timing.at(last_day, timing.morning)
        closing = timing.at(last_day, timing.draft_closing)
        closes = window_closes_at(a.activity_date, timing.tz)
        slot = last_day.isoformat()
        yield Due(Kind.DRAFT_MORNING, a.author_id, a.id, slot, morning, closing)
        yield Due(Kind.DRAFT_CLOSING, a.author_id, a.id, slot, closing, closes)


def plan_reminders(snap: Snapshot, timing: Timing) -> Iterator[Due]:
    """The morning after a planned activity, its window's last day, and the admin once it closed."""
    for plan in snap.plans:
        if plan.cancelled:
            continue
        linked = [a for a in snap.activities if a.plan_id == plan.id]
        # A report withdrawn after the window closed was still reported in time.
        reported = any(a.status in ("submitted", "withdrawn") for a in linked) or any(
            a.status == "submitted"
            and a.org_id == plan.org_id
            and a.activity_date == plan.planned_date
            for a in snap.activities
        )
        if reported:
            continue
        # A draft started from the plan is chased by the draft reminders instead.
        drafting = any(a.status == "draft" for a in linked)
        day = plan.planned_date
        # The question may wait for a working day; the last call (window closes) never waits.
        ask = working(timing.at(day + timedelta(days=1), timing.morning), timing)
        last = timing.at(day + timedelta(days=WINDOW_DAYS), timing.morning)
        closes = window_closes_at(day, timing.tz)
        told = working(timing.at(closes.date(), timing.morning), timing)
        slot = day.isoformat()
        if not drafting and snap.may_report(plan.member_id, plan.org_id):
            if ask < last:
                yield Due(Kind.PLAN_ASK, plan.member_id, plan.id, slot, ask, last)
            yield Due(Kind.PLAN_LAST_CALL, plan.member_id, plan.id, slot, last, closes)
        for admin in snap.org_admins.get(plan.org_id, []):
            yield Due(Kind.PLAN_MISSED, admin, plan.id, slot, told, told + timing.escalation_valid)


def quiet_nudges(snap: Snapshot, now: datetime, timing: Timing) -> Iterator[Due]:
    """An association silent for ``quiet_days``: its org admins, at most once per period."""
    period = timedelta(days=timing.quiet_days)
    today = now.astimezone(timing.tz).date()
    for org in snap.orgs.values():
        if not org.active:
            continue
        anchor = org.last_submitted_at or org.created_at
        if anchor is None:
            continue
        start = anchor.astimezone(timing.tz).date()
        periods = (today - start).days // timing.quiet_days
        if periods < 1:
            continue
        day = start + periods * period
        due = working(timing.at(day, timing.nudge_at), timing)
        last = snap.last_nudge.get(org.id)
        if last is not None and due - last < period:
            continue
        expires = due + min(period, timing.nudge_valid)
        for admin in snap.org_admins.get(org.id, []):
            yield Due(Kind.QUIET_NUDGE, admin, org.id, day.isoformat(), due, expires)


def deadline_reminders(snap: Snapshot, now: datetime, timing: Timing) -> Iterator[Due]:
    """District admins 30/14/7/3/1 days before; city admins every Monday of the deadline's month."""
    # The year still open today: its deadline is the next one (never one already past).
    y = timing.years.year_of(now.astimezone(timing.tz).date())
    deadline = timing.years.deadline(y)
    end = timing.at(deadline + timedelta(days=1), time(0))
    moments = [
        (n, timing.at(deadline - timedelta(days=n), timing.morning))
        for n in sorted(timing.deadline_days, reverse=True)
    ]
    for i, (n, planned) in enumerate(moments):
        # The last day's reminder (1 day left) is never moved off a holiday.
        due = planned if n <= 1 else working(planned, timing)
        # Valid on its own day only: a reminder "30 days left" is wrong two weeks later.
        expires = _end_of_day(due, timing)
        if i + 1 < len(moments):
            expires = min(expires, moments[i + 1][1])
        if due >= expires:
            continue  # moved past the next reminder, which says it better
        slot = f"{deadline.isoformat()}-{n}d"
        for district_id, admins in snap.district_admins.items():
            for admin in admins:
                yield Due(Kind.DEADLINE, admin, district_id, slot, due, expires)
    for monday in _mondays_of_month(deadline):
        due = working(timing.at(monday, timing.morning), timing)
        expires = min(_end_of_day(due, timing), end)
        for admin in snap.city_admins:
            yield Due(Kind.CITY_SUMMARY, admin, y, monday.isoformat(), due, expires)


def _end_of_day(moment: datetime, timing: Timing) -> datetime:
    day = moment.astimezone(timing.tz).date()
    return timing.at(day + timedelta(days=1), time(0))


def _mondays_of_month(deadline: date) -> Iterable[date]:
    day = deadline.replace(day=1)
    day += timedelta(days=(7 - day.weekday()) % 7)
    while day.month == deadline.month and day <= deadline:
        yield day
        day += timedelta(days=7)
