"""Typed SQLAlchemy models, one module per part of the domain; every model is importable from
``storage.models`` as before."""

from __future__ import annotations

from core.enums import ActivityStatus, Channel, OfficerRole, OrgKind, Role
from storage.models.activities import (
    Activity,
    AuditEntry,
    ChatState,
    Evidence,
    EvidenceChannelFile,
    Plan,
)
from storage.models.base import NAMING, Base, UTCDateTime, utcnow
from storage.models.operations import AnnualDeadline, ExportJob, OutboxMessage
from storage.models.people import ChannelAccount, Invite, Member, Membership
from storage.models.registry import District, DistrictFigures, Officer, Organisation

__all__ = [
    "NAMING",
    "Activity",
    "ActivityStatus",
    "AnnualDeadline",
    "AuditEntry",
    "Base",
    "Channel",
    "ChannelAccount",
    "ChatState",
    "District",
    "DistrictFigures",
    "Evidence",
    "EvidenceChannelFile",
    "ExportJob",
    "Invite",
    "Member",
    "Membership",
    "Officer",
    "OfficerRole",
    "OrgKind",
    "Organisation",
    "OutboxMessage",
    "Plan",
    "Role",
    "UTCDateTime",
    "utcnow",
]
