"""Plain rules of the association registry (annexes 1-1 and 1-2): fields, parsers, checks.

Nothing here knows about Telegram or the database. Parsers return ``(value, None)`` or
``(None, error_key)``; the key names a sentence in the text catalog (``reg_err_*``). The same
parsers serve the chat flow (/org) and the spreadsheet import, so both accept the same input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.enums import OfficerRole, OrgKind
from core.rules import normalize

EARLIEST_APPROVAL = date(1950, 1, 1)
MAX_COUNT = 10_000_000
TEXT_LIMITS = {"approval_no": 200, "address": 500, "secretariat_unit": 200}
PERSON_NAME_MAX = 64
PERSON_TITLE_MAX = 64

OWNERSHIPS = ("国企", "民企")
ZONE_FORMS = ("民办非", "内设")
_OWNERSHIP_ALIASES = {
    "国企": "国企",
    "国有": "国企",
    "国有企业": "国企",
    "民企": "民企",
    "民营": "民企",
    "民营企业": "民企",
}
_ZONE_FORM_ALIASES = {
    "民办非": "民办非",
    "民办非企业": "民办非",
    "民办非企业单位": "民办非",
    "内设": "内设",
    "内设机构": "内设",
}

# Officer roles that may hold several people (one per line in a spreadsheet cell).
MULTI_OFFICERS = frozenset({OfficerRole.VICE_CHAIR, OfficerRole.DEPUTY_SECRETARY_GENERAL})


@dataclass(frozen=True)
class FieldSpec:
    """One annex column as the registry stores it.

    ``kind`` is ``text``, ``date``, ``count``, ``choice`` or ``person``; ``attr`` is the
    Organisation attribute (or the OfficerRole value for persons); ``header`` is the annex's
    column header, verbatim.
    """

    key: str
    kind: str
    header: str
    choices: tuple[str, ...] = ()


_COMMON_HEAD = (
    FieldSpec("approval_no", "text", "批准文号"),
    FieldSpec("approval_date", "date", "批准时间"),
)
_OFFICERS = (
    FieldSpec(OfficerRole.CHAIR.value, "person", "主席"),
    FieldSpec(OfficerRole.VICE_CHAIR.value, "person", "副主席"),
    FieldSpec(OfficerRole.SECRETARY_GENERAL.value, "person", "秘书长"),
    FieldSpec(OfficerRole.DEPUTY_SECRETARY_GENERAL.value, "person", "副秘书长"),
    FieldSpec(OfficerRole.CONTACT.value, "person", "联系人"),
)

# Annex 1-1 (企业科协): the columns after 序号 and 单位名称, in the annex's order.
ENTERPRISE_FIELDS: tuple[FieldSpec, ...] = (
    *_COMMON_HEAD,
    FieldSpec("employees", "count", "员工总数"),
    FieldSpec("tech_staff", "count", "科技人员数"),
    FieldSpec("association_members", "count", "科协会员数"),
    FieldSpec("address", "text", "通信地址"),
    FieldSpec("ownership", "choice", "单位性质（国企/民企）", OWNERSHIPS),
    *_OFFICERS,
)

# Annex 1-2 (产业功能区科协), plus the association's form (民办非 / 内设), which the annex's
# text asks for but its table has no column for.
ZONE_FIELDS: tuple[FieldSpec, ...] = (
    *_COMMON_HEAD,
    FieldSpec("address", "text", "通信地址"),
    FieldSpec("unit_members", "count", "单位会员数量"),
    FieldSpec("individual_members", "count", "个人会员数量"),
    FieldSpec("secretariat_unit", "text", "秘书长执行单位"),
    FieldSpec(OfficerRole.LEGAL_REP.value, "person", "法人代表"),
    *_OFFICERS,
    FieldSpec("zone_form", "choice", "组织形式（民办非/内设）", ZONE_FORMS),
)


def fields_for(kind: str) -> tuple[FieldSpec, ...]:
    """The registry fields of an association of ``kind`` (``enterprise`` or ``zone``)."""
    return ENTERPRISE_FIELDS if kind == OrgKind.ENTERPRISE else ZONE_FIELDS


def field_by_key(kind: str, key: str) -> FieldSpec | None:
    """The field ``key`` of an association of ``kind``, if it has one."""
    return next((f for f in fields_for(kind) if f.key == key), None)


@dataclass(frozen=True)
class Person:
    """One person of a person column: 姓名/职务/电话."""

    name: str
    title: str
    phone: str

    def cell(self) -> str:
        """The annex's way of writing a person: ``张三/主席/13800000000``."""
        return f"{self.name}/{self.title}/{self.phone}"

    def cell_lines(self) -> tuple[str, ...]:
        """The person as printed: ``张三/总工程师/`` over ``028-12345678``. Broken after the
        slash, a person takes half the width on paper (five or six person columns are most of a
        form's width), and the import joins the two lines back (:func:`parse_people`). Without
        a phone, one line."""
        head = f"{self.name}/{self.title}/"
        return (head, self.phone) if self.phone else (head,)


