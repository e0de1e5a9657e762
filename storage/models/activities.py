"""Reports (annex 1-3), their evidence files, the audit log, conversation state and plans."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.enums import ActivityStatus
from storage.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from storage.models.people import Member
    from storage.models.registry import Organisation


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
    # Review (审核) by the district: pending / approved / returned (core.review_rules.ReviewState);
    # None for drafts never submitted. Who decided last, when, and the reason of a return.
    review_state: Mapped[str | None] = mapped_column(String(16), index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)
    # The 3-day rule is judged on the first submission: a correction after a return is not late.
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    author: Mapped[Member] = relationship(foreign_keys=[author_id])
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
    # Loaded only when asked for (``selectinload``): the deliveries that re-send a file query
    # its channel ids themselves (storage/notices.py), and a query per evidence load for rows
    # nobody reads was 9 % of 提交's CPU (py-spy). Deleting evidence leaves its handles to the
    # foreign key's ON DELETE CASCADE (no load for that either).
    channel_files: Mapped[list[EvidenceChannelFile]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="EvidenceChannelFile.channel",
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
