"""The registry as use cases: 新建科协 (the chat's /org and /invite, ``kexie org add``), one
annex 1-1 / 1-2 field of an association answered or chosen (/org), and one of a district's
figures for a year (/district). The fronts render the results; none of them writes an
association, its fields or a district's figures itself.

Each use case works in the session its front opened and does not commit (the front commits
once). It asks the policy itself (``CREATE_ORG`` in the district, ``MANAGE_REGISTRY`` of the
association, ``DISTRICT_FIGURES`` of the district); a refusal is one catalog key,
:data:`DENIED`, for a missing target and a forbidden one alike. An answer that does not parse,
or breaks a rule between fields (科技人员数 ≤ 员工总数), is :attr:`Outcome.INVALID` with the
key of its sentence, and changes nothing.

Locks (PostgreSQL; on SQLite the writer lock of :mod:`storage.db` makes writers take turns):
creating an association holds its district (:data:`storage.locks.DISTRICT`), so two admins
naming one at once take turns and the second reads the first one's name and is told it exists;
a field holds its association (:data:`storage.locks.ORG`) and reads it afresh, so two answers
replacing one officer list take turns; a figure holds its district too (its year's row is made
on the first figure).

The record of these changes is the rows themselves: the audit log holds changes to reports
only, and none of these causes a message (no outbox rows).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.enums import OrgKind
from core.policy import Action, Actor, allowed, district_target, org_target
from core.registry_rules import FieldSpec, field_by_key, parse_count, parse_field, parse_org_name
from storage import locks
from storage.db import AsyncSession
from storage.locks import lock_pair
from storage.models import District, Organisation
from storage.registry import (
    FIGURE_KEYS,
    RegistryError,
    create_organisation,
    district_of,
    load_organisation,
    set_district_figure,
    set_field,
)

__all__ = [
    "DENIED",
    "EXPIRED",
    "Created",
    "FieldEdit",
    "FigureSet",
    "Outcome",
    "answer_field",
    "choose_field",
    "create",
    "set_figure",
]

#: The refusal's catalog key: a missing target and a forbidden one read the same.
DENIED = "reg_denied"
#: A choice that is no longer (or never was) one of the field's options.
EXPIRED = "button_expired"


class Outcome(enum.StrEnum):
    """What became of the action."""

    DONE = "done"
    REFUSED = "refused"  # missing, closed, or not the actor's (``key``: DENIED)
    INVALID = "invalid"  # the value does not parse or breaks a rule (``key``: its sentence)
    EXPIRED = "expired"  # a choice that is not one of the field's (``key``: EXPIRED)


@dataclass(frozen=True)
class Created:
    """新建科协: the new association, or why not (``key``; ``org_exists`` takes ``name`` and
    ``org_id`` from :attr:`params`, the existing association's)."""

    outcome: Outcome
    org: Organisation | None = None
    key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Whether the association was created."""
        return self.outcome == Outcome.DONE


@dataclass(frozen=True)
class FieldEdit:
    """One field stored (``org`` with its officers, ``spec`` the field), or why not."""

    outcome: Outcome
    key: str | None = None
    org: Organisation | None = None
    spec: FieldSpec | None = None

    @property
    def done(self) -> bool:
        """Whether the value was stored."""
        return self.outcome == Outcome.DONE


@dataclass(frozen=True)
class FigureSet:
    """One district figure stored (``value``), or why not."""

    outcome: Outcome
    key: str | None = None
    district: District | None = None
    value: int | None = None

    @property
    def done(self) -> bool:
        """Whether the figure was stored."""
        return self.outcome == Outcome.DONE


async def create(
    session: AsyncSession, actor: Actor, district_id: int, kind: OrgKind, name: str
) -> Created:
    """新建科协 named ``name`` (one line, 2 to 200 characters: :func:`parse_org_name`) of
    ``kind`` in the district ``district_id``, if ``actor`` may create associations there and
    the district has none of that name."""
    district = await district_of(session, district_id)
    if district is None or not allowed(actor, Action.CREATE_ORG, district_target(district.id)):
        return Created(Outcome.REFUSED, key=DENIED)
    parsed, error = parse_org_name(name)
    if error is not None or parsed is None:
        return Created(Outcome.INVALID, key=error or "reg_err_org_name")
    await lock_pair(session, locks.DISTRICT, district.id)
    try:
        org = await create_organisation(session, district, kind, parsed)
    except RegistryError as exc:
        return Created(Outcome.INVALID, key=exc.key, params=dict(exc.params))
    return Created(Outcome.DONE, org=org)


async def _editable(session: AsyncSession, actor: Actor, org_id: int) -> Organisation | FieldEdit:
    """The association, locked and read afresh with its officers, if ``actor`` may fill its
    fields; otherwise the refusal."""
    await lock_pair(session, locks.ORG, org_id)
    org = await load_organisation(session, org_id)
    if (
        org is None
        or not org.active
        or not allowed(actor, Action.MANAGE_REGISTRY, org_target(org.id, org.district_id))
    ):
        return FieldEdit(Outcome.REFUSED, DENIED)
    return org


def _store(org: Organisation, spec: FieldSpec, value: object) -> FieldEdit:
    try:
        set_field(org, spec, value)
    except RegistryError as exc:  # 科技人员数 above 员工总数
        return FieldEdit(Outcome.INVALID, exc.key, org, spec)
    return FieldEdit(Outcome.DONE, None, org, spec)


async def answer_field(
    session: AsyncSession, actor: Actor, org_id: int, key: str, text: str, *, today: date
) -> FieldEdit:
    """A typed answer to the field ``key`` of the association ``org_id``: parsed
    (:func:`parse_field`) and stored, if ``actor`` may fill the association's fields. A field
    its kind does not have is a refusal (the question was never the actor's to answer)."""
    org = await _editable(session, actor, org_id)
    if isinstance(org, FieldEdit):
        return org
    spec = field_by_key(org.kind, key)
    if spec is None:
        return FieldEdit(Outcome.REFUSED, DENIED)
    value, error = parse_field(spec, text, today)
    if error:
        return FieldEdit(Outcome.INVALID, error, org, spec)
    edit = _store(org, spec, value)
    await session.flush()
    return edit


async def choose_field(
    session: AsyncSession, actor: Actor, org_id: int, key: str, index: int
) -> FieldEdit:
    """One of a choice field's options (国企/民企…, by its index) stored, if ``actor`` may fill
    the association's fields; a field that is no choice, or an index past its options, is
    :attr:`Outcome.EXPIRED`."""
    org = await _editable(session, actor, org_id)
    if isinstance(org, FieldEdit):
        return org
    spec = field_by_key(org.kind, key)
    if spec is None or spec.kind != "choice" or not 0 <= index < len(spec.choices):
        return FieldEdit(Outcome.EXPIRED, EXPIRED, org, spec)
    edit = _store(org, spec, spec.choices[index])
    await session.flush()
    return edit


async def set_figure(
    session: AsyncSession, actor: Actor, district_id: int, year: int, figure: str, value: object
) -> FigureSet:
    """属地企业数量 / 科技企业数量 / 产业功能区数量 (``figure``, one of
    :data:`storage.registry.FIGURE_KEYS`) of the district for ``year``: ``value`` parsed as a
    count (:func:`parse_count`: ``120``, ``1,200``, ``120人``) and stored, if ``actor`` may
    set the district's figures."""
    district = await district_of(session, district_id)
    if (
        district is None
        or figure not in FIGURE_KEYS
        or not allowed(actor, Action.DISTRICT_FIGURES, district_target(district.id))
    ):
        return FigureSet(Outcome.REFUSED, DENIED)
    count, error = parse_count(value)
    if error or count is None:
        return FigureSet(Outcome.INVALID, error or "reg_err_count", district)
    await lock_pair(session, locks.DISTRICT, district.id)
    await set_district_figure(session, district.id, year, figure, count)
    return FigureSet(Outcome.DONE, None, district, count)
