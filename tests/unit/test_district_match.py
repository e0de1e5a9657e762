"""The district matcher: how typed names find Chengdu's districts, and when they do not."""

from __future__ import annotations

import pytest

from core.district_match import match_district
from storage.registry import CHENGDU_DISTRICTS


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("锦江区", "锦江区"),
        ("锦江", "锦江区"),
        (" 锦江区 ", "锦江区"),
        ("高新区", "成都高新区"),
        ("高新", "成都高新区"),
        ("成都高新区", "成都高新区"),
        ("成都市高新区", "成都高新区"),
        ("成都市武侯区", "武侯区"),
        ("四川省成都市青羊区", "青羊区"),
        ("天府新区", "四川天府新区成都直管区"),
        ("东部新区", "成都东部新区"),
        ("郫县", "郫都区"),
        ("双流县", "双流区"),
        ("简阳", "简阳市"),
        ("龙泉驿", "龙泉驿区"),
        ("新都区", "新都区"),
    ],
)
def test_typed_names_find_one_district(typed: str, expected: str) -> None:
    match = match_district(typed, CHENGDU_DISTRICTS)
    assert match.name == expected
    assert match.problem() is None


@pytest.mark.parametrize(
    ("typed", "candidates"),
    [
        ("新区", ("四川天府新区成都直管区", "成都高新区", "成都东部新区")),
        ("青", ("青羊区", "青白江区")),
        ("新", ("新都区", "新津区")),
        ("成都", ("成都高新区", "成都东部新区")),
    ],
)
def test_ambiguous_names_list_their_candidates(typed: str, candidates: tuple[str, ...]) -> None:
    match = match_district(typed, CHENGDU_DISTRICTS)
    assert match.name is None and match.ambiguous
    assert set(match.candidates) == set(candidates)
    line = match.problem()
    assert line is not None and "\n" not in line
    assert all(name in line for name in candidates)
    assert f"“{typed}”可能指" in line


def test_many_candidates_are_counted_not_all_listed() -> None:
    match = match_district("区", CHENGDU_DISTRICTS)
    assert match.ambiguous and len(match.candidates) > 8
    line = match.problem()
    assert line is not None and f"等 {len(match.candidates)} 个" in line


@pytest.mark.parametrize("typed", ["火星区", "", "   ", "朝阳区"])
def test_unknown_names_say_where_to_look(typed: str) -> None:
    match = match_district(typed, CHENGDU_DISTRICTS)
    assert match.name is None and not match.ambiguous
    line = match.problem()
    assert line is not None and line.startswith("找不到区（市）县")
    assert "kexie districts list" in line


def test_full_width_and_no_districts() -> None:
    assert match_district("Ｘ区", ["X区", "Y区"]).name == "X区"
    empty = match_district("锦江区", [])
    assert empty.name is None
    assert "kexie districts seed" in (empty.problem() or "")
