"""The /status chart (scheduler/charts.py): a PNG a phone can read, in a font that has every
Chinese character of its labels."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox
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

OUTPUT = Path(__file__).resolve().parents[1] / "output" / "charts"

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


def drawn_texts(figure: Figure) -> list[Text]:
    """The texts a reader sees: visible and not blank (after the layout has run)."""
    return [
        t
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None
    ]


def laid_out(figure: Figure) -> RendererAgg:
    """Draw the figure on an Agg canvas (the constrained layout runs then); its renderer."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


def on_screen(figure: Figure, renderer: RendererAgg) -> list[tuple[str, Bbox]]:
    """Each drawn text and its box in pixels, leaving out the labels of ticks outside the view
    (matplotlib keeps them, undrawn)."""
    hidden: set[int] = set()
    for ax in figure.findobj(Axes):
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            locs = axis.get_majorticklocs()
            for tick, loc in zip(axis.get_major_ticks(len(locs)), locs, strict=True):
                if not lo - 1e-9 <= loc <= hi + 1e-9:
                    hidden |= {id(tick.label1), id(tick.label2)}
    return [
        (text.get_text(), text.get_window_extent(renderer))
        for text in drawn_texts(figure)
        if id(text) not in hidden
    ]


CHENGDU = [
    "锦江区",
    "青羊区",
    "金牛区",
    "武侯区",
    "成华区",
    "龙泉驿区",
    "青白江区",
    "新都区",
    "温江区",
    "双流区",
    "郫都区",
    "新津区",
    "简阳市",
    "都江堰市",
    "彭州市",
    "邛崃市",
    "崇州市",
    "金堂县",
    "大邑县",
    "蒲江县",
    "四川天府新区成都直管区",
    "成都高新区",
    "成都东部新区",
]


def city_sample(n: int) -> ChartData:
    """The city's chart data: Chengdu's 23 districts, then made-up ones."""
    data = sample(city=True)
    made_up = [f"{chr(0x7532 + i)}测试区" for i in range(max(n - len(CHENGDU), 0))]
    data.bars = [(name, 60 - i) for i, name in enumerate([*CHENGDU, *made_up][:n])]
    return data


CASES = {
    "district": (sample(), "锦江区", False),
    "city": (city_sample(23), "", True),
    "empty": (ChartData(year=2026), "四川天府新区成都直管区", False),
}


def case_labels(lang: str, where: str, city: bool) -> charts.ChartLabels:
    return chart_labels(lang, 2026, where or plain(lang, "chart_city"), city=city)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_phone_opens_the_chart_at_full_width_with_12_px_text(case: str, lang: str) -> None:
    """Telegram shows a picture at the screen's width (390 CSS px) unless it is taller than the
    screen allows; then every text of at least 20 px on a 640 px image is 12 CSS px or more."""
    data, where, city = CASES[case]
    labels = case_labels(lang, where, city)
    image = Image.open(io.BytesIO(draw_chart(data, labels)))
    assert image.format == "PNG"
    assert 600 <= image.width <= 680, image.size
    assert image.height <= image.width * 844 / 390, image.size
    scale = charts.PHONE_CSS_PX / image.width
    figure = chart_figure(data, labels)
    texts = drawn_texts(figure)
    assert len(texts) >= 14  # titles, months, ... (the check below cannot pass on nothing)
    css = {t.get_text(): t.get_fontsize() * charts.DPI / 72 * scale for t in texts}
    assert min(css.values()) >= 12, sorted(css.items(), key=lambda kv: kv[1])[:3]


# A title too long for one line is wrapped (and still overlaps nothing).
LONG = (sample(), "四川天府新区成都直管区" * 2, False)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", [*sorted(CASES), "long title"])
def test_no_text_overlaps_another_or_leaves_the_picture(case: str, lang: str) -> None:
    """Issue 20: the figure's title was printed over the month panel's (tight_layout ignores a
    suptitle). Measured with the renderer the PNG is drawn with."""
    data, where, city = CASES.get(case, LONG)
    figure = chart_figure(data, labels := case_labels(lang, where, city))
    renderer = laid_out(figure)
    boxes = on_screen(figure, renderer)
    titles = {labels.title, labels.months} | ({labels.bars} if case != "empty" else set())
    drawn = {text for text, _ in boxes}
    assert titles <= drawn, drawn
    picture = figure.bbox
    for i, (text, box) in enumerate(boxes):
        assert picture.x0 <= box.x0 and box.x1 <= picture.x1, text
        assert picture.y0 <= box.y0 and box.y1 <= picture.y1, text
        for other, other_box in boxes[i + 1 :]:
            assert not box.overlaps(other_box), (text, other)
    # No title is drawn over a panel either.
    panels = [ax.get_window_extent(renderer) for ax in figure.findobj(Axes)]
    for text, box in boxes:
        if text in titles:
            assert not any(box.overlaps(panel) for panel in panels), text


