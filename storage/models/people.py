"""Members, their channel accounts, their roles in associations and districts, and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy import false as sa_false
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import operators

from core.enums import Channel
from storage.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from storage.models.registry import District, Organisation


class Member(Base):
    """A person known to the bot, whatever channel they use to reach it.

    How they are reached lives in :class:`ChannelAccount` (today one Telegram account each).
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
    # and async code may read it without a lazy load. At most one per channel (unique).
    telegram_account: Mapped[ChannelAccount | None] = relationship(
        primaryjoin=lambda: and_(
            Member.id == ChannelAccount.member_id, ChannelAccount.channel == Channel.TELEGRAM
        ),
        lazy="joined",
        cascade="all, delete-orphan",
        uselist=False,
    )

    @hybrid_property
    def telegram_id(self) -> int | None:
        """The member's Telegram user id (also their private chat id); None without one."""
        account = self.telegram_account
        return int(account.external_id) if account is not None else None

    @telegram_id.inplace.setter
    def _telegram_id_setter(self, value: int | None) -> None:
        if value is None:
            self.telegram_account = None
        elif self.telegram_account is None:
            self.telegram_account = ChannelAccount(channel=Channel.TELEGRAM, external_id=str(value))
        else:
            self.telegram_account.external_id = str(value)

    @telegram_id.inplace.comparator
    @classmethod
    def _telegram_id_comparator(cls) -> _TelegramIdComparator:
        return _TelegramIdComparator(cls.id)


class _TelegramIdComparator(Comparator[int | None]):
    """``Member.telegram_id == x`` or ``.in_(xs)`` in a query: the members whose Telegram
    accounts these are, looked up through the unique (channel, external_id) index. Any other
    comparison is refused rather than silently applied to ``members.id``."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
        if op is operators.eq:
            match = ChannelAccount.external_id == str(other[0])
        elif op is operators.in_op:
            match = ChannelAccount.external_id.in_([str(x) for x in other[0]])
        else:
            raise NotImplementedError(f"Member.telegram_id supports == and in_, not {op}")
        accounts = select(ChannelAccount.member_id).where(
            ChannelAccount.channel == Channel.TELEGRAM, match
        )
        if op is operators.eq:
            return Member.id == accounts.scalar_subquery()
        return Member.id.in_(accounts)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement[Any]:
        return self.operate(op, other, **kwargs)


class ChannelAccount(Base):
    """How a member is reached on one channel: e.g. their Telegram user id.

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
