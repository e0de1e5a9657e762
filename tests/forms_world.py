"""A realistic city for the printed forms, as plain rows (no database): the 23 districts, 42
associations with long Chinese names, several vice-chairs, landlines and mobiles, and activities
spread unevenly, with districts that have no zone association and districts that reported nothing.

Deterministic (no randomness), so a rendered page can be compared from one run to the next.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.registry_rules import Person
from exports.rows import DistrictFacts, EvidenceFile, PrintedActivity, PrintedOrg
from exports.scope import CITY_NAME, Level, Scope, district_unit
from exports.service import ANNEXES, ExportData
from storage.registry import CHENGDU_DISTRICTS

YEAR = 2021
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("建国", "晓梅", "志强", "丽华", "海涛", "静", "伟", "雪莲", "春生", "桂英")
TITLES = ("总经理", "副总经理", "总工程师", "研发中心主任", "人力资源部长", "办公室主任", "干事")
INDUSTRIES = (
    "电子信息产业功能区", "生物医药创新孵化", "轨道交通装备制造", "航空航天精密制造",
    "新能源汽车零部件", "数字文创产业园区",
)  # fmt: skip
ZONES_IN = (0, 1, 2, 4, 5, 7, 9, 12, 14, 20, 21, 22)  # districts holding a zone association
SILENT = (6, 16, 18)  # districts whose associations reported nothing this year


def person(n: int, landline: bool = False) -> Person:
    """Someone with a name, a title and a phone (a landline every third person)."""
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
    phone = f"028-8{n % 10}{(n * 7919) % 1_000_000:06d}" if landline else f"138{n:08d}"
    return Person(name, TITLES[n % len(TITLES)], phone)


def _officers(n: int, zone: bool) -> dict[str, tuple[Person, ...]]:
    people: dict[str, tuple[Person, ...]] = {
        "chair": (person(n, landline=True),),
        "vice_chair": tuple(person(n + k, landline=k == 2) for k in range(1, 2 + n % 3)),
        "secretary_general": (person(n + 5),),
        "deputy_secretary_general": tuple(person(n + 6 + k) for k in range(n % 2)),
        "contact": (person(n + 8, landline=n % 2 == 0),),
    }
    if zone:
        people["legal_rep"] = (person(n + 9, landline=True),)
    return people


def orgs() -> list[PrintedOrg]:
    """30 enterprise and 12 zone associations (锦江区 has 8 of the first kind, 4 in all … )."""
    rows: list[PrintedOrg] = []
    n = 0
    for d, district in enumerate(CHENGDU_DISTRICTS):
        count = 8 if d == 0 else (2 if d in (1, 3, 5, 9) else 1 if d < 15 else 0)
        if d in (20, 21, 22):
            count = 1
        for k in range(count):
            n += 1
            industry = INDUSTRIES[n % len(INDUSTRIES)]
            rows.append(
                PrintedOrg(
                    id=n, kind="enterprise",
                    name=f"成都{district[:-1]}{industry}科技股份有限公司科学技术协会",
                    district_id=d + 1, district_name=district,
                    approval_no=f"{district[:2]}科协〔{YEAR}〕{k + 3}号",
                    approval_date=date(YEAR, 1 + n % 11, 1 + n % 27),
                    address=f"成都市{district}{industry}大道{100 + n}号{n % 9 + 1}栋",
                    employees=300 + 17 * n, tech_staff=40 + 3 * n, association_members=30 + n,
                    ownership="国企" if n % 3 == 0 else "民企",
                    officers=_officers(n, zone=False),
                )
            )  # fmt: skip
    for d in ZONES_IN:
        district = CHENGDU_DISTRICTS[d]
        for k in range(4 if d == 0 else 1):
            n += 1
            industry = INDUSTRIES[(n + k) % len(INDUSTRIES)]
            rows.append(
                PrintedOrg(
                    id=n, kind="zone", name=f"成都{district}{industry}科学技术协会",
                    district_id=d + 1, district_name=district,
                    approval_no=f"{district[:2]}民〔{YEAR - 1}〕{n}号",
                    approval_date=date(YEAR - 1, 1 + n % 12, 1 + n % 27),
                    address=f"成都市{district}{industry}管委会{n % 5 + 2}楼",
                    unit_members=20 + n, individual_members=200 + 9 * n,
                    secretariat_unit=f"{district}{industry}管理委员会",
                    officers=_officers(n, zone=True),
                )
            )  # fmt: skip
    return rows


def districts(rows: list[PrintedOrg]) -> list[DistrictFacts]:
    """The 23 districts with their counts; every fourth one has not entered its figures."""
    facts = []
    for d, name in enumerate(CHENGDU_DISTRICTS):
        mine = [r for r in rows if r.district_id == d + 1]
        filled = d % 4 != 3
        facts.append(
            DistrictFacts(
                id=d + 1, name=name,
                enterprise_orgs=sum(1 for r in mine if r.kind == "enterprise"),
                zone_orgs=sum(1 for r in mine if r.kind == "zone"),
                local_enterprises=1200 + 37 * d if filled else None,
                tech_enterprises=40 + 3 * d if filled else None,
                zones=2 + d % 3 if filled else None,
            )
        )  # fmt: skip
    return facts


def activities(rows: list[PrintedOrg], count: int = 170) -> list[PrintedActivity]:
    """``count`` submitted activities, by date, from every association outside SILENT."""
    active = [r for r in rows if r.district_id - 1 not in SILENT]
    kinds = ("科技政策解读会", "院士专家工作站培育座谈会", "科普进园区活动", "产学研对接会")
    out = []
    for i in range(count):
        org = active[(i * 7) % len(active)]
        day = date(YEAR - 1, 12, 1) if i == 0 else date(YEAR, 1 + i % 11, 1 + i % 28)
        out.append(
            PrintedActivity(
                id=i + 1, activity_date=day,
                name=f"{org.district_name}{kinds[i % len(kinds)]}（第{i % 5 + 1}期）",
                content="邀请市科技局专家解读科技企业扶持政策，面向园区企业，现场答疑并收集需求。"
                * (1 + i % 3),
                role=("主办", "协办", "承办")[i % 3], headcount=20 + i % 200,
                outcome="30家企业了解了申报流程，5家企业当场提交了意向。",
                org_name=org.name, org_kind=org.kind,
                district_id=org.district_id, district_name=org.district_name,
                submitted_at=datetime(YEAR, 1 + i % 11, 1 + i % 28, 6, tzinfo=UTC),
                on_time=i % 6 != 0, late_days=0 if i % 6 else 2, author_name="王芳",
                evidence=(EvidenceFile(f"{i:064x}", "photo"),) * (1 + i % 4),
                review_state="approved",
            )
        )  # fmt: skip
    return sorted(out, key=lambda a: (a.activity_date, a.id))


def export_data(district: str | None = None) -> ExportData:
    """The world's export of every annex: the whole city, or one district."""
    rows = orgs()
    facts = districts(rows)
    acts = activities(rows)
    if district is None:
        scope, name, unit = Scope(Level.CITY, YEAR), CITY_NAME, district_unit(CITY_NAME)
    else:
        facts = [d for d in facts if d.name == district]
        scope = Scope(Level.DISTRICT, YEAR, district_id=facts[0].id)
        name, unit = district, district_unit(district)
        rows = [r for r in rows if r.district_id == facts[0].id]
        acts = [a for a in acts if a.district_id == facts[0].id]
    return ExportData(
        scope=scope, name=name, annexes=ANNEXES, districts=facts, unit=unit, activities=acts,
        enterprises=[r for r in rows if r.kind == "enterprise"],
        zones=[r for r in rows if r.kind == "zone"],
    )  # fmt: skip
