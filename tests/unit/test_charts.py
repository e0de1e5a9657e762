"""The /status chart (scheduler/charts.py): a PNG a phone can read, in a font that has every
Chinese character of its labels."""

from __future__ import annotations

import io
import logging
import warnings

import pytest
from matplotlib.text import Text
from PIL import Image

from core.texts import plain
from scheduler import charts
from scheduler.charts import (
    ChartData,
    chart_figure,
    chart_labels,
    chart_texts,
    cjk_font,
    draw_chart,
    missing_glyphs,
)

NAMES = [
    "成都高新区电子信息产业功能区科协",
    "锦江光电科技科协",
    "蓉城电子科技有限公司科协",
    "天府新区生物医药企业科协",
    "武侯区智能制造产业园科协",
]


def sample(city: bool = False) -> ChartData:
    data = ChartData(year=2026)
    data.on_time[2], data.late[2] = 4, 1
    data.on_time[9], data.late[9] = 7, 3
    if city:
        data.bars = [("锦江区", 12), ("青羊区", 7), ("金牛区", 3), ("简阳市", 1)]
    else:
        data.bars = [(name, 10 - i) for i, name in enumerate(NAMES)]
    return data


def test_the_font_covers_every_character_of_the_labels() -> None:
    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (scripts/fonts.sh installs one)")
    for city in (False, True):
        labels = chart_labels("zh", 2026, "锦江区", city=city)
        texts = chart_texts(sample(city), labels)
        texts.append(plain("zh", "chart_city"))
        assert missing_glyphs(font, texts) == set()
    # The check itself can fail: a character no CJK font has (a private-use code point).
    assert missing_glyphs(font, ["\ue000"]) == {"\ue000"}


def test_the_chart_is_a_wide_png_with_large_labels() -> None:
    labels = chart_labels("zh", 2026, "锦江区", city=False)
    png = draw_chart(sample(), labels)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.width >= 1080
    # Every text drawn (titles, ticks, legend, names, counts) is at least 24 px high.
    figure = chart_figure(sample(), labels)
    drawn = [t for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert {"锦江光电科技科协", "按时", "逾期", "12"} <= {t.get_text() for t in drawn}
    sizes = {t.get_text(): t.get_fontsize() * charts.DPI / 72 for t in drawn}
    assert min(sizes.values()) >= 24, sorted(sizes.items(), key=lambda kv: kv[1])[:3]


def test_the_city_chart_has_one_bar_per_district() -> None:
    data = sample(city=True)
    labels = chart_labels("zh", 2026, plain("zh", "chart_city"), city=True)
    assert "各区（市）县报送数" in chart_texts(data, labels)
    assert [name for name, _ in data.bars] == ["锦江区", "青羊区", "金牛区", "简阳市"]
    png = draw_chart(data, labels)
    assert Image.open(io.BytesIO(png)).width >= 1080


# Names with dollar signs: matplotlib reads ``$…$`` as math text (an error, a warning about
# glyphs its math font lacks, or x² instead of what the association is called).
DOLLAR_NAMES = ["科协$x^2$测试$", "科协$x^2$测试", "$\\foo$科协", "A$B$C$D", "$$", "科协\\$5"]


def test_names_with_dollar_signs_are_drawn_as_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = sample()
    data.bars = [(name, 9 - i) for i, name in enumerate(DOLLAR_NAMES)]
    labels = chart_labels("zh", 2026, "锦江区$x$", city=False)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        figure = chart_figure(data, labels)
        figure.savefig(io.BytesIO(), format="png", dpi=charts.DPI)
        png = draw_chart(data, labels)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # What is drawn (after matplotlib's own reading of the text) is the name, literally.
    drawn = [t._preprocess_math(t.get_text()) for t in figure.findobj(Text)]
    for name in DOLLAR_NAMES:
        assert (name, False) in drawn, name
    assert (plain("zh", "chart_title", year=2026, where="锦江区$x$"), False) in drawn


def test_an_empty_chart_draws_no_missing_minus_sign() -> None:
    """Negative ticks of an empty axis: U+2212 is not in the CJK font, a plain '-' is."""
    data = ChartData(year=2026)
    data.bars = [("锦江光电科技科协", 0)]
    labels = chart_labels("zh", 2026, "锦江区", city=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_chart(data, labels)
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []
