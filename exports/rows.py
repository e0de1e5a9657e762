"""Plain rows the workbook writers take: no database here, so writers and benchmarks share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from core.registry_rules import Person


@dataclass(frozen=True)
class EvidenceFile:
    """One stored evidence file of an activity (bytes in the EvidenceStore by sha256)."""

    sha256: str
    kind: str  # photo / document
    file_name: str | None = None
    mime_type: str | None = None
    size: int = 0

    @property
    def is_image(self) -> bool:
        """Photos, and documents that are images."""
        return self.kind == "photo" or (self.mime_type or "").startswith("image/")


@dataclass(frozen=True)
class PrintedActivity:
    """One submitted activity: the columns of annex 1-3 plus the 明细 facts."""

    id: int
    activity_date: date
    name: str
    content: str
    role: str
    headcount: int | None
    outcome: str
    org_name: str
    org_kind: str  # enterprise / zone
    district_id: int
    district_name: str
    submitted_at: datetime | None = None
    on_time: bool | None = None
    late_days: int = 0
    author_name: str = ""
    evidence: tuple[EvidenceFile, ...] = ()
    review_state: str = "pending"  # core.review_rules.ReviewState: approved or pending here


@dataclass(frozen=True)
class PrintedOrg:
    """One association with every annex 1-1 / 1-2 field; officers grouped by role."""

    id: int
    kind: str
    name: str
    district_id: int
    district_name: str
    approval_no: str | None = None
    approval_date: date | None = None
    address: str | None = None
    employees: int | None = None
    tech_staff: int | None = None
    association_members: int | None = None
    ownership: str | None = None
    unit_members: int | None = None
    individual_members: int | None = None
    secretariat_unit: str | None = None
    officers: dict[str, tuple[Person, ...]] = field(default_factory=dict)

    def people(self, role: str) -> str:
        """The person cell of a role: each ``姓名/职务/电话`` on its lines (``cell_lines``)."""
        return "\n".join(line for p in self.officers.get(role, ()) for line in p.cell_lines())


@dataclass(frozen=True)
class DistrictFacts:
    """A district, its figures for the year, and how many associations of each kind it has."""

    id: int
    name: str
    enterprise_orgs: int = 0  # 已建企业科协数量 (active)
    zone_orgs: int = 0  # 已建功能区科协数量 (active)
    local_enterprises: int | None = None  # 属地企业数量
    tech_enterprises: int | None = None  # 科技企业数量
    zones: int | None = None  # 产业功能区数量
