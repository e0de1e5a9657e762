"""Channel identity in storage: members found through their channel accounts, evidence file ids
kept beside the channel-free evidence row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.address import Address
from core.enums import Channel, OrgKind, Role
from services.members import join
from storage.db import Database
from storage.members import create_invite, load_for_update, member_by_address
from storage.models import (
    Activity,
    ChannelAccount,
    Evidence,
    EvidenceChannelFile,
    Member,
    Organisation,
)
from storage.registry import create_organisation, district_by_name
from storage.reports import add_evidence, has_evidence_unique, start_draft
from tests.accounts import at_telegram, telegram_member, tg

BIG = 7_123_456_789
# A second channel, stored as text: the Channel enum gets its second member in a later issue,
# and storage needs nothing new for it.
WECOM: Any = "wecom"


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) run on ``db`` inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _join(db: Database, telegram_id: int, username: str | None = "wang") -> int:
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "某科协")
        invite = await create_invite(session, role=Role.REPORTER, org_id=org.id, uses=5)
        result = await join(
            session, invite.token, address=tg(telegram_id), first_name="王", username=username
        )
        assert result.key is None and result.member is not None
        return result.member.id


async def test_joining_makes_a_telegram_account(db: Database) -> None:
    member_id = await _join(db, BIG, "wang")
    async with db.session() as session:
        rows = (await session.scalars(select(ChannelAccount))).all()
        assert [(a.member_id, a.channel, a.external_id, a.username) for a in rows] == [
            (member_id, "telegram", str(BIG), "wang")
        ]
    # Joining again (another link) updates the username on the same account.
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "另一科协")
        invite = await create_invite(session, role=Role.REPORTER, org_id=org.id)
        result = await join(
            session, invite.token, address=tg(BIG), first_name="王", username="wang2"
        )
        assert result.member is not None and result.member.id == member_id
    async with db.session() as session:
        account = await session.scalar(select(ChannelAccount))
        assert account is not None and account.username == "wang2"
        assert await session.scalar(text("SELECT count(*) FROM channel_accounts")) == 1


async def test_per_update_lookup_is_one_indexed_query(db: Database) -> None:
    member_id = await _join(db, BIG)
    async with db.session() as session:
        with statements(db) as seen:
            member = await member_by_address(session, tg(BIG))
            assert member is not None and member.id == member_id
            assert member.address() == tg(BIG)  # already loaded: no second query
            assert member.account(Channel.TELEGRAM) is not None
        assert len(seen) == 1, seen
        sql, params = seen[0]
        conn = await session.connection()
        plan = " ".join(
            str(row[-1]) for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        )
        # Found through the unique (channel, external_id) index, not by scanning.
        assert "channel=? AND external_id=?" in plan, plan
        assert await member_by_address(session, tg(BIG + 1)) is None
        # The same id on another channel is another person.
        assert await member_by_address(session, Address(WECOM, str(BIG))) is None


async def test_members_of_any_load_carry_their_accounts(db: Database) -> None:
    member_id = await _join(db, 1001)
    async with db.session() as session:
        with statements(db) as seen:
            member = await session.get(Member, member_id)
            assert member is not None and member.address() == tg(1001)
            assert member.address(Channel.TELEGRAM) == tg(1001)
        assert len(seen) == 1
        assert await session.scalar(select(Member.id).where(at_telegram(1001))) == member_id


async def test_a_member_with_two_channels_is_found_on_each_and_reached_on_the_first(
    db: Database,
) -> None:
    """Issue 21, item 3: a second channel is a second account row, nothing else."""
    member_id = await _join(db, 1001)
    async with db.session() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        member.accounts.append(ChannelAccount(channel=WECOM, external_id="wx-Zhang.San"))
    async with db.session() as session:
        by_telegram = await member_by_address(session, tg(1001))
        by_other = await member_by_address(session, Address(WECOM, "wx-Zhang.San"))
        assert by_telegram is not None and by_other is not None
        assert by_telegram.id == by_other.id == member_id
        assert {a.channel for a in by_other.accounts} == {"telegram", "wecom"}
        assert by_other.address() == tg(1001)  # the channel they joined through
        other = by_other.account(WECOM)
        assert other is not None and other.external_id == "wx-Zhang.San"
        loaded = await load_for_update(session, Address(WECOM, "wx-Zhang.San"))
        assert loaded is not None and len(loaded.accounts) == 2


async def test_a_member_made_in_code_gets_an_account(db: Database) -> None:
    async with db.session() as session:
        member = telegram_member(42, first_name="甲")
        session.add(member)
        await session.flush()
        account = member.account(Channel.TELEGRAM)
        assert account is not None
        assert (account.channel, account.external_id) == ("telegram", "42")
    async with db.sessionmaker() as session:
        session.add(telegram_member(42, first_name="乙"))
        with pytest.raises(IntegrityError):  # one member per Telegram account
            await session.flush()


async def _add(
    session: AsyncSession,
    activity: Activity,
    sha256: str,
    channel: str | None = None,
    file_id: str | None = None,
    file_unique_id: str | None = None,
) -> tuple[bool, int]:
    added = await add_evidence(
        session,
        activity,
        sha256=sha256,
        kind="photo",
        size=10,
        file_name=None,
        mime_type="image/jpeg",
        media_group_id=None,
        member_id=activity.author_id,
        channel=channel,
        file_id=file_id,
        file_unique_id=file_unique_id,
    )
    return added.added, added.total


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_evidence_file_ids_live_beside_the_row(db: Database) -> None:
    member_id = await _join(db, 1001)
    async with db.session() as session:
        org = await session.scalar(select(Organisation))
        assert org is not None
        activity = await start_draft(session, member_id, org.id)
        tg = Channel.TELEGRAM
        assert await _add(session, activity, "a" * 64, tg, "AgAC-1", "AQAD-1") == (True, 1)
        # The same bytes again (even as another Telegram file) count once.
        assert await _add(session, activity, "a" * 64, tg, "AgAC-2", "AQAD-2") == (False, 1)
        # A file from a channel without file ids keeps no side row.
        assert await _add(session, activity, "b" * 64) == (True, 2)
        assert await has_evidence_unique(session, activity.id, "AQAD-1")
        assert not await has_evidence_unique(session, activity.id, "AQAD-2")
        assert not await has_evidence_unique(session, activity.id, "AQAD-1", channel="wecom")
        activity_id = activity.id
    async with db.session() as session:
        sides = (await session.scalars(select(EvidenceChannelFile))).all()
        assert [(s.channel, s.file_id, s.file_unique_id) for s in sides] == [
            ("telegram", "AgAC-1", "AQAD-1")
        ]
        rows = (
            await session.scalars(
                select(Evidence)
                .where(Evidence.activity_id == activity_id)
                .order_by(Evidence.id)
                .options(selectinload(Evidence.channel_files))
            )
        ).all()
        assert [e.file_id_for(Channel.TELEGRAM) for e in rows] == ["AgAC-1", None]
    async with db.session() as session:
        # Deleting the evidence deletes its channel handles, not loaded (the foreign key's
        # cascade does it).
        first = await session.scalar(
            select(Evidence).where(Evidence.activity_id == activity_id).order_by(Evidence.id)
        )
        assert first is not None and "channel_files" in inspect(first).unloaded
        await session.delete(first)
        await session.flush()
        assert await session.scalar(text("SELECT count(*) FROM evidence_channel_files")) == 0
