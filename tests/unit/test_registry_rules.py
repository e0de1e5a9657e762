"""Unit tests of the registry's plain rules: phones, dates, counts, choices, person cells."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.enums import OfficerRole, OrgKind
from core.registry_rules import (
    ENTERPRISE_FIELDS,
    ZONE_FIELDS,
    Person,
    check_tech_staff,
    field_by_key,
    fields_for,
    fold_space,
    header_key,
    parse_approval_date,
    parse_choice,
    parse_count,
    parse_org_name,
    parse_people,
    parse_person,
    parse_phone,
    parse_text,
)

TODAY = date(2021, 11, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800000000", "13800000000"),
        ("138 0000 0000", "13800000000"),
        ("138-0000-0000", "13800000000"),
        ("+8613912345678", "13912345678"),
        ("１３８００００００００", "13800000000"),
        ("19912345678", "19912345678"),
        ("028-12345678", "028-12345678"),
        ("02812345678", "028-12345678"),
        ("(028)12345678", "028-12345678"),
        ("0838-1234567", "0838-1234567"),
        ("028-12345678-801", "028-12345678-801"),
    ],
)
def test_phone_accepted(text: str, expected: str) -> None:
    assert parse_phone(text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "reg_err_phone_empty"),
        ("12345", "reg_err_phone"),
        ("12800000000", "reg_err_phone"),  # 12x is not a mobile prefix
        ("1380000000", "reg_err_phone"),  # 10 digits
        ("138000000000", "reg_err_phone"),  # 12 digits
        ("28-12345678", "reg_err_phone"),  # area code must start with 0
        ("028-123456", "reg_err_phone"),  # 6-digit local number
        ("电话", "reg_err_phone"),
        ("13८००००००००", "reg_err_phone"),  # Devanagari digits match \d but dial nothing
        ("028-१२३४५६७८", "reg_err_phone"),
    ],
)
def test_phone_refused(text: str, error: str) -> None:
    assert parse_phone(text) == (None, error)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-20", date(2019, 5, 20)),
        ("2019/5/20", date(2019, 5, 20)),
        ("2019年5月20日", date(2019, 5, 20)),
        ("20190520", date(2019, 5, 20)),
        ("２０１９．５．２０", date(2019, 5, 20)),
        (datetime(2019, 5, 20, 0, 0), date(2019, 5, 20)),
        (date(2021, 11, 5), date(2021, 11, 5)),
    ],
)
def test_approval_date_accepted(value: object, expected: date) -> None:
    assert parse_approval_date(value, TODAY) == (expected, None)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2021-11-06", "reg_err_date_future"),
        ("1949-12-31", "reg_err_date_old"),
        ("2021-02-30", "reg_err_date"),
        ("去年", "reg_err_date"),
        ("5月20日", "reg_err_date"),  # an approval date needs its year
    ],
)
def test_approval_date_refused(value: str, error: str) -> None:
    assert parse_approval_date(value, TODAY) == (None, error)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("120", 120), ("1,200", 1200), ("120人", 120), ("３５个", 35), (42, 42), (42.0, 42)],
)
def test_count_accepted(value: object, expected: int) -> None:
    assert parse_count(value) == (expected, None)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("-1", "reg_err_count_negative"),
        (-5, "reg_err_count_negative"),
        ("12.5", "reg_err_count"),
        (12.5, "reg_err_count"),
        ("很多", "reg_err_count"),
        (True, "reg_err_count"),
        ("99999999999", "reg_err_count_large"),
    ],
)
def test_count_refused(value: object, error: str) -> None:
    assert parse_count(value) == (None, error)


def test_tech_staff_may_not_exceed_employees() -> None:
    assert check_tech_staff(10, 10) is None
    assert check_tech_staff(10, 11) == "reg_err_tech_exceeds"
    assert check_tech_staff(None, 11) is None
    assert check_tech_staff(10, None) is None


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("ownership", "国企", "国企"),
        ("ownership", "民营企业", "民企"),
        ("ownership", " 国有企业 ", "国企"),
        ("zone_form", "民办非企业单位", "民办非"),
        ("zone_form", "内设", "内设"),
    ],
)
def test_choices_accepted(key: str, text: str, expected: str) -> None:
    assert parse_choice(key, text) == (expected, None)


def test_choices_refused() -> None:
    assert parse_choice("ownership", "外企") == (None, "reg_err_ownership")
    assert parse_choice("zone_form", "国企") == (None, "reg_err_zone_form")


def test_person_cell() -> None:
    assert parse_person("张三/主席/13800000000") == (Person("张三", "主席", "13800000000"), None)
    assert parse_person("张三 ／ 总工程师 ／ 028-12345678") == (
        Person("张三", "总工程师", "028-12345678"),
        None,
    )
    assert parse_person("张三//13800000000") == (Person("张三", "", "13800000000"), None)
    assert parse_person("张三/主席") == (None, "reg_err_person_format")
    assert parse_person("/主席/13800000000") == (None, "reg_err_person_name")
    assert parse_person("张三/主席/123") == (None, "reg_err_phone")
    assert Person("张三", "主席", "13800000000").cell() == "张三/主席/13800000000"


def test_several_vice_chairs_one_per_line() -> None:
    people, error = parse_people(
        OfficerRole.VICE_CHAIR, "李四/副主席/13900000001\n王五/副主席/028-12345678\n"
    )
    assert error is None
    assert people == [
        Person("李四", "副主席", "13900000001"),
        Person("王五", "副主席", "028-12345678"),
    ]
    assert parse_people(OfficerRole.CHAIR, "李四/主席/13900000001\n王五/主席/13900000002") == (
        None,
        "reg_err_person_one",
    )
    assert parse_people(OfficerRole.VICE_CHAIR, "李四/副主席/13900000001\n王五") == (
        None,
        "reg_err_person_format",
    )


def test_texts_and_names() -> None:
    assert parse_text("address", "  成都市  锦江区 ") == ("成都市 锦江区", None)
    assert parse_text("address", "   ") == (None, "reg_err_text_empty")
    assert parse_text("approval_no", "x" * 201) == (None, "reg_err_text_long")
    assert parse_org_name("  示例科协 ") == ("示例科协", None)
    assert parse_org_name("x") == (None, "reg_err_org_name")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A line break wrapping Chinese text is no space: the export breaks long names and
        # addresses (exports/headers.print_text), a district may with Alt+Enter.
        ("成都锦江区轨道\n交通装备制造\n科学技术协会", "成都锦江区轨道交通装备制造科学技术协会"),
        ("成都市锦江区 \r\n 工业园区1号", "成都市锦江区工业园区1号"),  # with spaces around
        ("锦民\n〔2020〕9号", "锦民〔2020〕9号"),  # before a bracket
        ("锦科协〔2021〕\n3号", "锦科协〔2021〕3号"),  # after one, before a digit
        ("天府软件园B区\n7栋", "天府软件园B区7栋"),
        ("成都ABC\n科技有限公司", "成都ABC科技有限公司"),
        ("锦江区产学研对接会\n(第2期)", "锦江区产学研对接会(第2期)"),  # as NFKC stores it
        ("高新区、\n天府大道", "高新区、天府大道"),
        # Elsewhere whitespace folds to one space, as before.
        ("Tianfu\nSoftware  Park", "Tianfu Software Park"),
        ("成都市  锦江区\t1号", "成都市 锦江区 1号"),
        ("Room 7\n\n8F", "Room 7 8F"),
        ("\n成都\n", "成都"),
    ],
)
def test_a_line_break_in_chinese_is_dropped(text: str, expected: str) -> None:
    assert fold_space(text) == expected
    assert parse_text("address", text) == (expected, None)
    assert parse_org_name(text) == (expected, None)


def test_fields_follow_the_annexes() -> None:
    assert [f.header for f in ENTERPRISE_FIELDS] == [
        "批准文号", "批准时间", "员工总数", "科技人员数", "科协会员数", "通信地址",
        "单位性质（国企/民企）", "主席", "副主席", "秘书长", "副秘书长", "联系人",
    ]  # fmt: skip
    assert [f.header for f in ZONE_FIELDS][:-1] == [
        "批准文号", "批准时间", "通信地址", "单位会员数量", "个人会员数量", "秘书长执行单位",
        "法人代表", "主席", "副主席", "秘书长", "副秘书长", "联系人",
    ]  # fmt: skip
    assert fields_for(OrgKind.ZONE)[-1].key == "zone_form"
    assert field_by_key(OrgKind.ENTERPRISE, "zone_form") is None
    assert header_key(" 单位性质（国企/民企）\n") == "单位性质(国企/民企)"


@pytest.mark.parametrize("text", ["张;三/主席/13800000000", "张三/主席；秘书长/13800000000"])
def test_person_with_a_people_separator_refused(text: str) -> None:
    # ";" separates people in a cell, so the cell written back would split this person in two
    assert parse_person(text) == (None, "reg_err_person_format")
