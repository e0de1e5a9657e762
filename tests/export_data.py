"""A seeded district for the export tests: associations with officers, district figures, and
activities in every status (only the submitted ones of the year may appear in an annex)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus, OrgKind
from storage.evidence import EvidenceStorage
from storage.models import Activity, DistrictFigures, Evidence, Officer, Organisation
from storage.registry import district_by_name, seed_districts
from tests.accounts import telegram_member
from tests.standin import make_jpeg

YEAR = 2021
TRICKY_NAME = '=HYPERLINK("http://x")讲座'  # must stay text in every spreadsheet program


@dataclass
class Seeded:
    """Ids of what was made."""

    district_id: int = 0
    other_district_id: int = 0
    enterprise_ids: list[int] = field(default_factory=list)
    zone_ids: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)  # in 锦江区, in YEAR, by date
    excluded: list[int] = field(default_factory=list)
    photos: dict[int, int] = field(default_factory=dict)  # activity id -> evidence count


def _officers(org: Organisation, roles: list[tuple[str, str, str | None, str | None]]) -> None:
    for position, (role, name, title, phone) in enumerate(roles):
        org.officers.append(
            Officer(role=role, name=name, title=title, phone=phone, position=position)
        )


async def seed_export_data(
    session: AsyncSession, store: EvidenceStorage, year: int = YEAR
) -> Seeded:
    """Seed 锦江区 (two enterprise associations, one zone) and 青羊区 (one enterprise), with
    activities in ``year``."""
    await seed_districts(session)
    jinjiang = await district_by_name(session, "锦江区")
    qingyang = await district_by_name(session, "青羊区")
    assert jinjiang is not None and qingyang is not None
    out = Seeded(district_id=jinjiang.id, other_district_id=qingyang.id)
    session.add(
        DistrictFigures(
            district_id=jinjiang.id, year=year, local_enterprises=500, tech_enterprises=8, zones=4
        )
    )
    reporter = telegram_member(900001, first_name="王芳")
    session.add(reporter)

    e1 = Organisation(
        district_id=jinjiang.id,
        kind=OrgKind.ENTERPRISE,
        name="成都智造科技有限公司科协",
        approval_no="锦科协〔2021〕3号",
        approval_date=date(year, 3, 15),
        address="成都市锦江区工业园区1号",
        employees=320,
        tech_staff=85,
        association_members=60,
        ownership="民企",
    )
    _officers(
        e1,
        [
            ("chair", "张三", "总工程师", "028-12345678"),
            ("vice_chair", "李四", "副总经理", "13800000001"),
            ("vice_chair", "王五", "研发部长", "13800000002"),
            ("secretary_general", "赵六", "办公室主任", "13800000003"),
            ("contact", "=钱七", "干事", "13800000004"),
        ],
    )
    e2 = Organisation(district_id=jinjiang.id, kind=OrgKind.ENTERPRISE, name="锦江国资公司科协")
    z1 = Organisation(
        district_id=jinjiang.id,
        kind=OrgKind.ZONE,
        name="锦江产业功能区科协",
        approval_no="锦民〔2020〕9号",
        approval_date=date(2020, 9, 1),
        address="锦江区功能区大道8号",
        unit_members=40,
        individual_members=300,
        secretariat_unit="锦江区科技局",
        zone_form="内设",
    )
    _officers(
        z1,
        [
            ("legal_rep", "孙八", "主任", "028-8888"),
            ("chair", "周九", "主任", None),
            ("contact", "吴十", None, "13900000000"),
        ],
    )
    q1 = Organisation(district_id=qingyang.id, kind=OrgKind.ENTERPRISE, name="青羊某公司科协")
    gone = Organisation(
        district_id=jinjiang.id, kind=OrgKind.ENTERPRISE, name="已注销科协", active=False
    )
    session.add_all([e1, e2, z1, q1, gone])
    await session.flush()
    out.enterprise_ids = [e1.id, e2.id]
    out.zone_ids = [z1.id]

    def activity(
        org: Organisation,
        day: date,
        name: str,
        status: str = ActivityStatus.SUBMITTED,
        **kw: object,
    ) -> Activity:
        a = Activity(
            org_id=org.id,
            author_id=reporter.id,
            status=status,
            activity_date=day,
            name=name,
            content=kw.get("content", f"{name}的内容：邀请专家讲解，面向园区企业。"),
            role=kw.get("role", "主办"),
            headcount=kw.get("headcount", 50),
            outcome=kw.get("outcome", "30家企业了解了政策。"),
            submitted_at=datetime(day.year, day.month, day.day, 6, tzinfo=UTC),
            on_time=kw.get("on_time", True),
            late_days=kw.get("late_days", 0),
        )
        session.add(a)
        return a

    # Inserted out of date order on purpose: the annex must sort by activity date.
    a3 = activity(z1, date(year, 11, 3), "科技政策解读会", role="协办", headcount=120)
    a1 = activity(e1, date(year, 3, 8), TRICKY_NAME, headcount=30)
    a2 = activity(e2, date(year, 6, 20), "院士专家工作站/培育:座谈*会?", on_time=False, late_days=2)
    # The statistical year ``year`` ends on its deadline, 30 November (inclusive).
    a4 = activity(
        e1, date(year, 11, 30), "年末学术交流", content="第一行\n第二行\n第三行", headcount=None
    )
    excluded = [
        activity(e1, date(year, 5, 1), "草稿活动", ActivityStatus.DRAFT),
        activity(e1, date(year, 5, 2), "撤回活动", ActivityStatus.WITHDRAWN),
        activity(e1, date(year, 5, 3), "放弃活动", ActivityStatus.CANCELLED),
        activity(e1, date(year - 1, 11, 30), "去年的活动"),
        activity(e1, date(year, 12, 1), "下一年度的活动"),
        activity(q1, date(year, 7, 1), "青羊区的活动"),
    ]
    await session.flush()
    out.submitted = [a1.id, a2.id, a3.id, a4.id]
    out.excluded = [a.id for a in excluded]

    seed = 0
    for act, photos, docs in ((a1, 3, 0), (a2, 1, 1), (a3, 2, 0), (a4, 0, 0)):
        for position in range(photos + docs):
            seed += 1
            if position < photos:
                data, kind, name, mime = make_jpeg(320, 240, seed=seed), "photo", None, "image/jpeg"
            else:
                data, kind, name, mime = (
                    b"%PDF-1.4 sign-in sheet",
                    "document",
                    "签到表.pdf",
                    "application/pdf",
                )
            session.add(
                Evidence(
                    activity_id=act.id,
                    sha256=store.put(data),
                    kind=kind,
                    file_name=name,
                    mime_type=mime,
                    size=len(data),
                    position=position,
                )
            )
        out.photos[act.id] = photos + docs
    await session.flush()
    return out
