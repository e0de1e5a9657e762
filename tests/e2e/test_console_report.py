"""The console's report page (web/report.py): every field and the audit history, the photos'
thumbnails and full files, documents downloaded under their Chinese names, 通过 / 退回 through
the chat's own services (and the return reaching the reporter in chat), and the refusals: out of
scope or missing → the same 404, a form without its CSRF token → 403, a hostile picture gets no
thumbnail."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from core.review_rules import ReviewState
from storage import reports
from storage.evidence import open_evidence_store
from storage.models import Activity, AuditEntry, Evidence, Member, utcnow
from tests.accounts import at_telegram
from tests.console import console_client, sign_in
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album
from tests.standin import FakeUser, make_jpeg
from tests.steps import stored_answers


async def member_id(kexie: Kexie, user_id: int) -> int:
    async with kexie.session() as session:
        found = await session.scalar(select(Member.id).where(at_telegram(user_id)))
    assert found is not None
    return int(found)


async def stored_report(
    kexie: Kexie,
    org_id: int,
    author: int,
    name: str,
    files: list[tuple[bytes, str, str | None, str]] | None = None,
) -> tuple[int, list[int]]:
    """A report submitted through storage.reports (the chat's services), its files (one photo
    by default) stored in the evidence store; returns the report id and its evidence ids."""
    if files is None:
        files = [(make_jpeg(seed=len(name)), "photo", None, "image/jpeg")]
    store = open_evidence_store(kexie.settings)
    tz = kexie.settings.tz
    author_id = await member_id(kexie, author)
    async with kexie.session() as session:
        activity = await reports.start_draft(session, author_id, org_id)
        when = utcnow().astimezone(tz).date() - timedelta(days=1)
        for field, value in stored_answers(
            when,
            activity_date=when,
            name=name,
            content="面向园区企业的技术交流。",
            headcount=40,
            outcome="8家企业提出合作需求。",
        ):
            reports.set_field(session, activity, field, value, author_id, tz)
        for data, kind, file_name, mime in files:
            await reports.add_evidence(
                session,
                activity,
                sha256=store.put(data),
                kind=kind,
                size=len(data),
                file_name=file_name,
                mime_type=mime,
                media_group_id=None,
                member_id=author_id,
            )
        await reports.submit(session, activity, author_id, tz)
        evidence = (
            await session.scalars(
                select(Evidence.id).where(Evidence.activity_id == activity.id).order_by(Evidence.id)
            )
        ).all()
        return activity.id, list(evidence)


async def two_districts(kexie: Kexie) -> tuple[FakeUser, int, FakeUser, int]:
    """A 锦江区 reporter and a 武侯区 reporter, each with their association."""
    jinjiang = await kexie.org("锦江光电科技科协", district="锦江区")
    wuhou = await kexie.org("武侯生物医药科协", district="武侯区")
    reporter = await kexie.member(6101, "reporter", org=jinjiang, first_name="王芳")
    other = await kexie.member(6102, "reporter", org=wuhou, first_name="李雷")
    return reporter, jinjiang, other, wuhou


def bomb_png(side: int = 10_000) -> bytes:
    """A valid PNG of ``side``×``side`` black-and-white pixels (100 megapixels) in ~12 KB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


async def state_of(kexie: Kexie, activity_id: int) -> tuple[str | None, list[str]]:
    async with kexie.session() as session:
        row = await session.get(Activity, activity_id)
        assert row is not None
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.activity_id == activity_id)
                .order_by(AuditEntry.id)
            )
        ).all()
        return row.review_state, list(actions)


