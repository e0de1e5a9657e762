"""/review's 本页全部通过 as outbox rows: the evidence of every report on the page, each report's
albums captioned with its 编号 and name, and after them the confirmation, 确认全部通过 / 返回列表.

They go through the outbox like a delivery's albums (``scheduler.messages``), so the sender's
limits, retries and order hold for them too: each row waits for the one before it
(``payload.after``), so the confirmation arrives after the last photo, never before. The
confirmation is rendered when it is sent (:func:`confirmation`); it names the reports that
have no files at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core import review_buttons as rv
from core.address import Address
from core.texts import Raw, plain, t
from scheduler import outbox
from scheduler.messages import Part, album_parts, message
from scheduler.messenger import Button, Outgoing
from storage import outbox as stored_outbox
from storage.db import AsyncSession
from storage.notices import report_refs, reports_with_evidence

REVIEW_LOOK = "review_look"  # the message kind of the confirmation (and the rows' kind)
# Photos asked for now: not held for quiet hours, and not sent at all an hour late.
LOOK_VALID = timedelta(hours=1)


def look_prefix(member_id: int, page: int, seen: str) -> str:
    """The start of the keys of one member's looks at one page as it was (``seen``): the
    confirmation of the n-th look is keyed ``prefix + n``, its albums ``prefix + n#…``."""
    return f"{REVIEW_LOOK}:{member_id}:{page}:{seen}:"


async def looks_on_the_way(session: AsyncSession, prefix: str) -> tuple[int, bool]:
    """How many looks under ``prefix`` were queued, and whether one of them is still unsent
    (a second press then queues nothing: the photos are on their way)."""
    found = await stored_outbox.statuses_under(session, prefix)
    cards = [status for key, status in found.items() if "#" not in key]
    return len(cards), any(status not in outbox.FINAL for status in cards)


async def queue_look(
    session: AsyncSession,
    activity_ids: list[int],
    *,
    page: int,
    seen: str,
    key: str,
    to: Address,
    member_id: int,
    now: datetime,
) -> int:
    """Queue, in ``session``'s transaction, the albums of the reports (in the page's order)
    and then the confirmation, for one member; returns how many rows were inserted."""
    by_id = {a.id: a for a in await reports_with_evidence(session, activity_ids)}
    reports = [by_id[i] for i in activity_ids if i in by_id]
    parts: list[Part] = []
    previous: str | None = None
    bare = []
    for activity in reports:
        albums = album_parts(activity, key, previous, label=str(activity.id))
        if not albums:
            bare.append(activity.id)
            continue
        parts += albums
        previous = key + albums[-1][0]
    card = message(REVIEW_LOOK, page=page, seen=seen, activities=[a.id for a in reports], bare=bare)
    if previous is not None:
        card["after"] = previous
    parts.append(("", card))
    rows = []
    for suffix, payload in parts:
        payload["expires_at"] = (now + LOOK_VALID).isoformat()
        payload["quiet"] = False
        rows.append(
            outbox.OutRow(
                key=key + suffix,
                to=to,
                kind=REVIEW_LOOK,
                payload=payload,
                member_id=member_id,
                not_before=now,
            )
        )
    return await outbox.enqueue(session, rows, now)


async def confirmation(session: AsyncSession, params: dict[str, Any], lang: str) -> Outgoing:
    """The message under the page's photos: how many reports, which have no files, and
    确认全部通过 (for the page as it was) / 返回列表."""
    lines = [t(lang, "review_look_confirm", n=len(params.get("activities") or []))]
    bare = [int(i) for i in params.get("bare") or []]
    if bare:
        refs = await report_refs(session, bare)
        lines += [t(lang, "review_look_no_files", ref=refs.get(i) or "") for i in bare]
    page = rv.QueuePage(int(params["page"]), str(params["seen"]))
    confirm = Button(plain(lang, "review_btn_confirm_page"), rv.CONFIRM_PAGE.pack(page))
    # "p": the list replaces this message, as the queue's own page buttons do.
    back = rv.QUEUE_PAGE.pack(rv.QueuePage(page.page, "p"))
    buttons = ((confirm,), (Button(plain(lang, "review_btn_back_to_queue"), back),))
    return Outgoing(REVIEW_LOOK, Raw("\n".join(lines)), buttons)
