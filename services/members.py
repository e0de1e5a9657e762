"""Membership as use cases: make an invitation (/invite, ``kexie invite``), revoke one
(/invites' 撤销), join through one (/start with a link's token), remove a member (/members'
确认移除). The fronts render the results; none of them writes an invite or a membership itself.

Each use case works in the session its front opened and does not commit (the front commits
once). It asks the policy itself — inviting to a role, revoking such an invite and removing
such a member all need the permission that grants the role (:func:`core.policy.invite_action`),
so an org admin may invite and remove reporters but not the org admins their district
appointed — and a refusal is one catalog key, :data:`DENIED`, for a missing target and a
forbidden one alike.

Joining is open to whoever holds the link: its checks are the invite's own (unknown, revoked,
expired, its association closed, used up), each with its key. Two people opening a one-use
link at once: the invite's row is locked (PostgreSQL) and its use is counted by a conditional
update (:func:`storage.members.use_invite`), so exactly one of them joins, on either backend.

The record of these actions is the rows themselves (the invite with who made it, the
membership with the invite it came from and when it ended): the audit log holds changes to
reports only, and none of these causes a message (no outbox rows).
"""

from __future__ import annotations

import enum
import string
from dataclasses import dataclass
from datetime import datetime

from core.address import Address
from core.enums import Channel, Role
from core.policy import Action, Actor, Target, allowed, district_target, invite_action, org_target
from storage.db import AsyncSession
from storage.members import (
    INVITE_TOKEN_BYTES,
    LINK_ALPHABET,
    LINK_CODE_LENGTH,
    add_account,
    add_membership,
    create_invite,
    create_link_code,
    held_membership,
    invite_by_token,
    joining_member,
    link_code_by_code,
    load_invite,
    load_membership,
    member_by_address,
    remove_membership,
    revoke_invite,
    use_invite,
    use_link_code,
)
from storage.models import Invite, LinkCode, Member, Membership, Organisation, utcnow
from storage.registry import district_of, load_organisation

__all__ = [
    "DENIED",
    "EXPIRED",
    "LINK_MINUTES",
    "Invited",
    "Joined",
    "Linked",
    "Outcome",
    "Removed",
    "Revoked",
    "invite",
    "invite_target",
    "is_link_code",
    "join",
    "link_account",
    "link_code",
    "may_remove",
    "remove_member",
    "revoke",
]

#: The refusal's catalog key: a missing target and a forbidden one read the same.
DENIED = "reg_denied"
#: A membership already ended (by another admin, or an earlier press).
EXPIRED = "button_expired"
# The roles granted in an association (the others are a district's or the city's).
_ORG_ROLES = (Role.REPORTER, Role.ORG_ADMIN)


class Outcome(enum.StrEnum):
    """What became of the action."""

    DONE = "done"
    REFUSED = "refused"  # missing or forbidden (``key``: DENIED), or an invite that no longer works
    ALREADY = "already"  # join: the role is held already; remove: the role ended already


@dataclass(frozen=True)
class Invited:
    """A new invitation, or the refusal (``key`` :data:`DENIED`, ``invite`` None). ``org`` is
    its association (with its district) for an association's role."""

    invite: Invite | None
    org: Organisation | None = None
    key: str | None = None

    @property
    def done(self) -> bool:
        """Whether an invite was made."""
        return self.invite is not None


@dataclass(frozen=True)
class Revoked:
    """The revoked invite (association and district loaded), or the refusal."""

    invite: Invite | None
    key: str | None = None

    @property
    def done(self) -> bool:
        """Whether the invite was the actor's to revoke (it no longer works now)."""
        return self.invite is not None


@dataclass(frozen=True)
class Joined:
    """Opening an invite link: the member and their role (``outcome`` DONE, or ALREADY when
    they held it before, which burns no use), or the invite's refusal key (``invite_unknown``,
    ``invite_revoked``, ``invite_expired``, ``invite_used_up``)."""

    outcome: Outcome
    key: str | None = None
    member: Member | None = None
    membership: Membership | None = None

    @property
    def already(self) -> bool:
        """Whether the member held the role before opening the link."""
        return self.outcome == Outcome.ALREADY


