"""Pickers (issue 20, role-shaped chat). A district's name is never cut on a phone: short names
go three to a row, up to nine characters two to a row, a longer one (四川天府新区成都直管区) alone;
the order is kept. An association's button shows the part of its name that tells it apart."""

from __future__ import annotations

from core.callbacks import id_codec
from core.short_names import text_width
from handlers.pickers import BUTTON_WIDTH, ORG_BUTTON_WIDTH, district_buttons, org_buttons
from storage.models import District, Organisation
from storage.registry import CHENGDU_DISTRICTS

PICK = id_codec("test:pick")


def _districts(names: tuple[str, ...]) -> list[District]:
    return [District(id=i, name=name, sort_order=i) for i, name in enumerate(names, start=1)]


def test_every_chengdu_district_shows_whole_and_in_order() -> None:
    rows = district_buttons(_districts(CHENGDU_DISTRICTS), PICK)
    labels = [label for row in rows for label, _ in row]
    assert labels == list(CHENGDU_DISTRICTS)  # whole names, in the guide's order
    for row in rows:
        widest = max(text_width(label) for label, _ in row)
        assert len(row) == 1 or widest <= BUTTON_WIDTH[len(row)], row
    assert [row for row in rows if len(row) == 1] == [
        [("四川天府新区成都直管区", PICK.pack(id=21))]
    ]
    assert [label for label, _ in rows[0]] == ["锦江区", "青羊区", "金牛区"]
    assert [label for label, _ in rows[-1]] == ["成都高新区", "成都东部新区"]  # two, not cut


def test_rows_of_three_while_the_names_are_short() -> None:
    rows = district_buttons(_districts(CHENGDU_DISTRICTS[:9]), PICK)
    assert [len(row) for row in rows] == [3, 3, 3]


def test_latin_letters_count_half() -> None:
    assert text_width("成都高新区") == 10 and text_width("Gaoxin") == 6
    rows = district_buttons(_districts(("Jinjiang", "Qingbaijiang", "Jinniu")), PICK)
    assert [len(row) for row in rows] == [2, 1]  # 12 letters are 6 wide: not three to a row


def test_association_buttons_keep_the_part_of_the_name_that_differs() -> None:
    names = (
        "成都市锦江区电子信息产业功能区科学技术协会",
        "成都市锦江区电子信息产业功能区企业联合会科学技术协会",
        "成都市锦江区四川长虹网络科技有限责任公司成都分公司科学技术协会",
        "成都市锦江区春熙路商圈科协",  # short: shown whole
    )
    orgs = [Organisation(id=i, name=name) for i, name in enumerate(names, start=1)]
    rows = org_buttons(orgs, PICK)
    labels = [label for row in rows for label, _ in row]
    assert [data for row in rows for _, data in row] == [PICK.pack(id=i) for i in (1, 2, 3, 4)]
    assert len(set(labels)) == len(labels)  # every button reads differently
    assert all(text_width(label) <= ORG_BUTTON_WIDTH for label in labels), labels
    assert labels[0] == "电子信息产业功能区科学技术协会"  # the shared 成都市锦江区 dropped
    assert labels[1] == "电子信息产业功能…合会科学技术协会"  # cut in the middle, its end kept
    assert labels[3] == "成都市锦江区春熙路商圈科协"
