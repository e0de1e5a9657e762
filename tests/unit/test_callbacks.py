"""Unit tests of the typed button codecs (core/callbacks.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.callbacks import MAX_ID, Codec, Id, constant, id_codec


@dataclass(frozen=True)
class RolePicked:
    activity: int
    index: int


@dataclass(frozen=True)
class Setting:
    name: str
    on: str


@dataclass(frozen=True)
class Day:
    day: date


ROLE = Codec("rep:{activity:id}:role:{index:digit}", RolePicked)
SETTING = Codec("settings:{name:nudges|summary}:{on:on|off}", Setting)
DAY = Codec("plan:date:{day:date}", Day)


def test_pack_pattern_parse_agree() -> None:
    data = ROLE.pack(RolePicked(7, 2))
    assert data == "rep:7:role:2"
    assert re.match(ROLE.pattern, data)
    assert ROLE.parse(data) == RolePicked(7, 2)
    assert ROLE.pack(activity=8, index=0) == "rep:8:role:0"
    assert SETTING.parse(SETTING.pack(Setting("summary", "off"))) == Setting("summary", "off")
    assert DAY.parse("plan:date:2021-11-03") == Day(date(2021, 11, 3))


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "rep:7:role:22",
        "rep:x:role:2",
        "rep:7:role:2:extra",
        "mine:open:7",
        "rep:" + "9" * 20 + ":role:1",  # longer than any id: the pattern does not even match
        "settings:lang:on",
        "plan:date:2021-02-30",  # matches the pattern, names no day
    ],
)
def test_what_is_not_this_button_parses_as_none(data: str | None) -> None:
    codec = (
        DAY
        if data and data.startswith("plan")
        else SETTING
        if data and "settings" in data
        else ROLE
    )
    assert codec.parse(data) is None


def test_ids_beyond_64_bits_are_no_such_thing() -> None:
    opened = id_codec("mine:open")
    assert opened.parse(f"mine:open:{MAX_ID}") == Id(MAX_ID)
    assert opened.parse("mine:open:" + "9" * 18) == Id(int("9" * 18))
    assert opened.parse("mine:open:" + "9" * 19) is None  # 19 digits, over the limit
    assert opened.parse("mine:open:" + "9" * 21) is None
    assert re.match(opened.pattern, "mine:open:" + "9" * 21) is None


def test_pack_refuses_what_telegram_or_the_pattern_would_refuse() -> None:
    with pytest.raises(ValueError):
        SETTING.pack(name="language", on="on")
    with pytest.raises(ValueError):
        ROLE.pack(activity=-1, index=1)
    with pytest.raises(ValueError):
        ROLE.pack(activity=1, index=10)
    long = Codec("x" * 60 + ":{id:id}", Id)
    with pytest.raises(ValueError, match="64 bytes"):
        long.pack(Id(12345))


def test_constant_buttons() -> None:
    menu = constant("menu:report")
    assert menu.pattern == "^menu:report$"
    assert menu.parse("menu:report") is not None and menu.parse("menu:mine") is None


@given(st.integers(min_value=0, max_value=MAX_ID), st.integers(min_value=0, max_value=9))
def test_round_trip(activity: int, index: int) -> None:
    value = RolePicked(activity, index)
    assert ROLE.parse(ROLE.pack(value)) == value


@given(st.text(max_size=80))
def test_parse_never_raises(data: str) -> None:
    for codec in (ROLE, SETTING, DAY):
        codec.parse(data)