@dataclass(frozen=True)
class Removed:
    """A removal: the membership (member, association loaded) now ended; ALREADY (``key``
    :data:`EXPIRED`) when it had ended before; REFUSED (``key`` :data:`DENIED`)."""

    outcome: Outcome
    key: str | None = None
    membership: Membership | None = None

    @property
    def done(self) -> bool:
        """Whether this press ended the role."""
        return self.outcome == Outcome.DONE


def invite_target(invite: Invite) -> Target:
    """What an invite grants a role in (its association, else its district; the city: none);
    its association must be loaded."""
    if invite.organisation is not None:
        return org_target(invite.organisation.id, invite.organisation.district_id)
    return Target(district_id=invite.district_id)


def may_remove(actor: Actor, membership: Membership) -> bool:
    """Whether ``actor`` may end ``membership`` (its association loaded): an association's role
    only (district and city roles are the CLI's), with the permission that grants it."""
    org = membership.organisation
    if org is None:
        return False
    target = org_target(org.id, org.district_id)
    return allowed(actor, Action.MANAGE_MEMBERS, target) and allowed(
        actor, invite_action(membership.role), target
    )


async def _invite_scope(
    session: AsyncSession, role: Role, org_id: int | None, district_id: int | None
) -> tuple[Target, Organisation | None] | None:
    """The target an invitation to ``role`` there grants it in; None when the scope does not
    exist, is closed, or does not fit the role."""
    if role in _ORG_ROLES:
        if org_id is None or district_id is not None:
            return None
        org = await load_organisation(session, org_id)
        if org is None or not org.active:
            return None
        return org_target(org.id, org.district_id), org
    if org_id is not None:
        return None
    if role == Role.DISTRICT_ADMIN:
        district = None if district_id is None else await district_of(session, district_id)
        return None if district is None else (district_target(district.id), None)
    return (Target(), None) if district_id is None else None


async def invite(
    session: AsyncSession,
    actor: Actor,
    role: Role,
    *,
    org_id: int | None = None,
    district_id: int | None = None,
    uses: int = 1,
    days: int = 7,
    now: datetime | None = None,
) -> Invited:
    """An invitation to ``role`` in the association ``org_id`` (reporter, org admin), the
    district ``district_id`` (district admin) or the city, for ``uses`` people (admin roles:
    one) over ``days`` days, if ``actor`` may grant that role there."""
    scope = await _invite_scope(session, role, org_id, district_id)
    if scope is None or not allowed(actor, invite_action(role), scope[0]):
        return Invited(None, key=DENIED)
    made = await create_invite(
        session,
        role=role,
        org_id=org_id,
        district_id=district_id,
        uses=uses,
        days=days,
        created_by=actor.member_id or None,  # the operator (the CLI) is nobody's member
        now=now,
    )
    return Invited(made, org=scope[1])


async def revoke(
    session: AsyncSession, actor: Actor, invite_id: int, *, now: datetime | None = None
) -> Revoked:
    """撤销: the invite stops working at once (whoever joined keeps their role), if ``actor``
    may grant its role where it grants it."""
    found = await load_invite(session, invite_id)
    if found is None or not allowed(actor, invite_action(found.role), invite_target(found)):
        return Revoked(None, key=DENIED)
    revoke_invite(found, now)
    await session.flush()
    return Revoked(found)


def _unusable(found: Invite | None, now: datetime) -> str | None:
    """Why an invite link no longer works (its catalog key), None while it does."""
    if found is None:
        return "invite_unknown"
    if found.revoked_at is not None:
        return "invite_revoked"
    if found.expires_at <= now:
        return "invite_expired"
    if found.organisation is not None and not found.organisation.active:
        return "invite_revoked"
    return None


async def join(
    session: AsyncSession,
    token: str,
    *,
    address: Address,
    first_name: str,
    username: str | None,
    language: str = "zh",
    now: datetime | None = None,
) -> Joined:
    """Open the invite link ``token`` from ``address``: whoever opened it (a new member on
    their first link) gets its role, unless it is unknown, revoked, expired or used up.
    Opening it again with the role held burns no use."""
    now = now or utcnow()
    found = await invite_by_token(session, token)
    refused = _unusable(found, now)
    if refused is not None or found is None:
        return Joined(Outcome.REFUSED, key=refused)
    member = await joining_member(
        session, address, first_name=first_name, username=username, language=language
    )
    held = await held_membership(session, member.id, found)
    if held is not None:
        return Joined(Outcome.ALREADY, member=member, membership=held)
    if not await use_invite(session, found):
        return Joined(Outcome.REFUSED, key="invite_used_up", member=member)
    membership = await add_membership(session, member, found)
    return Joined(Outcome.DONE, member=member, membership=membership)


