"""The /status figures as a service, and the registry's completeness and field rules."""

from __future__ import annotations

from datetime import date

import pytest

from core.enums import ActivityStatus, OrgKind
from core.registry_rules import FieldSpec, Person, field_by_key
from core.years import ReportingYears
from storage.db import Database
from storage.models import Activity
from storage.registry import (
    RegistryError,
    create_organisation,
    district_by_name,
    district_figures,
    load_organisation,
    missing_fields,
    set_district_figure,
    set_field,
)
from storage.status import district_status
from tests.accounts import telegram_member


async def test_status_counts_gaps_silence_and_late_reports(db: Database) -> None:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        qingyang = await district_by_name(session, "青羊区")
        assert jinjiang and qingyang
        busy = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "活跃科协")
        quiet = await create_organisation(session, jinjiang, OrgKind.ZONE, "安静科协")
        far = await create_organisation(session, qingyang, OrgKind.ENTERPRISE, "别区科协")
        author = telegram_member(1, first_name="王")
        session.add(author)
        await session.flush()

        def activity(org_id: int, day: date, status: str, on_time: bool | None) -> Activity:
            return Activity(
                org_id=org_id, author_id=author.id, status=status, activity_date=day,
                on_time=on_time,
            )  # fmt: skip

        session.add_all(
            [
                activity(busy.id, date(2021, 3, 1), ActivityStatus.SUBMITTED, True),
                activity(busy.id, date(2021, 6, 1), ActivityStatus.SUBMITTED, False),
                activity(busy.id, date(2020, 6, 1), ActivityStatus.SUBMITTED, False),  # last year
                # The statistical year 2021 runs from 1 December 2020 to 30 November 2021.
                activity(busy.id, date(2020, 12, 1), ActivityStatus.SUBMITTED, True),
                activity(busy.id, date(2021, 12, 1), ActivityStatus.SUBMITTED, False),  # 2022's
                activity(quiet.id, date(2021, 6, 1), ActivityStatus.DRAFT, None),  # not reported
                activity(quiet.id, date(2021, 7, 1), ActivityStatus.WITHDRAWN, False),
                activity(far.id, date(2021, 6, 1), ActivityStatus.SUBMITTED, False),  # elsewhere
            ]
        )
        await session.flush()
        status = await district_status(session, jinjiang.id, 2021, ReportingYears())
        jinniu = await district_by_name(session, "金牛区")
        assert jinniu is not None
        empty = await district_status(session, jinniu.id, 2021, ReportingYears())
    assert (status.organisations, status.enterprises, status.zones) == (2, 1, 1)
    assert (status.reports, status.late) == (3, 1)
    assert [o.name for o in status.silent] == ["安静科协"]
    assert sorted((o.name, n) for o, n in status.incomplete) == [("安静科协", 13), ("活跃科协", 12)]
    assert (empty.organisations, empty.reports, empty.silent) == (0, 0, [])


async def test_fields_fill_the_card_and_counts_are_checked_together(db: Database) -> None:
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district
        org_id = (await create_organisation(session, district, OrgKind.ENTERPRISE, "甲科协")).id
    async with db.session() as session:
        org = await load_organisation(session, org_id)
        assert org is not None and len(missing_fields(org)) == 12
        kind = org.kind

        def spec(key: str) -> FieldSpec:
            found = field_by_key(kind, key)
            assert found is not None
            return found

        set_field(org, spec("tech_staff"), 50)
        with pytest.raises(RegistryError) as refused:
            set_field(org, spec("employees"), 40)
        assert refused.value.key == "reg_err_tech_exceeds"
        set_field(org, spec("employees"), 50)
        set_field(
            org,
            spec("vice_chair"),
            [Person("李", "副主席", "13900000001"), Person("王", "", "028-12345678")],
        )
        set_field(org, spec("vice_chair"), [Person("赵", "副主席", "13900000002")])  # replaces
        await session.flush()
    async with db.session() as session:
        org = await load_organisation(session, org_id)
        assert org is not None
        assert [o.name for o in org.officers] == ["赵"]
        assert [f.key for f in missing_fields(org)][:3] == [
            "approval_no",
            "approval_date",
            "association_members",
        ]


async def test_district_figures_per_year(db: Database) -> None:
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district
        await set_district_figure(session, district.id, 2021, "tech_enterprises", 16)
        await set_district_figure(session, district.id, 2021, "tech_enterprises", 18)
        await set_district_figure(session, district.id, 2022, "zones", 3)
        this_year = await district_figures(session, district.id, 2021)
        with pytest.raises(ValueError):
            await set_district_figure(session, district.id, 2021, "name", 1)
    assert (this_year.tech_enterprises, this_year.local_enterprises, this_year.zones) == (
        18,
        None,
        None,
    )
