"""Chart labels (core/short_names.py): what all names share goes first, then the middle."""

from __future__ import annotations

import pytest

from core.short_names import cut_middle, shared_affixes, short_names, text_width

JINJIANG = [
    "成都市锦江区电子信息产业功能区科协",
    "成都市锦江区光电科技科协",
    "成都市锦江区蓉城电子科技有限公司科协",
]


def test_a_shared_place_prefix_and_kind_suffix_are_dropped() -> None:
    assert short_names(JINJIANG, 40) == ["电子信息产业功能区", "光电科技", "蓉城电子科技有限公司"]


def test_the_distinctive_part_survives_where_cutting_the_end_lost_it() -> None:
    """Issue 20: 成都市锦江区电子信息产业功… told the reader nothing."""
    assert short_names(JINJIANG, 14)[0] == "电子信…功能区"
    assert text_width("电子信…功能区") <= 14


def test_a_prefix_is_dropped_only_up_to_the_end_of_a_place_name() -> None:
    # 成都 is shared, but 成都市 and 成都高新区 are different places: nothing is dropped.
    names = ["成都市光电科协", "成都高新区芯片科协"]
    assert shared_affixes(names) == (0, 2)
    assert short_names(names, 40) == ["成都市光电", "成都高新区芯片"]
    # Two place names shared: both go.
    assert short_names(["四川省成都市甲科技科协", "四川省成都市乙制造科协"], 40) == [
        "甲科技",
        "乙制造",
    ]


def test_a_suffix_is_dropped_only_when_every_name_has_it() -> None:
    assert short_names(["锦江光电科技科协", "青羊电子研究会"], 40) == [
        "锦江光电科技科协",
        "青羊电子研究会",
    ]
    assert short_names(["甲公司科学技术协会", "乙公司科学技术协会"], 40) == ["甲公司", "乙公司"]


def test_every_name_keeps_something() -> None:
    # Dropping 锦江区 and 科协 would leave nothing of the first: the suffix stays then, and
    # when that is not enough, the prefix too.
    assert short_names(["锦江区科协", "锦江区光电科技科协"], 40) == ["科协", "光电科技科协"]
    assert short_names(["锦江区", "锦江区光电"], 40) == ["锦江区", "锦江区光电"]


def test_one_name_or_the_same_name_twice_shares_nothing() -> None:
    assert short_names(["成都市锦江区光电科技科协"], 40) == ["成都市锦江区光电科技科协"]
    assert shared_affixes(["成都市锦江区甲科协"] * 2) == (0, 0)
    assert short_names([], 10) == []


def test_districts_are_left_whole_when_they_fit() -> None:
    districts = ["锦江区", "四川天府新区成都直管区", "成都高新区", "简阳市"]
    assert short_names(districts, 22) == districts


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("四川天府新区成都直管区", 16, "四川天…直管区"),
        ("一二三四五", 10, "一二三四五"),
        ("一二三四五六", 10, "一二…五六"),
        ("Chengdu Hi-tech Zone", 12, "Cheng…Zone"),
        ("ab", 1, "…"),
    ],
)
def test_cut_middle(text: str, limit: int, expected: str) -> None:
    cut = cut_middle(text, limit)
    assert cut == expected
    assert text_width(cut) <= max(limit, text_width("…"))


def test_widths_count_chinese_characters_double() -> None:
    assert text_width("锦江区") == 6
    assert text_width("A1 ") == 3
    assert text_width("（）") == 4
    assert text_width("…") == 2
