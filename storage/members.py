"""Members, their roles, and deep-link invitations."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.address import Address
from core.enums import Channel, Role
from core.policy import Actor, Grant
from storage.chat_state import NO_STATE
from storage.column_writes import set_columns
from storage.models import (
    Activity,
    ChannelAccount,
    ChatState,
    Invite,
    LinkCode,
    Member,
    Membership,
    Organisation,
    utcnow,
)

INVITE_TOKEN_BYTES = 18  # 24 url-safe characters: unguessable, and fits /start's 64-char payload


# The account an update comes through, apart from the member's accounts the relationship
# joins in: filtering on those would load only the matching one into ``member.accounts``.
_BY_ADDRESS = aliased(ChannelAccount, name="by_address")


async def member_by_address(session: AsyncSession, address: Address) -> Member | None:
    """The member reached at ``address`` (a channel and its id of them), if they ever joined.

    One query, through the unique (channel, external_id) index; every account of the member
    comes with it (``member.accounts``).
    """
    found = await session.scalars(
        select(Member)
        .join(_BY_ADDRESS, _BY_ADDRESS.member_id == Member.id)
        .where(
            _BY_ADDRESS.channel == address.channel, _BY_ADDRESS.external_id == address.external_id
        )
    )
    return found.unique().first()


# Built once: every update runs it, and a statement built per call costs its construction and
# its cache key each time (about a third of the query's CPU); the address is two parameters.
_LOAD_FOR_UPDATE = (
    select(Member, ChatState, Activity)
    .join(_BY_ADDRESS, _BY_ADDRESS.member_id == Member.id)
    .outerjoin(ChatState, ChatState.member_id == Member.id)
    .outerjoin(Activity, Activity.id == ChatState.activity_id)
    .where(
        _BY_ADDRESS.channel == bindparam("channel"),
        _BY_ADDRESS.external_id == bindparam("external_id"),
    )
    .options(
        joinedload(Member.memberships).joinedload(Membership.organisation),
        joinedload(Member.memberships).joinedload(Membership.district),
        joinedload(Activity.organisation).joinedload(Organisation.district),
        joinedload(Activity.evidence),
    )
)


async def load_for_update(session: AsyncSession, address: Address) -> Member | None:
    """The member an update from ``address`` comes from, in one query: their accounts, every
    membership with its association and district, and their conversation state with its
    activity (association, district, evidence). The state and the activity stay in the
    session's identity map (and its absence is noted), so :func:`storage.chat_state.get_state` and
    :func:`storage.reports.load_activity` on that activity cost no further query.
    """
    result = await session.execute(
        _LOAD_FOR_UPDATE, {"channel": address.channel, "external_id": address.external_id}
    )
    row = result.unique().first()
    if row is None:
        return None
    # The identity map holds objects weakly: keep the state and activity alive for the session.
    session.info["prefetched"] = (row[1], row[2])
    if row[1] is None:
        session.info[NO_STATE] = row[0].id
    return row[0]


def note_applied(
    session: AsyncSession, member: Member, account: ChannelAccount, ordinal: int | None
) -> None:
    """After a turn's handler: the update ``ordinal`` (None: one seen before) is applied, and
    a member marked unreachable is talking to us again. Staged column writes
    (:mod:`storage.column_writes`): they go with the turn's commit."""
    if ordinal is not None:
        set_columns(session, account, {"last_update_id": ordinal})
    if member.unreachable:
        set_columns(session, member, {"unreachable": False})


def held_activity(session: AsyncSession, activity_id: int) -> Activity | None:
    """The conversation's activity as :func:`load_for_update` loaded it (association and
    evidence included), without a query; None when this session does not hold it so."""
    held = session.identity_map.get(identity_key(Activity, activity_id))
    if isinstance(held, Activity) and not ({"organisation", "evidence"} & inspect(held).unloaded):
        return held
    return None


def actor_of_loaded(member: Member | None) -> Actor:
    """:func:`load_actor` for a member loaded by :func:`load_for_update` (memberships already
    in memory: no query)."""
    if member is None:
        return Actor(member_id=0)
    grants = []
    for m in sorted(member.memberships, key=lambda m: m.id):
        if not m.active:
            continue
        district_id = m.organisation.district_id if m.organisation else m.district_id
        grants.append(Grant(role=Role(m.role), org_id=m.org_id, district_id=district_id))
    return Actor(member_id=member.id, grants=tuple(grants))


async def active_memberships(session: AsyncSession, member_id: int) -> list[Membership]:
    """A member's active roles, with their association and district loaded."""
    rows = await session.scalars(
        select(Membership)
        .where(Membership.member_id == member_id, Membership.active.is_(True))
        .options(selectinload(Membership.organisation), selectinload(Membership.district))
        .order_by(Membership.id)
    )
    return list(rows.all())


async def load_actor(session: AsyncSession, member: Member | None) -> Actor:
    """The policy's view of a member: their active grants (an outsider has none)."""
    if member is None:
        return Actor(member_id=0)
    grants = []
    for m in await active_memberships(session, member.id):
        district_id = m.organisation.district_id if m.organisation else m.district_id
        grants.append(Grant(role=Role(m.role), org_id=m.org_id, district_id=district_id))
    return Actor(member_id=member.id, grants=tuple(grants))


async def reporting_orgs(session: AsyncSession, member_id: int) -> list[Organisation]:
    """Associations the member may report for (reporter or org admin), without duplicates."""
    return _reporting(await active_memberships(session, member_id))


def reporting_orgs_of_loaded(member: Member) -> list[Organisation]:
    """:func:`reporting_orgs` for a member loaded by :func:`load_for_update` (memberships
    already in memory: no query; three fewer statements at every /report)."""
    return _reporting(sorted((m for m in member.memberships if m.active), key=lambda m: m.id))


def _reporting(memberships: Iterable[Membership]) -> list[Organisation]:
    seen: dict[int, Organisation] = {}
    for m in memberships:
        if m.role in (Role.REPORTER, Role.ORG_ADMIN) and m.organisation and m.organisation.active:
            seen.setdefault(m.organisation.id, m.organisation)
    return list(seen.values())


async def create_invite(
    session: AsyncSession,
    *,
    role: Role,
    org_id: int | None = None,
    district_id: int | None = None,
    uses: int = 1,
    days: int = 7,
    created_by: int | None = None,
    now: datetime | None = None,
) -> Invite:
    """Make an invitation; admin roles are always single-use."""
    if role != Role.REPORTER:
        uses = 1
    invite = Invite(
        token=secrets.token_urlsafe(INVITE_TOKEN_BYTES),
        role=role.value,
        org_id=org_id,
        district_id=district_id,
        max_uses=max(1, uses),
        expires_at=(now or utcnow()) + timedelta(days=days),
        created_by=created_by,
    )
    session.add(invite)
    await session.flush()
    return invite


async def invite_by_token(session: AsyncSession, token: str) -> Invite | None:
    """The invite a link carries, with its association and district, locked until the
    transaction ends (PostgreSQL: two people opening one link take turns on its row)."""
    return await session.scalar(
        select(Invite)
        .where(Invite.token == token)
        .options(selectinload(Invite.organisation), selectinload(Invite.district))
        .with_for_update()
    )


async def joining_member(
    session: AsyncSession, address: Address, *, first_name: str, username: str | None, language: str
) -> Member:
    """The member at ``address``, their name and handle refreshed; a new member (with that
    account) when nobody joined from there yet."""
    member = await member_by_address(session, address)
    if member is None:
        member = Member(first_name=first_name, language=language)
        member.accounts = [
            ChannelAccount(
                channel=address.channel, external_id=address.external_id, username=username
            )
        ]
        session.add(member)
        await session.flush()
        return member
    member.first_name = first_name
    account = member.account(address.channel)
    assert account is not None  # found through it
    account.username = username
    return member


async def held_membership(
    session: AsyncSession, member_id: int, invite: Invite
) -> Membership | None:
    """The member's active role of the kind and scope ``invite`` grants, if they hold it."""
    return await session.scalar(
        select(Membership).where(
            Membership.member_id == member_id,
            Membership.role == invite.role,
            Membership.org_id.is_(None)
            if invite.org_id is None
            else Membership.org_id == invite.org_id,
            Membership.district_id.is_(None)
            if invite.district_id is None
            else Membership.district_id == invite.district_id,
            Membership.active.is_(True),
        )
    )


async def use_invite(session: AsyncSession, invite: Invite) -> bool:
    """Count one use of ``invite`` if it has one left in the database, atomically: a
    conditional ``UPDATE … WHERE uses < max_uses`` whose row count, not the value read
    earlier, says whether this join got the use (on SQLite a second joiner reads before the
    first one commits, and only its update waits). False, with ``uses`` reloaded, when none
    was left."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.uses < Invite.max_uses)
        .values(uses=Invite.uses + 1)
        .returning(Invite.uses)
        .execution_options(synchronize_session=False)
    )
    uses = result.scalar_one_or_none()
    if uses is None:
        await session.refresh(invite, attribute_names=["uses"])
        return False
    set_committed_value(invite, "uses", uses)
    return True


async def add_membership(session: AsyncSession, member: Member, invite: Invite) -> Membership:
    """The role ``invite`` grants, now ``member``'s (its association and district loaded)."""
    membership = Membership(
        member_id=member.id,
        role=invite.role,
        org_id=invite.org_id,
        district_id=invite.district_id,
        invite_id=invite.id,
    )
    session.add(membership)
    await session.flush()
    await session.refresh(membership, ["organisation", "district"])
    return membership


# --- invites and members managed from chat (/invites, /members) -------------------------------


async def open_invites(
    session: AsyncSession,
    *,
    org_ids: list[int],
    district_ids: list[int],
    everything: bool = False,
    now: datetime | None = None,
) -> list[Invite]:
    """Invites that can still be used, for these associations and districts (or all of them).

    A district's invites include those of every association in it. Newest first.
    """
    now = now or utcnow()
    query = (
        select(Invite)
        .outerjoin(Organisation, Invite.org_id == Organisation.id)
        .where(
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
            Invite.uses < Invite.max_uses,
        )
        .options(selectinload(Invite.organisation), selectinload(Invite.district))
        .order_by(Invite.id.desc())
    )
    if not everything:
        query = query.where(
            or_(
                Invite.org_id.in_(org_ids or [-1]),
                Organisation.district_id.in_(district_ids or [-1]),
                Invite.district_id.in_(district_ids or [-1]),
            )
        )
    return list((await session.scalars(query)).all())


async def load_invite(session: AsyncSession, invite_id: int) -> Invite | None:
    """One invite with its association and district."""
    return await session.scalar(
        select(Invite)
        .where(Invite.id == invite_id)
        .options(selectinload(Invite.organisation), selectinload(Invite.district))
    )


def revoke_invite(invite: Invite, now: datetime | None = None) -> None:
    """Stop an invite from working; whoever already joined keeps their role."""
    if invite.revoked_at is None:
        invite.revoked_at = now or utcnow()


async def org_memberships(session: AsyncSession, org_id: int) -> list[Membership]:
    """The active roles held in one association, with their members, oldest first."""
    rows = await session.scalars(
        select(Membership)
        .where(Membership.org_id == org_id, Membership.active.is_(True))
        .options(selectinload(Membership.member), selectinload(Membership.organisation))
        .order_by(Membership.id)
    )
    return list(rows.all())


async def load_membership(session: AsyncSession, membership_id: int) -> Membership | None:
    """One membership with its member, association and district."""
    return await session.scalar(
        select(Membership)
        .where(Membership.id == membership_id)
        .options(
            selectinload(Membership.member),
            selectinload(Membership.organisation),
            selectinload(Membership.district),
        )
    )


def remove_membership(membership: Membership, now: datetime | None = None) -> None:
    """End a role at once: the next update from that member no longer carries it.

    The member's past reports stay (they belong to the association, not to the role).
    """
    membership.active = False
    membership.revoked_at = now or utcnow()


# --- one membership, accounts on several channels (link codes) -------------------------------

#: The letters of a link code: no 0/O, 1/I/L, so it is read off one phone and typed on another.
LINK_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8  # 31**8 ≈ 8.5e11 codes, each living minutes and working once


async def create_link_code(
    session: AsyncSession, member_id: int, channel: Channel, *, minutes: int, now: datetime
) -> LinkCode:
    """A new code joining ``member_id``'s account on ``channel``, valid ``minutes``."""
    code = "".join(secrets.choice(LINK_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    link = LinkCode(
        code=code,
        member_id=member_id,
        channel=channel.value,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(link)
    await session.flush()
    return link


async def link_code_by_code(session: AsyncSession, code: str) -> LinkCode | None:
    """The link code as typed (upper-cased by the caller), locked until the transaction ends."""
    return await session.scalar(select(LinkCode).where(LinkCode.code == code).with_for_update())


async def use_link_code(session: AsyncSession, link: LinkCode, now: datetime) -> bool:
    """Spend ``link`` if nobody did yet: a conditional update, so two senders of one code at
    once cannot both get it (as :func:`use_invite`)."""
    result = await session.execute(
        update(LinkCode)
        .where(LinkCode.id == link.id, LinkCode.used_at.is_(None))
        .values(used_at=now)
        .returning(LinkCode.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar_one_or_none() is None:
        return False
    set_committed_value(link, "used_at", now)
    return True


async def add_account(
    session: AsyncSession, member: Member, address: Address, username: str | None
) -> ChannelAccount:
    """``member`` is now reached at ``address`` too (their other channel)."""
    account = ChannelAccount(
        member_id=member.id,
        channel=address.channel,
        external_id=address.external_id,
        username=username,
    )
    member.accounts.append(account)
    await session.flush()
    return account
