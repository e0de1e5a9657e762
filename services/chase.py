"""Chasing (催报) as use cases: 提醒 one association (the chat's /chase button, the console's
association page) and 全部提醒 a district's quiet ones (the chat). The fronts render the
:class:`Nudge` / :class:`NudgeAll`; none of them queues a nudge itself.

Each use case, in the session its front opened (it flushes, never commits):

1. locks the association (PostgreSQL holds it until the transaction ends; on SQLite the
   writer lock of :mod:`storage.db` makes writers take turns), so two admins pressing 提醒 at
   once, in two chats or in a chat and the console, take turns and the second one reads the
   first one's nudge;
2. loads the association (or the district) and asks the policy (``Action.CHASE``): a missing,
   inactive or forbidden one is one refusal, :data:`DENIED`, whichever it is;
3. applies the once-a-day rule: a nudge queued less than :data:`storage.chase.CHASE_GAP` ago
   answers :attr:`Outcome.TOO_SOON` with when it was queued;
4. queues the outbox rows of the nudge (:func:`scheduler.chase.queue_nudge`: one per reachable
   reporter and org admin, held by the sender during quiet hours). Those rows are the nudge's
   record: the last nudge of an association is read back from them
   (:func:`storage.chase.last_chase`), and the audit log holds changes to reports only.

The front wakes the sender after its commit when something was queued.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from core.policy import Action, Actor, allowed, district_target, org_target
from scheduler.chase import queue_nudge
from storage import locks
from storage.chase import CHASE_GAP, chase_lines, chase_recipients, last_chase
from storage.db import AsyncSession
from storage.locks import lock_pair
from storage.models import District, Organisation
from storage.registry import district_of, load_organisation

__all__ = [
    "DENIED",
    "Nudge",
    "NudgeAll",
    "Outcome",
    "nudge",
    "nudge_all",
    "quiet_orgs",
]

#: The refusal's catalog key: a missing association and a forbidden one read the same.
DENIED = "reg_denied"


class Outcome(enum.StrEnum):
    """What became of a 提醒."""

    SENT = "sent"  # queued for ``queued`` people
    NOBODY = "nobody"  # nobody of the association can be reached: nothing queued
    TOO_SOON = "too_soon"  # the previous nudge was queued less than 24 hours ago
    REFUSED = "refused"  # missing, inactive, or not the actor's to chase


@dataclass(frozen=True)
class Nudge:
    """The outcome of one 提醒, for the front to render.

    ``key`` is the catalog key of the sentence: ``chase_sent`` (takes ``org`` and ``people``),
    ``chase_nobody`` (``org``), ``chase_too_soon`` (``org`` and ``when``, the moment
    :attr:`previous`), or :data:`DENIED` for a refusal."""

    outcome: Outcome
    key: str
    org: Organisation | None = None
    queued: int = 0  # outbox rows queued (the front wakes the sender after commit)
    previous: datetime | None = None  # TOO_SOON: when the previous nudge was queued


@dataclass(frozen=True)
class NudgeAll:
    """The outcome of 全部提醒: how many associations and people were reached, or a refusal
    (``key`` :data:`DENIED`, ``district`` None)."""

    district: District | None
    orgs: int = 0
    people: int = 0
    key: str | None = None

    @property
    def refused(self) -> bool:
        """Whether the actor may not chase the district (or there is no such district)."""
        return self.district is None


def _recent(previous: datetime | None, now: datetime) -> bool:
    """The once-a-day rule: a nudge queued less than :data:`CHASE_GAP` before ``now``."""
    return previous is not None and now - previous < CHASE_GAP


async def _nudge_locked(session: AsyncSession, org: Organisation, now: datetime) -> Nudge:
    """The rule and the rows, the association already locked and allowed."""
    previous = await last_chase(session, org.id)
    if _recent(previous, now):
        return Nudge(Outcome.TOO_SOON, "chase_too_soon", org, previous=previous)
    queued = await queue_nudge(session, org, org.district_id, now)
    if queued == 0:
        return Nudge(Outcome.NOBODY, "chase_nobody", org)
    return Nudge(Outcome.SENT, "chase_sent", org, queued=queued)


async def nudge(session: AsyncSession, actor: Actor, org_id: int, *, now: datetime) -> Nudge:
    """提醒: queue a nudge to every reachable reporter and org admin of the association
    ``org_id``, at most once in 24 hours, if ``actor`` may chase it."""
    await lock_pair(session, locks.CHASE, org_id)
    org = await load_organisation(session, org_id)
    if (
        org is None
        or not org.active
        or not allowed(actor, Action.CHASE, org_target(org.id, org.district_id))
    ):
        return Nudge(Outcome.REFUSED, DENIED)
    return await _nudge_locked(session, org, now)


async def _district(session: AsyncSession, actor: Actor, district_id: int) -> District | None:
    """The district, if ``actor`` may chase its associations."""
    district = await district_of(session, district_id)
    if district is None or not allowed(actor, Action.CHASE, district_target(district.id)):
        return None
    return district


async def quiet_orgs(
    session: AsyncSession,
    actor: Actor,
    district_id: int,
    *,
    now: datetime,
    today: date,
    quiet_days: int,
) -> tuple[District, list[Organisation], int] | None:
    """全部提醒's question: the district's associations silent for ``quiet_days`` or more (or
    never reported) that may be nudged now, and how many people would receive it; None when
    ``actor`` may not chase the district."""
    district = await _district(session, actor, district_id)
    if district is None:
        return None
    orgs, people = await _quiet(session, district.id, now, today, quiet_days)
    return district, orgs, people


async def _quiet(
    session: AsyncSession, district_id: int, now: datetime, today: date, quiet_days: int
) -> tuple[list[Organisation], int]:
    orgs: list[Organisation] = []
    people = 0
    for line in await chase_lines(session, district_id, today):
        if line.silent_days is not None and line.silent_days < quiet_days:
            continue
        if _recent(await last_chase(session, line.org.id), now):
            continue
        orgs.append(line.org)
        people += len(await chase_recipients(session, line.org.id))
    return orgs, people


async def nudge_all(
    session: AsyncSession,
    actor: Actor,
    district_id: int,
    *,
    now: datetime,
    today: date,
    quiet_days: int,
) -> NudgeAll:
    """全部提醒 confirmed: nudge every association of the district still quiet now (the list
    is taken again), each under the once-a-day rule, if ``actor`` may chase the district."""
    district = await _district(session, actor, district_id)
    if district is None:
        return NudgeAll(None, key=DENIED)
    orgs, _ = await _quiet(session, district.id, now, today, quiet_days)
    # One order for every front, so two transactions locking several never wait in a circle.
    for org in sorted(orgs, key=lambda o: o.id):
        await lock_pair(session, locks.CHASE, org.id)
    reached, people = 0, 0
    for org in orgs:
        done = await _nudge_locked(session, org, now)  # nudged meanwhile: TOO_SOON now
        if done.queued:
            reached += 1
            people += done.queued
    return NudgeAll(district, orgs=reached, people=people)
