"""Typed SQLAlchemy models, one module per part of the domain; the package gathers them, so
every model is imported from ``storage.models`` (the enums they use from ``core.enums``)."""

from __future__ import annotations

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
from storage.models.people import ChannelAccount, Invite, LinkCode, Member, Membership
from storage.models.registry import District, DistrictFigures, Officer, Organisation

__all__ = [
    "NAMING",
    "Activity",
    "AnnualDeadline",
    "AuditEntry",
    "Base",
    "ChannelAccount",
    "ChatState",
    "District",
    "DistrictFigures",
    "Evidence",
    "EvidenceChannelFile",
    "ExportJob",
    "Invite",
    "LinkCode",
    "Member",
    "Membership",
    "Officer",
    "Organisation",
    "OutboxMessage",
    "Plan",
    "UTCDateTime",
    "utcnow",
]
