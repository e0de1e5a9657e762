"""Annex 1-2: ``{year}年产业功能区科协组织建设统计表`` (same machinery as annex 1-1)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.enums import OfficerRole
from core.rules import format_date
from exports.annex11 import RegistryForm, RegistrySection, Value, figure, write_registry
from exports.rows import DistrictFacts, PrintedOrg
from exports.summary import SummaryTable, percent


def _zone_fields(org: PrintedOrg) -> tuple[Value, ...]:
    return (
        org.name,
        org.approval_no or "",
        format_date(org.approval_date) if org.approval_date else "",
        org.address or "",
        org.unit_members,
        org.individual_members,
        org.secretariat_unit or "",
    )


def _zone_summary(d: DistrictFacts) -> tuple[str, ...]:
    return (
        "所属区（市）县",
        d.name,
        "已建功能区科协数量",
        str(d.zone_orgs),
        "产业功能区数量",
        figure(d.zones),
        "比例",
        "未填报" if d.zones is None else percent(d.zone_orgs, d.zones),
    )


PEOPLE_12 = (
    OfficerRole.LEGAL_REP,
    OfficerRole.CHAIR,
    OfficerRole.VICE_CHAIR,
    OfficerRole.SECRETARY_GENERAL,
    OfficerRole.DEPUTY_SECRETARY_GENERAL,
    OfficerRole.CONTACT,
)

ANNEX_12 = RegistryForm(
    label="附件1-2",
    title_suffix="产业功能区科协组织建设统计表",
    kind="zone",
    headers=(
        "序号",
        "单位名称",
        "批准文号",
        "批准时间",
        "通信地址",
        "单位会员数量",
        "个人会员数量",
        "秘书长执行单位",
        "法人代表",
        "主席",
        "副主席",
        "秘书长",
        "副秘书长",
        "联系人",
    ),
    person_roles=tuple(str(r) for r in PEOPLE_12),
    widths=(6, 20, 14, 17, 20, 10, 10, 16, 17, 17, 17, 17, 17, 17),  # 批准时间 as annex 1-3's 时间
    fields=_zone_fields,
    summary=_zone_summary,
    summary_spans=(2, 2, 2, 1, 2, 1, 2, 2),
)


def write_annex12(
    path: Path,
    year: int,
    sections: Sequence[RegistrySection],
    *,
    summary: SummaryTable | None = None,
) -> None:
    """Write the annex 1-2 workbook (industrial-functional-zone associations)."""
    write_registry(path, ANNEX_12, year, sections, summary=summary)
