"""District pickers (issue 20, role-shaped chat): a name is never cut on a phone. Short names
go three to a row, up to nine characters two to a row, a longer one (四川天府新区成都直管区) alone;
the order is kept."""

from __future__ import annotations

from core.callbacks import id_codec
from handlers.pickers import BUTTON_CHARS, district_buttons, name_width
from storage.models import District
from storage.registry import CHENGDU_DISTRICTS

PICK = id_codec("test:pick")


def _districts(names: tuple[str, ...]) -> list[District]:
    return [District(id=i, name=name, sort_order=i) for i, name in enumerate(names, start=1)]


def test_every_chengdu_district_shows_whole_and_in_order() -> None:
    rows = district_buttons(_districts(CHENGDU_DISTRICTS), PICK)
    labels = [label for row in rows for label, _ in row]
    assert labels == list(CHENGDU_DISTRICTS)  # whole names, in the guide's order
    for row in rows:
        widest = max(name_width(label) for label, _ in row)
        assert len(row) == 1 or widest <= BUTTON_CHARS[len(row)], row
    assert [row for row in rows if len(row) == 1] == [
        [("四川天府新区成都直管区", PICK.pack(id=21))]
    ]
    assert [label for label, _ in rows[0]] == ["锦江区", "青羊区", "金牛区"]
    assert [label for label, _ in rows[-1]] == ["成都高新区", "成都东部新区"]  # two, not cut


def test_rows_of_three_while_the_names_are_short() -> None:
    rows = district_buttons(_districts(CHENGDU_DISTRICTS[:9]), PICK)
    assert [len(row) for row in rows] == [3, 3, 3]


def test_latin_letters_count_half() -> None:
    assert name_width("成都高新区") == 5 and name_width("Gaoxin") == 3
    rows = district_buttons(_districts(("Jinjiang", "Qingbaijiang", "Jinniu")), PICK)
    assert [len(row) for row in rows] == [2, 1]  # 12 letters are 6 wide: not three to a row
