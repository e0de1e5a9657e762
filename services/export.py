"""Export use cases: the places an actor may export, and starting an export run.

The chat's ``/export`` (``handlers/export.py``) and the console's export page (``web/export.py``)
both call these; what each keeps is its presentation (buttons and a progress message; a form, a
progress page and downloads) and its own background run (``handlers/export_run.py``,
``web/export_runs.py``, both over ``exports/runner.py``), started once the front has committed
the job row this module records.

A place is a district (action ``EXPORT``) or the whole city (``EXPORT_CITY``); every start is
checked against the policy again, whatever the front offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.policy import Action, Actor, Target, allowed, district_scope
from core.years import ReportingYears
from exports import runs
from exports.scope import Level, Scope
from exports.service import CHOICES
from storage.models import District

MAX_DISTRICTS = 100  # one bounded query (Chengdu has 23 districts and counties)
NO_BUNDLE = ":nobundle"

# The job's scope text (export_jobs.scope): <annex>:<Scope.key()>[:nobundle].
_KEY = re.compile(
    r"(?P<annex>1-3|1-1|1-2|all):(?:district:(?P<district>\d{1,9})|city):"
    # The period of a statistical year ends in that year (its first day is in the one before).
    r"\d{8}-(?P<year>\d{4})\d{4}(?P<approved>:approved)?(?P<nobundle>:nobundle)?"
)


class Refusal(StrEnum):
    """Why a run was not started; each value is the catalog key a front may show."""

    NOT_ALLOWED = "not_allowed"  # outside the actor's scope, or no such district
    BUSY = "export_busy"  # the actor's previous export is still running


@dataclass(frozen=True)
class Places:
    """Where an actor may export: these districts (in the guide's order), and the city or not."""

    districts: list[District]
    city: bool

    @property
    def empty(self) -> bool:
        """Nowhere at all (a reporter, an association admin)."""
        return not self.districts and not self.city

    @property
    def single(self) -> District | None:
        """The one place when there is nothing to choose (an admin of one district)."""
        return self.districts[0] if not self.city and len(self.districts) == 1 else None


@dataclass(frozen=True)
class Started:
    """A recorded run: the front commits, then runs job ``job_id`` in the background."""

    job_id: int
    scope: Scope
    district: District | None  # None: the whole city


@dataclass(frozen=True)
class RunKey:
    """What an export job was asked for, read back from its ``export_jobs.scope``."""

    annex: str
    district_id: int | None  # None: the whole city
    year: int
    approved_only: bool
    bundle: bool


def may_export(actor: Actor, district_id: int | None) -> bool:
    """The policy for one place: a district, or the whole city when ``district_id`` is None."""
    if district_id is None:
        return allowed(actor, Action.EXPORT_CITY, Target())
    return allowed(actor, Action.EXPORT, Target(district_id=district_id))


async def places(session: AsyncSession, actor: Actor) -> Places:
    """The districts ``actor`` may export (every one for a city admin) and whether the city."""
    query = select(District).order_by(District.sort_order, District.id).limit(MAX_DISTRICTS)
    scope = district_scope(actor)
    if scope is not None:
        if not scope:  # no district at all: no query
            return Places([], city=may_export(actor, None))
        query = query.where(District.id.in_(scope))
    districts = [d for d in await session.scalars(query) if may_export(actor, d.id)]
    return Places(districts, city=may_export(actor, None))


async def busy(session: AsyncSession, member_id: int) -> bool:
    """Whether the member's previous export is still running (one at a time, across fronts)."""
    return await runs.running_job(session, member_id) is not None


def run_key(annex: str, scope: Scope, bundle: bool = True) -> str:
    """The job's scope text: ``<annex>:<scope key>``, plus ``:nobundle`` without the bundle."""
    return f"{annex}:{scope.key()}" + ("" if bundle else NO_BUNDLE)


def parse_run_key(text: str) -> RunKey | None:
    """The choices of a job (None for a scope no front starts, e.g. one association's)."""
    found = _KEY.fullmatch(text)
    if found is None:
        return None
    district = found.group("district")
    return RunKey(
        annex=found.group("annex"),
        district_id=int(district) if district else None,
        year=int(found.group("year")),
        approved_only=bool(found.group("approved")),
        bundle=not found.group("nobundle"),
    )


async def start_run(
    session: AsyncSession,
    actor: Actor,
    *,
    annex: str,
    year: int,
    district_id: int | None,
    approved_only: bool,
    years: ReportingYears,
    bundle: bool = True,
) -> Started | Refusal:
    """Start an export of ``annex`` (``1-3``, ``1-1``, ``1-2`` or ``all``) for one district or,
    with ``district_id`` None, the whole city: check the policy, refuse while the actor's
    previous export runs, and record the job as running. The caller commits, then runs it
    (``runs.confirm_job`` settles two starts that raced past the busy check)."""
    if annex not in CHOICES:
        raise ValueError(annex)
    district = await session.get(District, district_id) if district_id is not None else None
    if (district_id is not None and district is None) or not may_export(actor, district_id):
        return Refusal.NOT_ALLOWED
    if await busy(session, actor.member_id):
        return Refusal.BUSY
    if district is None:
        scope = Scope(Level.CITY, year, approved_only=approved_only, years=years)
    else:
        scope = Scope(
            Level.DISTRICT,
            year,
            district_id=district.id,
            approved_only=approved_only,
            years=years,
        )
    job = await runs.open_job(session, actor.member_id, run_key(annex, scope, bundle))
    return Started(job_id=job.id, scope=scope, district=district)
