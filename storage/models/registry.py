"""The registry: districts, their yearly figures, associations and their officers (1-1, 1-2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    pass


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
