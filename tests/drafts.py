"""A draft report in the making, as storage tests start from it."""

from __future__ import annotations

from core.enums import ActivityStatus, OrgKind
from storage.db import Database
from storage.models import Activity, ChatState, Evidence
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member


async def draft_at_name_step(db: Database, *, evidence: bool = False) -> tuple[int, int]:
    """(activity id, member id): a member of a new 锦江区 association with a draft, in flow
    ``report`` at step ``name``; with ``evidence``, the draft has one photo."""
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "甲科协")
        author = telegram_member(1, first_name="王")
        session.add(author)
        await session.flush()
        activity = Activity(org_id=org.id, author_id=author.id, status=ActivityStatus.DRAFT)
        session.add(activity)
        await session.flush()
        if evidence:
            session.add(Evidence(activity_id=activity.id, sha256="a" * 64, kind="photo"))
        session.add(ChatState(member_id=author.id, flow="report", step="name"))
        return activity.id, author.id