async def remove_member(
    session: AsyncSession, actor: Actor, membership_id: int, *, now: datetime | None = None
) -> Removed:
    """确认移除: the role ends now (the member's next update no longer carries it; their
    reports stay with the association), if ``actor`` may remove it."""
    membership = await load_membership(session, membership_id)
    if membership is None or not may_remove(actor, membership):
        return Removed(Outcome.REFUSED, DENIED)
    if not membership.active:
        return Removed(Outcome.ALREADY, EXPIRED, membership)
    remove_membership(membership, now)
    await session.flush()
    return Removed(Outcome.DONE, membership=membership)


# --- one membership, an account on each channel ----------------------------------------------

#: How long a link code works: long enough to open the other messenger, short enough that a
#: code seen over a shoulder is soon worth nothing.
LINK_MINUTES = 15


@dataclass(frozen=True)
class Linked:
    """Sending a link code: the member the account now belongs to (DONE; ALREADY when it did
    before), or the refusal's key (``link_code_invalid``: unknown, expired or used;
    ``link_code_other_channel``: made for the other messenger; ``link_account_taken``: this
    account is another member's; ``link_channel_taken``: the member has an account here)."""

    outcome: Outcome
    key: str | None = None
    member: Member | None = None


def is_invite_token(text: str) -> bool:
    """Whether ``text`` has an invite token's shape (``secrets.token_urlsafe`` of
    :data:`storage.members.INVITE_TOKEN_BYTES`: url-safe base64 without padding)."""
    length = -(-INVITE_TOKEN_BYTES * 4 // 3)
    return len(text) == length and all(c in _URL_SAFE for c in text)


_URL_SAFE = frozenset(string.ascii_letters + string.digits + "-_")


def is_link_code(text: str) -> bool:
    """Whether ``text`` (as typed after /start) has a link code's shape, not an invite token's
    (24 url-safe characters): 8 letters of :data:`storage.members.LINK_ALPHABET`, any case."""
    code = text.strip().upper()
    return len(code) == LINK_CODE_LENGTH and all(c in LINK_ALPHABET for c in code)


async def link_code(
    session: AsyncSession, member: Member, channel: Channel, *, now: datetime | None = None
) -> LinkCode | None:
    """连接钉钉 / 连接 Telegram: a one-time code that, sent to the robot on ``channel``, joins
    that account to ``member``'s membership; None when they have an account there already."""
    if member.account(channel) is not None:
        return None
    return await create_link_code(
        session, member.id, channel, minutes=LINK_MINUTES, now=now or utcnow()
    )


async def link_account(
    session: AsyncSession,
    code: str,
    *,
    address: Address,
    username: str | None,
    now: datetime | None = None,
) -> Linked:
    """The link code ``code`` sent from ``address``: that account joins the membership of the
    member who made the code, who is then one person on both messengers (same roles, reports,
    settings). A code works once, within :data:`LINK_MINUTES`, on the channel it was made for.
    An account that is already another member's is not merged (their roles and reports would
    have to be): refused."""
    now = now or utcnow()
    link = await link_code_by_code(session, code.strip().upper())
    if link is None or link.used_at is not None or link.expires_at <= now:
        return Linked(Outcome.REFUSED, "link_code_invalid")
    if link.channel != address.channel:
        return Linked(Outcome.REFUSED, "link_code_other_channel")
    member = await session.get(Member, link.member_id)
    if member is None:  # removed since (cascade): the code went with them
        return Linked(Outcome.REFUSED, "link_code_invalid")
    holder = await member_by_address(session, address)
    if holder is not None:
        if holder.id == member.id:
            return Linked(Outcome.ALREADY, member=member)
        return Linked(Outcome.REFUSED, "link_account_taken")
    if member.account(address.channel) is not None:
        return Linked(Outcome.REFUSED, "link_channel_taken")
    if not await use_link_code(session, link, now):
        return Linked(Outcome.REFUSED, "link_code_invalid")
    await add_account(session, member, address, username)
    return Linked(Outcome.DONE, member=member)
