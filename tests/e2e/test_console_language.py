"""The console in the visitor's language (issue 20): an admin who chose English in /settings
reads English dates ("9 June 2026") in the reports list and the report's header, and a page
that cannot be opened (404) is in English too; a Chinese reader keeps 2026年6月9日."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from storage.models import Activity, Member
from tests.accounts import at_telegram
from tests.console import console_client, sign_in
from tests.harness import Kexie
from tests.journeys import submit_report_with_album
from web.page import local_date


def test_dates_are_written_in_the_reader_s_language() -> None:
    assert local_date("en", date(2021, 11, 3)) == "3 November 2021"
    assert local_date("zh", date(2021, 11, 3)) == "2021年11月3日"


async def test_an_english_reader_gets_english_dates_and_an_english_404(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(7501, "reporter", org=org)
    await kexie.member(7502, "district_admin", district="锦江区", first_name="陈静")
    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.activity_date is not None
        day, report_id = activity.activity_date, activity.id
        await session.execute(update(Member).where(at_telegram(7502)).values(language="en"))
    english, chinese = local_date("en", day), local_date("zh", day)
    async with console_client(kexie) as client:
        await sign_in(client, 7502)
        listing = await client.get("/console/reports")
        report = await client.get(f"/console/reports/{report_id}")
        missing = await client.get("/console/reports/999999")
    assert listing.status_code == 200 and report.status_code == 200
    assert english in listing.text and chinese not in listing.text
    assert f"· {english}</p>" in report.text  # the header: association · district · date
    assert missing.status_code == 404
    assert "Cannot open this (404)" in missing.text and "无法打开" not in missing.text
    assert 'lang="en"' in missing.text
