"""Members, their channel accounts, their roles in associations and districts, and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.address import Address
from core.enums import Channel
from storage.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from storage.models.registry import District, Organisation


class Member(Base):
    """A person known to the bot, whatever channel they use to reach it.

    How they are reached lives in :class:`ChannelAccount`, one per channel they use.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    # Whether the scheduler can deliver to them at all (blocked the bot, chat gone). Kept on the
    # member: the outbox and the reminder rules decide per person, not per account.
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    mute_nudges: Mapped[bool] = mapped_column(Boolean, default=False)
    mute_city_summary: Mapped[bool] = mapped_column(Boolean, default=False)
    city_delivery_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # District admins: every report as it arrives (False, 逐条推送) or one 09:00 digest of
    # yesterday's reports (True, 每日汇总).
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="member")
    # Joined-loaded: every load of a member (the per-update lookup above all) stays one query,
    # and async code may read them without a lazy load. At most one per channel (unique).
    accounts: Mapped[list[ChannelAccount]] = relationship(
        lazy="joined",
        cascade="all, delete-orphan",
    )

    def account(self, channel: Channel) -> ChannelAccount | None:
        """The member's account on ``channel``, if they have one."""
        return next((a for a in self.accounts if a.channel == channel), None)

    def address(self, channel: Channel | None = None) -> Address | None:
        """Where the member is reached: on ``channel``, or (None) on the first channel they
        joined through; None without an account there."""
        if channel is None:
            first = min(self.accounts, key=lambda a: a.id, default=None)
        else:
            first = self.account(channel)
        return Address(Channel(first.channel), first.external_id) if first else None


class ChannelAccount(Base):
    """How a member is reached on one channel: the channel's own id for them.

    ``external_id`` is the channel's own id for the person, as text (Telegram's are integers,
    other channels' are not). The channel's per-account bookkeeping lives here too.
    """

    __tablename__ = "channel_accounts"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        UniqueConstraint("member_id", "channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # Channel
    external_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))  # Telegram's @username
    # Updates are delivered at least once (a killed process re-reads unconfirmed ones): the last
    # processed update id, committed with the answer, makes processing exactly-once. Telegram's
    # update ids are one sequence per bot, so the mark belongs to the account, not the person.
    last_update_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    """One role of a member, scoped to an organisation, a district, or the whole city."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_member_active", "member_id", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # Role
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation | None] = relationship()
    district: Mapped[District | None] = relationship()


class Invite(Base):
    """A deep-link invitation granting one role; expiring and with a use limit."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # Role
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    district: Mapped[District | None] = relationship()


class LinkCode(Base):
    """A one-time code that joins a member's account on another channel to the membership: made
    by /settings' 连接钉钉 / 连接 Telegram, sent to the robot on ``channel`` as ``/start CODE``.

    Short enough to type on a phone, so it lives minutes and works once (``used_at``)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # Channel: where the code is to be sent
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