async def test_the_page_shows_every_field_the_history_and_the_evidence(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(6001, "reporter", org=org, first_name="王芳")
    await kexie.member(6002, "district_admin", district="锦江区", first_name="陈静")
    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.ref_no
        ref, activity_id = activity.ref_no, activity.id
        # An amendment, as the chat's 修改 records it: 40人 → 45人.
        author = await member_id(kexie, 6001)
        reports.set_field(session, activity, "headcount", 45, author, kexie.settings.tz)
        evidence = (
            await session.scalars(
                select(Evidence).where(Evidence.activity_id == activity_id).order_by(Evidence.id)
            )
        ).all()
    photos = [e for e in evidence if e.kind == "photo"]
    document = next(e for e in evidence if e.kind != "photo")
    store = open_evidence_store(kexie.settings)

    async with console_client(kexie) as client:
        await sign_in(client, 6002)
        page = await client.get(f"/console/reports/{activity_id}")
        assert page.status_code == 200
        text = page.text
        for shown in (
            ref,
            "锦江光电科技科协",
            "锦江区",
            "光电产业技术交流会",
            "面向园区企业的技术交流。",
            "主办",
            "45人",
            "8家企业提出合作需求。",
            "王芳",
            "待审核",
            "✅ 按时",
        ):
            assert shown in text, shown
        yesterday = (local_today(kexie) - timedelta(days=1)).date()
        assert f"{yesterday.year}年{yesterday.month}月{yesterday.day}日" in text
        # The history: the submission and the amendment with its old → new values, by whom.
        history = text[text.index("修改记录") :]
        assert f"提交报送（编号 {ref}）" in history
        assert "修改 参与人数：40人 → 45人" in history and "王芳" in history
        # Photos as thumbnails opening the full file; the sign-in sheet as a download.
        for photo in photos:
            assert f'href="/console/evidence/{photo.id}"' in text
            assert f'src="/console/evidence/{photo.id}/thumb"' in text
        assert 'download="签到表.pdf"' in text and ">签到表.pdf</a>" in text
        assert 'name="reason"' in text and "/approve" in text

        full = await client.get(f"/console/evidence/{photos[0].id}")
        assert full.status_code == 200
        assert full.headers["content-type"] == "image/jpeg"
        assert full.headers["content-disposition"].startswith("inline")
        assert full.content == store.open(photos[0].sha256)

        thumb = await client.get(f"/console/evidence/{photos[0].id}/thumb")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert image.format == "JPEG" and max(image.size) <= 320
            original = Image.open(io.BytesIO(full.content))
            assert image.size[0] / image.size[1] == original.size[0] / original.size[1]
        again = await client.get(f"/console/evidence/{photos[0].id}/thumb")
        assert again.content == thumb.content
        assert (kexie.data_dir / "cache" / "thumbs" / f"{photos[0].sha256}.jpg").is_file()

        sheet = await client.get(f"/console/evidence/{document.id}")
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == "application/pdf"
        disposition = sheet.headers["content-disposition"]
        assert disposition.startswith("attachment")
        assert f"filename*=UTF-8''{quote('签到表.pdf')}" in disposition
        assert sheet.content == store.open(document.sha256)
        assert (await client.get(f"/console/evidence/{document.id}/thumb")).status_code == 404


async def test_another_district_reads_exactly_as_missing(kexie: Kexie) -> None:
    _reporter, jinjiang, _other, wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区", first_name="陈静")
    photo = make_jpeg(seed=21)
    wuhou_id, (wuhou_photo,) = await stored_report(
        kexie, wuhou, 6102, "武侯区的活动", [(photo, "photo", None, "image/jpeg")]
    )
    own_id, _ = await stored_report(kexie, jinjiang, 6101, "锦江区的活动")
    async with kexie.session() as session:
        # A draft is its author's until submitted: not a report the console shows.
        draft = await reports.start_draft(session, await member_id(kexie, 6101), jinjiang)
        missing = int(await session.scalar(select(func.max(Activity.id))) or 0) + 100
        missing_file = int(await session.scalar(select(func.max(Evidence.id))) or 0) + 100

    def same(a: httpx.Response, b: httpx.Response) -> None:
        assert a.status_code == b.status_code == 404
        assert a.text == b.text and "不在您管理的范围内" in a.text

    async with console_client(kexie) as client:
        await sign_in(client, 6103)
        assert (await client.get(f"/console/reports/{own_id}")).status_code == 200
        same(
            await client.get(f"/console/reports/{wuhou_id}"),
            await client.get(f"/console/reports/{missing}"),
        )
        same(
            await client.get(f"/console/evidence/{wuhou_photo}"),
            await client.get(f"/console/evidence/{missing_file}"),
        )
        same(
            await client.get(f"/console/evidence/{wuhou_photo}/thumb"),
            await client.get(f"/console/evidence/{missing_file}/thumb"),
        )
        same(
            await client.get(f"/console/reports/{draft.id}"),
            await client.get(f"/console/reports/{missing}"),
        )
        huge = await client.get(f"/console/reports/{10**30}")
        assert huge.status_code == 404
        # Deciding someone else's report: the same 404, and nothing changes.
        page = await client.get(f"/console/reports/{own_id}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        answer = await client.post(
            f"/console/reports/{wuhou_id}/approve", data={"csrf": csrf.group(1)}
        )
        same(
            answer,
            await client.post(f"/console/reports/{missing}/approve", data={"csrf": csrf.group(1)}),
        )
    assert (await state_of(kexie, wuhou_id))[0] == ReviewState.PENDING


async def test_a_form_without_its_csrf_token_changes_nothing(kexie: Kexie) -> None:
    _reporter, jinjiang, _other, _wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区")
    activity_id, _ = await stored_report(kexie, jinjiang, 6101, "锦江区的活动")
    async with console_client(kexie) as client:
        await sign_in(client, 6103)
        for path, data in (
            ("approve", {}),
            ("return", {"reason": "参与人数与签到表不符"}),
            ("approve", {"csrf": "forged"}),
        ):
            answer = await client.post(f"/console/reports/{activity_id}/{path}", data=data)
            assert answer.status_code == 403, path
    assert await state_of(kexie, activity_id) == (ReviewState.PENDING, ["submit"])


async def test_approve_then_the_next_pending_report_opens(kexie: Kexie) -> None:
    _reporter, jinjiang, _other, _wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区", first_name="陈静")
    first, _ = await stored_report(kexie, jinjiang, 6101, "第一场活动")
    second, _ = await stored_report(kexie, jinjiang, 6101, "第二场讲座")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6103)
        answer = await client.post(f"/console/reports/{first}/approve", data={"csrf": csrf})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/console/reports/{second}?after={first}"
        page = await client.get(answer.headers["location"])
        ref = (await kexie.get(Activity, first)).ref_no
        assert f"已通过 {ref}。" in page.text and "第二场讲座" in page.text
        state, actions = await state_of(kexie, first)
        assert state == ReviewState.APPROVED and actions == ["submit", "approve"]
        async with kexie.session() as session:
            entry = await session.scalar(
                select(AuditEntry).where(
                    AuditEntry.activity_id == first, AuditEntry.action == "approve"
                )
            )
            assert entry is not None and entry.member_id == await member_id(kexie, 6103)
        first_page = await client.get(f"/console/reports/{first}")
        assert "已通过</b> · 陈静" in first_page.text and 'action="/console/reports' not in (
            first_page.text
        )
        assert "审核通过" in first_page.text  # the history says it too

        # The last pending one: back to it, saying nothing else waits.
        answer = await client.post(f"/console/reports/{second}/approve", data={"csrf": csrf})
        assert answer.headers["location"] == f"/console/reports/{second}?after={second}&last=1"
        page = await client.get(answer.headers["location"])
        assert "没有更多待审核的报送了" in page.text


