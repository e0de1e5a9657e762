"""Typed SQLAlchemy models: the registry, members and roles, reports, and the scheduler's tables.

All timestamps are stored as naive UTC (portable between SQLite and PostgreSQL) and come back as
aware UTC datetimes through :class:`UTCDateTime`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import operators

from core.enums import ActivityStatus, Channel


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC; return them aware (UTC) on both SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are stable across databases."""

    metadata = MetaData(naming_convention=NAMING)


class District(Base):
    """A 区（市）县 of Chengdu (or a functional area reported like one)."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    organisations: Mapped[list[Organisation]] = relationship(back_populates="district")


class DistrictFigures(Base):
    """Per-year district figures the annexes need but the registry cannot count."""

    __tablename__ = "district_figures"
    __table_args__ = (UniqueConstraint("district_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    local_enterprises: Mapped[int | None] = mapped_column(Integer)  # 属地企业数量
    tech_enterprises: Mapped[int | None] = mapped_column(Integer)  # 科技企业数量
    zones: Mapped[int | None] = mapped_column(Integer)  # 产业功能区数量
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Organisation(Base):
    """An association: 企业科协 (annex 1-1) or 产业功能区科协 (annex 1-2)."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # OrgKind
    name: Mapped[str] = mapped_column(String(200))
    approval_no: Mapped[str | None] = mapped_column(String(200))  # 批准文号
    approval_date: Mapped[date | None] = mapped_column(Date)  # 批准时间
    address: Mapped[str | None] = mapped_column(String(500))  # 通信地址
    # annex 1-1 (enterprise)
    employees: Mapped[int | None] = mapped_column(Integer)  # 员工总数
    tech_staff: Mapped[int | None] = mapped_column(Integer)  # 科技人员数
    association_members: Mapped[int | None] = mapped_column(Integer)  # 科协会员数
    ownership: Mapped[str | None] = mapped_column(String(8))  # 单位性质 国企/民企
    # annex 1-2 (zone)
    unit_members: Mapped[int | None] = mapped_column(Integer)  # 单位会员数量
    individual_members: Mapped[int | None] = mapped_column(Integer)  # 个人会员数量
    secretariat_unit: Mapped[str | None] = mapped_column(String(200))  # 秘书长执行单位
    zone_form: Mapped[str | None] = mapped_column(String(8))  # 民办非 / 内设
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship(back_populates="organisations")
    officers: Mapped[list[Officer]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Officer.position"
    )


class Officer(Base):
    """A person in one of the annexes' person columns (姓名/职务/电话)."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))  # OfficerRole
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)

    organisation: Mapped[Organisation] = relationship(back_populates="officers")


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


class Activity(Base):
    """One reported activity: the columns of annex 1-3 plus its lifecycle."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_org_status", "org_id", "status"),
        Index("ix_activities_status_date", "status", "activity_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ActivityStatus.DRAFT)
    activity_date: Mapped[date | None] = mapped_column(Date)  # 时间
    name: Mapped[str | None] = mapped_column(String(200))  # 服务（活动）名称
    content: Mapped[str | None] = mapped_column(Text)  # 服务（活动）内容
    role: Mapped[str | None] = mapped_column(String(8))  # 主办/协办/承办
    headcount: Mapped[int | None] = mapped_column(Integer)  # 参与人数
    outcome: Mapped[str | None] = mapped_column(Text)  # 取得成效
    category: Mapped[str | None] = mapped_column(String(32))
    ref_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    # Optimistic concurrency for amendments: raised by every change to a submitted report, so
    # an editor who opened an older version is told instead of silently overwriting it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    author: Mapped[Member] = relationship()
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Evidence.position"
    )


class Evidence(Base):
    """A file attached to an activity; the bytes live content-addressed under the data dir."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("activity_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # photo / document
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer, default=0)
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="evidence")
    # Small (one row per channel that knows the file) and needed wherever evidence is re-sent.
    channel_files: Mapped[list[EvidenceChannelFile]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="EvidenceChannelFile.channel"
    )

    def file_id_for(self, channel: str) -> str | None:
        """The channel's id for this file (to send it again without uploading), if it has one."""
        for row in self.channel_files:
            if row.channel == channel:
                return row.file_id
        return None


class EvidenceChannelFile(Base):
    """A channel's handle on an evidence file: Telegram's file_id and file_unique_id.

    The evidence row itself is channel-free (sha256, kind, name, type, size); this side table
    lets a channel re-send the file without uploading it and spot a re-sent file before
    downloading it.
    """

    __tablename__ = "evidence_channel_files"

    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)  # Channel
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_unique_id: Mapped[str | None] = mapped_column(String(128))


class AuditEntry(Base):
    """A change to a submitted report: who changed what, from what, to what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(16))  # submit / edit / withdraw / evidence
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatState(Base):
    """Where a member is in a conversation. The database *is* the conversation state."""

    __tablename__ = "chat_states"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Plan(Base):
    """A planned activity noted with /plan, chased by the scheduler until it is reported."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(200))
    planned_date: Mapped[date] = mapped_column(Date, index=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnualDeadline(Base):
    """The annual tables' deadline for one reporting year (default 30 November)."""

    __tablename__ = "annual_deadlines"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deadline: Mapped[date] = mapped_column(Date)


class OutboxMessage(Base):
    """A message the scheduler decided to send; the unique key makes every decision idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)


class ExportJob(Base):
    """A running or finished export, so one admin cannot start two at once (across processes)."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    scope: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
