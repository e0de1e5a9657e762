"""每日汇总: the rule of a district admin's daily digest (pure, like :mod:`scheduler.reminders`,
which includes it among its candidates). Admins who chose the digest get no card per report
(``reminders._muted``); at the morning hour they get yesterday's reports of their district in
one message, and nothing on a day after none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from scheduler.rows import Due, Kind, Snapshot, Timing

# audit_log actions a district's daily digest lists (a report that reached the district).
DIGEST_ACTIONS = frozenset({"submit", "resubmit", "correct"})


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