async def test_return_with_a_reason_reaches_the_reporter_in_chat(kexie: Kexie) -> None:
    reporter, jinjiang, _other, _wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区", first_name="陈静")
    activity_id, _ = await stored_report(kexie, jinjiang, 6101, "光电产业技术交流会")
    ref = (await kexie.get(Activity, activity_id)).ref_no
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6103)
        # Too short: the page again with the chat's sentence, the typed text kept, nothing done.
        short = await client.post(
            f"/console/reports/{activity_id}/return", data={"csrf": csrf, "reason": " 不 行 "}
        )
        assert short.status_code == 400
        assert "退回理由至少需要 4 个字" in short.text and "> 不 行 </textarea>" in short.text
        assert await state_of(kexie, activity_id) == (ReviewState.PENDING, ["submit"])

        answer = await client.post(
            f"/console/reports/{activity_id}/return",
            data={"csrf": csrf, "reason": "参与人数与签到表不符 <请核对>"},
        )
        assert answer.status_code == 303
        page = await client.get(answer.headers["location"])
        assert f"已退回 {ref}" in page.text and "没有更多待审核的报送了" in page.text
        assert "参与人数与签到表不符 &lt;请核对&gt;" in page.text  # escaped once, in the page
    state, actions = await state_of(kexie, activity_id)
    assert state == ReviewState.RETURNED and actions == ["submit", "return"]
    row = await kexie.get(Activity, activity_id)
    assert row.review_reason == "参与人数与签到表不符 <请核对>"

    # The reporter gets the return in chat as from a return made in the chat: queued with the
    # decision, sent at once (or, in quiet hours, by the morning's run below).
    morning = local_today(kexie) + timedelta(days=1, hours=9, minutes=5)
    await run_scheduler_at(kexie, morning)
    notice = await reporter.expect_any("参与人数与签到表不符 <请核对>")
    assert ref in notice.text and "陈静" in notice.text
    assert [b.text for row in notice.buttons for b in row] == ["✏️ 去修改", "📤 重新提交"]


