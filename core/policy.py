"""The one permission policy: "may this actor do this action to that target?".

Every handler and CLI command asks :func:`allowed`. Targets are described by their owning
organisation and district, so a refusal never depends on (or reveals) anything else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from core.enums import Role


class Action(enum.StrEnum):
    """Everything a member can ask the bot to do to some target."""

    REPORT = "report"  # create a report for an association
    VIEW_REPORTS = "view_reports"  # list / open an association's reports
    EDIT_REPORT = "edit_report"  # change or withdraw a submitted report
    MANAGE_REGISTRY = "manage_registry"  # view / fill an association's annex 1-1 / 1-2 fields
    CREATE_ORG = "create_org"  # create an association in a district
    INVITE_REPORTER = "invite_reporter"
    INVITE_ORG_ADMIN = "invite_org_admin"
    INVITE_DISTRICT_ADMIN = "invite_district_admin"
    MANAGE_MEMBERS = "manage_members"  # list / remove an association's members
    DISTRICT_FIGURES = "district_figures"  # 属地企业数量 etc.
    VIEW_STATUS = "view_status"  # /status of a district
    EXPORT = "export"  # annexes of a district (or the city)
    EXPORT_CITY = "export_city"
    IMPORT_REGISTRY = "import_registry"  # load a district's annex 1-1 / 1-2 spreadsheet
    INVITE_CITY_ADMIN = "invite_city_admin"
    BACKUP = "backup"  # kexie backup / restore: the whole installation
    REVIEW_REPORT = "review_report"  # approve (通过) or return (退回) a district's report
    REVIEW_QUEUE = "review_queue"  # /review: a district's pending reports
    CHASE = "chase"  # /chase: list a district's quiet associations and nudge their reporters


@dataclass(frozen=True)
class Grant:
    """One active role of a member."""

    role: Role
    org_id: int | None = None
    district_id: int | None = None  # for org roles: the organisation's district


@dataclass(frozen=True)
class Target:
    """What an action touches: an association (with its district) or a district."""

    district_id: int | None = None
    org_id: int | None = None
    author_member_id: int | None = None  # for reports: who wrote it


@dataclass(frozen=True)
class Actor:
    """A member together with their active grants."""

    member_id: int
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def has(self, role: Role) -> bool:
        """Whether the actor holds ``role`` anywhere."""
        return any(g.role == role for g in self.grants)

    def org_ids(self, *roles: Role) -> list[int]:
        """Associations where the actor holds one of ``roles``."""
        return [g.org_id for g in self.grants if g.role in roles and g.org_id is not None]

    def district_ids(self) -> list[int]:
        """Districts the actor administers."""
        return [
            g.district_id
            for g in self.grants
            if g.role == Role.DISTRICT_ADMIN and g.district_id is not None
        ]

    @property
    def is_city(self) -> bool:
        """City admins see everything."""
        return self.has(Role.CITY_ADMIN)

    @property
    def is_admin(self) -> bool:
        """Holds any admin role."""
        return any(g.role != Role.REPORTER for g in self.grants)


def _in_org(actor: Actor, target: Target, *roles: Role) -> bool:
    return target.org_id is not None and target.org_id in actor.org_ids(*roles)


def _district_admin_of(actor: Actor, target: Target) -> bool:
    return target.district_id is not None and target.district_id in actor.district_ids()


def allowed(actor: Actor, action: Action, target: Target) -> bool:
    """Decide one permission. Pure: the caller has loaded the actor's grants and the target."""
    city = actor.is_city
    district = _district_admin_of(actor, target)
    org_admin = _in_org(actor, target, Role.ORG_ADMIN)
    member = _in_org(actor, target, Role.REPORTER, Role.ORG_ADMIN)
    match action:
        case Action.REPORT:
            return member
        case Action.VIEW_REPORTS:
            return member or district or city
        case Action.EDIT_REPORT:
            author = target.author_member_id == actor.member_id
            return (author and member) or org_admin
        case Action.MANAGE_REGISTRY | Action.MANAGE_MEMBERS:
            return org_admin or district or city
        case Action.INVITE_REPORTER:
            return org_admin or district or city
        case Action.INVITE_ORG_ADMIN | Action.CREATE_ORG:
            return district or city
        case Action.INVITE_DISTRICT_ADMIN | Action.INVITE_CITY_ADMIN | Action.EXPORT_CITY:
            return city
        case Action.BACKUP:
            # A backup holds every district's reports and every member: the city's alone.
            return city
        case Action.DISTRICT_FIGURES | Action.VIEW_STATUS | Action.EXPORT | Action.IMPORT_REGISTRY:
            return district or city
        case Action.CHASE:
            # Chasing is the district's job towards its associations, never theirs.
            return district or city
        case Action.REVIEW_REPORT | Action.REVIEW_QUEUE:
            # The district checks what its associations report before it stamps the annexes;
            # an association never approves its own reports.
            return district or city
    return False


def may_somewhere(actor: Actor, action: Action) -> bool:
    """Whether ``action`` is allowed to the actor on anything at all: :func:`allowed` asked about
    what each of its grants reaches (its association, as the author of its own reports; its
    district; the city). The chat offers a command only when this allows the command's action,
    so menus, help and home buttons follow this policy and never a list of their own."""
    return any(
        allowed(
            actor,
            action,
            Target(district_id=g.district_id, org_id=g.org_id, author_member_id=actor.member_id),
        )
        for g in actor.grants
    )


def may_open_console(actor: Actor) -> bool:
    """The admin console (web/) is the districts' and the city's desk: reporters and
    association admins keep using the chat."""
    return actor.is_city or bool(actor.district_ids())


def district_scope(actor: Actor) -> list[int] | None:
    """The districts whose data the actor oversees: None for the whole city."""
    return None if actor.is_city else sorted(set(actor.district_ids()))


# The installation's operator (the CLI, which holds the database): city-wide.
OPERATOR = Actor(member_id=0, grants=(Grant(Role.CITY_ADMIN),))


def invite_action(role: Role | str) -> Action:
    """The action that grants ``role``; revoking such an invite or removing such a member
    needs the same permission, so an org admin cannot remove the district's org admins."""
    return {
        Role.REPORTER: Action.INVITE_REPORTER,
        Role.ORG_ADMIN: Action.INVITE_ORG_ADMIN,
        Role.DISTRICT_ADMIN: Action.INVITE_DISTRICT_ADMIN,
        Role.CITY_ADMIN: Action.INVITE_CITY_ADMIN,
    }[Role(role)]


def org_target(org_id: int, district_id: int) -> Target:
    """The target of an action on one association."""
    return Target(district_id=district_id, org_id=org_id)


def district_target(district_id: int) -> Target:
    """The target of an action on a whole district."""
    return Target(district_id=district_id)