def test_the_overlap_check_can_fail() -> None:
    """The old layout (suptitle, then tight_layout) fails the same measurement: the city chart
    of 23 districts, 1200 × 2380 px, as it was drawn before issue 20."""
    figure = Figure(figsize=(12, 23.8), dpi=charts.DPI)
    FigureCanvasAgg(figure)
    top, _bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [900, 1480]})
    figure.suptitle("2026 - Chengdu - activities reported", fontsize=23.4)
    top.set_title("Reports per month", fontsize=18.7)
    figure.tight_layout()
    renderer = laid_out(figure)
    title = figure.get_suptitle()
    boxes = dict(on_screen(figure, renderer))
    assert boxes[title].overlaps(boxes["Reports per month"])


def test_the_axes_count_in_whole_numbers_from_zero() -> None:
    for data in (sample(), ChartData(year=2026)):
        figure = chart_figure(data, case_labels("zh", "锦江区", False))
        laid_out(figure)
        months = figure.axes[0]
        assert months.get_ylim()[0] == 0
        ticks = [
            t for t in months.get_yticks() if months.get_ylim()[0] <= t <= months.get_ylim()[1]
        ]
        assert len(ticks) >= 2
        assert all(t == int(t) and t >= 0 for t in ticks), ticks


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_year_says_so_instead_of_drawing_empty_axes(lang: str) -> None:
    labels = case_labels(lang, "锦江区", False)
    figure = chart_figure(ChartData(year=2026), labels)
    texts = {t.get_text() for t in drawn_texts(figure)}
    assert plain(lang, "chart_empty") in texts
    assert labels.bars not in texts  # no panel of bars without bars
    assert len(figure.axes) == 1
    months = figure.axes[0]
    assert months.get_ylim() == (0, pytest.approx(1.05))
    # Reports drawn: no such sentence.
    assert plain(lang, "chart_empty") not in {
        t.get_text() for t in drawn_texts(chart_figure(sample(), labels))
    }


def test_names_keep_their_distinctive_part() -> None:
    """Issue 20: 成都市锦江区电子信息产业功… — the shared place and kind go, not the end."""
    data = sample()
    data.bars = [(f"成都市锦江区{name}", 9 - i) for i, name in enumerate(NAMES)]
    texts = {
        t.get_text() for t in drawn_texts(chart_figure(data, case_labels("zh", "锦江区", False)))
    }
    assert {"成都高新区电子信息产业功能区", "锦江光电科技", "蓉城电子科技有限公司"} <= texts, texts
    assert not any(text.startswith("成都市锦江区") for text in texts)


def test_the_city_chart_has_one_bar_per_district() -> None:
    data = sample(city=True)
    labels = chart_labels("zh", 2026, plain("zh", "chart_city"), city=True)
    assert "各区（市）县报送数" in chart_texts(data, labels)
    texts = {t.get_text() for t in drawn_texts(chart_figure(data, labels))}
    assert {"锦江区", "青羊区", "金牛区", "简阳市"} <= texts


def test_a_city_with_more_districts_than_rows_sums_the_rest() -> None:
    data = city_sample(40)
    labels = case_labels("zh", "", True)
    shown = charts.shown_bars(data, labels)
    assert len(shown) == charts.CITY_ROWS
    rest = 40 - (charts.CITY_ROWS - 1)
    assert shown[-1] == (f"其余 {rest} 个", sum(count for _, count in data.bars[-rest:]))
    image = Image.open(io.BytesIO(draw_chart(data, labels)))
    assert image.height <= image.width * 844 / 390
    # 23 districts, Chengdu's count: every one has its own bar.
    assert len(charts.shown_bars(city_sample(23), labels)) == 23


def test_the_three_charts_are_written_for_the_eye() -> None:
    """tests/output/charts/: the district, city and empty charts, zh and en (the closing
    note's contact sheet)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for case, (data, where, city) in CASES.items():
        for lang in ("zh", "en"):
            png = draw_chart(data, case_labels(lang, where, city))
            path = OUTPUT / f"{case}-{lang}.png"
            path.write_bytes(png)
            assert Image.open(path).width == charts.WIDTH_PX


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
