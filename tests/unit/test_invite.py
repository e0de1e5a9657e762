"""Invites and memberships as services: single-use admin links, clear refusals, scoping of
/invites, immediate removal, and the QR code picture."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from core.enums import OrgKind, Role
from handlers.invite import qr_png
from services.members import join
from storage.db import Database
from storage.members import (
    create_invite,
    load_actor,
    load_membership,
    open_invites,
    remove_membership,
    revoke_invite,
)
from storage.models import utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import tg


async def _orgs(db: Database) -> tuple[int, int, int, int, int]:
    """(锦江 org A, 锦江 org B, 青羊 org C, 锦江 id, 青羊 id)."""
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        qingyang = await district_by_name(session, "青羊区")
        assert jinjiang and qingyang
        a = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "甲科协")
        b = await create_organisation(session, jinjiang, OrgKind.ZONE, "乙科协")
        c = await create_organisation(session, qingyang, OrgKind.ENTERPRISE, "丙科协")
        return a.id, b.id, c.id, jinjiang.id, qingyang.id


async def _redeem(db: Database, token: str, telegram_id: int) -> str | None:
    async with db.session() as session:
        result = await join(
            session, token, address=tg(telegram_id), first_name="某人", username=None
        )
        return result.key


async def test_admin_invites_are_single_use_whatever_was_asked(db: Database) -> None:
    a, *_ = await _orgs(db)
    async with db.session() as session:
        invite = await create_invite(session, role=Role.ORG_ADMIN, org_id=a, uses=20)
        assert invite.max_uses == 1
        token = invite.token
    assert await _redeem(db, token, 1) is None
    assert await _redeem(db, token, 1) is None  # the same person again: no second use burnt
    assert await _redeem(db, token, 2) == "invite_used_up"


async def test_expired_revoked_unknown_links_get_their_own_answer(db: Database) -> None:
    a, *_ = await _orgs(db)
    async with db.session() as session:
        old = await create_invite(
            session, role=Role.REPORTER, org_id=a, uses=5, days=1, now=utcnow() - timedelta(days=2)
        )
        revoked = await create_invite(session, role=Role.REPORTER, org_id=a, uses=5)
        revoke_invite(revoked)
        tokens = old.token, revoked.token
    assert await _redeem(db, tokens[0], 1) == "invite_expired"
    assert await _redeem(db, tokens[1], 1) == "invite_revoked"
    assert await _redeem(db, "no-such-token", 1) == "invite_unknown"


async def test_open_invites_are_scoped(db: Database) -> None:
    a, b, c, jinjiang, qingyang = await _orgs(db)
    async with db.session() as session:
        for org in (a, b, c):
            await create_invite(session, role=Role.REPORTER, org_id=org, uses=3)
        await create_invite(session, role=Role.DISTRICT_ADMIN, district_id=qingyang)
        used = await create_invite(session, role=Role.REPORTER, org_id=a)
        used.uses = 1
        gone = await create_invite(session, role=Role.REPORTER, org_id=a)
        revoke_invite(gone)
    async with db.session() as session:
        mine = await open_invites(session, org_ids=[a], district_ids=[])
        district = await open_invites(session, org_ids=[], district_ids=[jinjiang])
        other = await open_invites(session, org_ids=[], district_ids=[qingyang])
        everything = await open_invites(session, org_ids=[], district_ids=[], everything=True)
        later = await open_invites(
            session, org_ids=[a], district_ids=[], now=utcnow() + timedelta(days=8)
        )
    assert [i.org_id for i in mine] == [a]
    assert sorted(i.org_id for i in district if i.org_id) == sorted([a, b])
    assert {(i.org_id, i.district_id) for i in other} == {(c, None), (None, qingyang)}
    assert len(everything) == 4
    assert later == []  # expired after the default 7 days


async def test_removed_membership_loses_its_grant_at_once(db: Database) -> None:
    a, *_ = await _orgs(db)
    async with db.session() as session:
        token = (await create_invite(session, role=Role.REPORTER, org_id=a, uses=2)).token
    async with db.session() as session:
        result = await join(session, token, address=tg(7), first_name="王", username=None)
        assert result.member is not None and result.membership is not None
        member, membership_id = result.member, result.membership.id
        assert (await load_actor(session, member)).org_ids(Role.REPORTER) == [a]
    async with db.session() as session:
        membership = await load_membership(session, membership_id)
        assert membership is not None
        remove_membership(membership)
    async with db.session() as session:
        assert (await load_actor(session, member)).grants == ()
        membership = await load_membership(session, membership_id)
        assert membership is not None and membership.revoked_at is not None


def test_qr_code_is_a_printable_png() -> None:
    png = qr_png("https://t.me/kexie_test_bot?start=abcdefghijklmnopqrstuvwx")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size[0] == image.size[1] >= 290  # 29+ modules × 10 px with the quiet zone