# --- parsers ----------------------------------------------------------------------------------

# [0-9], not \d: \d also matches Devanagari or Arabic-Indic digits, which no phone dials.
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
# Area codes: 010 and 02x have three digits, every other one four (0xxx).
_LANDLINE = re.compile(r"(0[12][0-9]|0[3-9][0-9]{2})-?([1-9][0-9]{6,7})(?:(?:-|转)([0-9]{1,6}))?")


def parse_phone(text: str) -> tuple[str | None, str | None]:
    """A Chinese mobile (``1[3-9]`` + 9 digits) or a landline with area code (``028-12345678``).

    Spaces and dashes inside a mobile number are ignored; a landline is stored as
    ``area-number`` (with ``-ext`` when given).
    """
    raw = normalize(text).replace(" ", "")
    if not raw:
        return None, "reg_err_phone_empty"
    if m := _MOBILE.fullmatch(raw.replace("-", "")):
        return m.group(1), None
    if m := _LANDLINE.fullmatch(raw.replace("(", "").replace(")", "-").replace("--", "-")):
        area, number, ext = m.groups()
        return f"{area}-{number}" + (f"-{ext}" if ext else ""), None
    return None, "reg_err_phone"


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_approval_date(value: Any, today: date) -> tuple[date | None, str | None]:
    """批准时间: a full date (typed, or a spreadsheet date cell), not in the future."""
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    else:
        raw = normalize(str(value)).replace(" ", "")
        m = _DATE.fullmatch(raw) or _COMPACT.fullmatch(raw)
        if not m:
            return None, "reg_err_date"
        try:
            parsed = date(*(int(g) for g in m.groups()))
        except ValueError:
            return None, "reg_err_date"
    if parsed > today:
        return None, "reg_err_date_future"
    if parsed < EARLIEST_APPROVAL:
        return None, "reg_err_date_old"
    return parsed, None


_COUNT = re.compile(r"(-?[\d,]+)\s*(?:人|个|家|名)?")


def parse_count(value: Any) -> tuple[int | None, str | None]:
    """A non-negative whole number (``120``, ``1,200``, ``120人``, a numeric cell)."""
    if isinstance(value, bool):
        return None, "reg_err_count"
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None, "reg_err_count"
        number = int(value)
    else:
        m = _COUNT.fullmatch(normalize(str(value)).replace(" ", ""))
        if not m:
            return None, "reg_err_count"
        try:
            number = int(m.group(1).replace(",", ""))
        except ValueError:
            return None, "reg_err_count"
    if number < 0:
        return None, "reg_err_count_negative"
    if number > MAX_COUNT:
        return None, "reg_err_count_large"
    return number, None


def parse_choice(key: str, text: str) -> tuple[str | None, str | None]:
    """单位性质 (国企/民企) or 组织形式 (民办非/内设), also written out in full."""
    raw = normalize(text).replace(" ", "")
    aliases = _OWNERSHIP_ALIASES if key == "ownership" else _ZONE_FORM_ALIASES
    found = aliases.get(raw)
    if found is None:
        return None, "reg_err_ownership" if key == "ownership" else "reg_err_zone_form"
    return found, None


