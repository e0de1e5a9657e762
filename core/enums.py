"""The fixed vocabularies of the domain, shared by every layer (stored as their values)."""

from __future__ import annotations

import enum


class OrgKind(enum.StrEnum):
    """企业科协 or 产业功能区科协."""

    ENTERPRISE = "enterprise"
    ZONE = "zone"


class Role(enum.StrEnum):
    """What a member may do, from narrowest to widest scope."""

    REPORTER = "reporter"
    ORG_ADMIN = "org_admin"
    DISTRICT_ADMIN = "district_admin"
    CITY_ADMIN = "city_admin"


class ActivityStatus(enum.StrEnum):
    """Lifecycle of a report."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class OfficerRole(enum.StrEnum):
    """The person columns of annexes 1-1 and 1-2."""

    LEGAL_REP = "legal_rep"  # 法人代表 (zones only)
    CHAIR = "chair"  # 主席
    VICE_CHAIR = "vice_chair"  # 副主席 (several allowed)
    SECRETARY_GENERAL = "secretary_general"  # 秘书长
    DEPUTY_SECRETARY_GENERAL = "deputy_secretary_general"  # 副秘书长
    CONTACT = "contact"  # 联系人


class Channel(enum.StrEnum):
    """A messaging channel through which members reach the bot (``channel_accounts.channel``)."""

    TELEGRAM = "telegram"
    DINGTALK = "dingtalk"