async def test_a_decision_made_first_by_someone_else_is_told_not_overwritten(
    kexie: Kexie,
) -> None:
    _reporter, jinjiang, _other, _wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区", first_name="陈静")
    await kexie.member(6104, "district_admin", district="锦江区", first_name="刘洋")
    activity_id, _ = await stored_report(kexie, jinjiang, 6101, "光电产业技术交流会")
    async with console_client(kexie) as first, console_client(kexie) as second:
        csrf_first = await sign_in(first, 6103)
        csrf_second = await sign_in(second, 6104)
        # Both opened the page while it was pending; 陈静 returns it first.
        assert 'name="reason"' in (await second.get(f"/console/reports/{activity_id}")).text
        done = await first.post(
            f"/console/reports/{activity_id}/return",
            data={"csrf": csrf_first, "reason": "参与人数与签到表不符"},
        )
        assert done.status_code == 303
        for path, data in (
            ("approve", {}),
            ("return", {"reason": "活动名称写错了"}),
            ("return", {"reason": "不行"}),  # decided already says so, before the reason
        ):
            late = await second.post(
                f"/console/reports/{activity_id}/{path}", data={"csrf": csrf_second, **data}
            )
            assert late.status_code == 409, path
            assert "这条报送已由 陈静 于" in late.text and "处理：已退回" in late.text
    state, actions = await state_of(kexie, activity_id)
    assert state == ReviewState.RETURNED and actions == ["submit", "return"]
    assert (await kexie.get(Activity, activity_id)).review_reason == "参与人数与签到表不符"


async def test_a_decompression_bomb_gets_a_placeholder_not_a_thumbnail(kexie: Kexie) -> None:
    _reporter, jinjiang, _other, _wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区")
    bomb = bomb_png()
    assert len(bomb) < 64 * 1024
    activity_id, (bomb_id, fine_id) = await stored_report(
        kexie,
        jinjiang,
        6101,
        "光电产业技术交流会",
        [
            (bomb, "photo", "照片.png", "image/png"),
            (make_jpeg(seed=5), "photo", None, "image/jpeg"),
        ],
    )
    async with console_client(kexie) as client:
        await sign_in(client, 6103)
        answer = await client.get(f"/console/evidence/{bomb_id}/thumb")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.headers["x-thumbnail"] == "none"
        assert not (kexie.data_dir / "cache" / "thumbs").exists() or not any(
            (kexie.data_dir / "cache" / "thumbs").glob("*.jpg")
        )
        # The console keeps serving: the page and the next thumbnail.
        assert (await client.get(f"/console/reports/{activity_id}")).status_code == 200
        fine = await client.get(f"/console/evidence/{fine_id}/thumb")
        assert fine.status_code == 200 and fine.headers["content-type"] == "image/jpeg"


def test_bomb_png_is_what_it_claims() -> None:
    """The test's bomb is a real 100-megapixel PNG: Pillow itself warns about it."""
    with pytest.warns(Image.DecompressionBombWarning), Image.open(io.BytesIO(bomb_png())) as image:
        assert image.size == (10_000, 10_000)


async def test_a_file_gone_from_the_store_is_a_404_not_an_error(kexie: Kexie) -> None:
    _reporter, jinjiang, _other, _wuhou = await two_districts(kexie)
    await kexie.member(6103, "district_admin", district="锦江区")
    _activity_id, (photo_id,) = await stored_report(kexie, jinjiang, 6101, "光电产业技术交流会")
    store = open_evidence_store(kexie.settings)
    async with kexie.session() as session:
        photo = await session.get(Evidence, photo_id)
        assert photo is not None
    store.path_for(photo.sha256).unlink()  # type: ignore[attr-defined]
    async with console_client(kexie) as client:
        await sign_in(client, 6103)
        assert (await client.get(f"/console/evidence/{photo_id}")).status_code == 404
        assert (await client.get(f"/console/evidence/{photo_id}/thumb")).status_code == 404