# Chinese characters and marks (CJK radicals to ideographs with kana between, compatibility
# ideographs, vertical and full-width forms, the rarer ideographs of planes 2 and 3).
_WIDE = re.compile(
    "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_LINE_BREAK = re.compile(r"\s*[\r\n\u2028\u2029]\s*")


def _joined(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return "" if _WIDE.match(before) or _WIDE.match(after) else " "


def fold_space(text: str) -> str:
    """A cell's text on one line: a line break next to a Chinese character or mark is dropped
    (with the spaces around it), other whitespace folds to one space.

    Chinese puts no space between words, so a line break there only wrapped a long name or
    address: one typed with Alt+Enter, or one the export broke so no line is a lone character
    (exports/headers.py ``print_text``: ``成都…科学技术`` / ``协会``, ``…〔2021〕`` / ``3号``,
    ``…B区`` / ``7栋``). Read back as a space, it would make a new name (associations are
    matched by name) and a space in every re-imported address. Between two Latin words a line
    break is still a space (``Tianfu`` / ``Software Park``).
    """
    return " ".join(_LINE_BREAK.sub(_joined, text).split())


def parse_text(key: str, text: str) -> tuple[str | None, str | None]:
    """批准文号, 通信地址, 秘书长执行单位: non-empty, within the column's length, on one line
    (:func:`fold_space`)."""
    value = fold_space(str(text))
    if not value:
        return None, "reg_err_text_empty"
    if len(value) > TEXT_LIMITS.get(key, 200):
        return None, "reg_err_text_long"
    return value, None


_PERSON_SPLIT = re.compile(r"\s*/\s*")
_PEOPLE_SPLIT = re.compile(r"[\r\n;；]+")


def parse_person(text: str) -> tuple[Person | None, str | None]:
    """One person written ``姓名/职务/电话`` (full-width ``／`` accepted)."""
    raw = normalize(text)
    parts = _PERSON_SPLIT.split(raw)
    if len(parts) != 3:
        return None, "reg_err_person_format"
    name, title, phone_text = (p.strip() for p in parts)
    if not name:
        return None, "reg_err_person_name"
    # A line break or semicolon separates people in a cell: inside a name it would split the
    # person in two when the cell is read back.
    if _PEOPLE_SPLIT.search(name) or _PEOPLE_SPLIT.search(title):
        return None, "reg_err_person_format"
    if len(name) > PERSON_NAME_MAX or len(title) > PERSON_TITLE_MAX:
        return None, "reg_err_person_long"
    phone, error = parse_phone(phone_text)
    if error:
        return None, error
    assert phone is not None
    return Person(name, title, phone), None


# ``张三/总工程师/`` with nothing after its second slash: the phone is on the next line.
_PERSON_HEAD = re.compile(r"[^/／]*[/／][^/／]*[/／]\s*")


def _people_lines(text: str) -> list[str]:
    """The cell's people, one per item: a line holding only ``姓名/职务/`` is joined with the
    next when that one is a bare phone (the printed forms break a person there to save width)."""
    lines: list[str] = []
    for line in (part.strip() for part in _PEOPLE_SPLIT.split(text)):
        if not line:
            continue
        if lines and _PERSON_HEAD.fullmatch(lines[-1]) and not re.search("[/／]", line):
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def parse_people(role: str, text: str) -> tuple[list[Person] | None, str | None]:
    """A person column: one person, or one per line for 副主席 / 副秘书长; a person may be
    written on two lines, broken after the title's slash."""
    lines = _people_lines(str(text))
    if not lines:
        return None, "reg_err_person_format"
    if len(lines) > 1 and role not in MULTI_OFFICERS:
        return None, "reg_err_person_one"
    people: list[Person] = []
    for line in lines:
        person, error = parse_person(line)
        if error:
            return None, error
        assert person is not None
        people.append(person)
    return people, None


def parse_field(spec: FieldSpec, value: Any, today: date) -> tuple[Any, str | None]:
    """Parse one answer or cell for ``spec``; persons come back as a list of :class:`Person`."""
    if spec.kind == "date":
        return parse_approval_date(value, today)
    if spec.kind == "count":
        return parse_count(value)
    if spec.kind == "choice":
        return parse_choice(spec.key, str(value))
    if spec.kind == "person":
        return parse_people(spec.key, str(value))
    return parse_text(spec.key, str(value))


def check_tech_staff(employees: int | None, tech_staff: int | None) -> str | None:
    """科技人员数 cannot exceed 员工总数 (checked when both are known)."""
    if employees is not None and tech_staff is not None and tech_staff > employees:
        return "reg_err_tech_exceeds"
    return None


def parse_org_name(text: str) -> tuple[str | None, str | None]:
    """An association's name: one line (:func:`fold_space`, before NFKC folds its brackets to
    Latin ones), 2 to 200 characters."""
    value = " ".join(normalize(fold_space(text)).split())
    if len(value) < 2:
        return None, "reg_err_org_name"
    if len(value) > 200:
        return None, "reg_err_org_name"
    return value, None


def header_key(text: Any) -> str:
    """A header cell folded for matching: NFKC (full-width brackets), no spaces or line breaks."""
    return re.sub(r"\s+", "", normalize(str(text or "")))
