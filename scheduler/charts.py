"""The /status chart (and the annual countdown's, and the console's): this year's reports per
month, stacked on time / late, and the ten most active associations — or, for the city, one bar
per district.

A PNG drawn with matplotlib's Agg backend (no display), made for a phone: 640 px wide and never
taller than a phone screen's proportions (:data:`MAX_ASPECT`), so a chat opens it at the
screen's full width, where every text (at least :data:`LABEL_PX` image pixels) is at least
12 CSS px. The layout is matplotlib's constrained layout, which keeps the titles, the legend
and the labels apart. Names lose what all of them share (``core/short_names.py``) before they
are cut, in the middle. Chinese labels need a CJK font: :func:`cjk_font` looks for one the
machine has (``scripts/fonts.sh`` installs WenQuanYi Zen Hei for the tests; Noto Sans CJK works
too); without one the chart is still drawn, with a warning logged once, and Chinese characters
show as boxes. matplotlib is imported only when a chart is drawn: it is heavy, and the bot
starts without it being touched.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.short_names import short_names
from core.texts import plain
from core.years import ReportingYears
from scheduler.messenger import Outgoing, Picture
from storage.db import AsyncSession
from storage.figures import bar_counts, month_counts
from storage.registry import district_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

WIDTH_PX = 640
DPI = 100
# A phone shows a picture at the screen's width (about 390 CSS px) while it is no taller than
# the screen allows (844 / 390): 20 px on a 640 px image is then 12.2 CSS px.
PHONE_CSS_PX = 390
MAX_ASPECT = 844 / 390  # height / width at most, so the picture opens at full width
LABEL_PX = 20  # every text on the chart, in image pixels
TITLE_PX = 24
TOP = 10  # associations shown
CITY_ROWS = 23  # districts shown (Chengdu has 23); beyond, the rest share one grey bar
CHART_DAYS = 7  # the annual countdown carries the chart from this many days before
NAME_WIDTH = 56  # an association's name above its bar, in half-width units (28 characters)
DISTRICT_WIDTH = 22  # a district's name beside its bar (11 characters: 四川天府新区成都直管区)
MONTHS_PX = 380  # the months panel, with its title and ticks
ORG_ROW_PX = 58  # a name above a bar
CITY_ROW_PX = 34  # a district beside a bar
ON_TIME, LATE, OTHERS = "#2b7bba", "#e8743b", "#9e9e9e"

# Fonts with the Chinese glyphs, in order of preference (family names as fontconfig knows them).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Source Han Sans SC",
    "Droid Sans Fallback",
)
CJK_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the recipient's language (from the catalog)."""

    title: str
    months: str  # the first panel's title
    on_time: str
    late: str
    bars: str  # the second panel's title (associations, or districts)
    month_names: tuple[str, ...]  # twelve
    empty: str  # drawn instead of the bars when the year has no report
    others: str  # the city chart's last bar, beyond CITY_ROWS; has {n}
    city: bool = False  # the bars are districts, not associations


def chart_labels(lang: str, year: int, where: str, *, city: bool) -> ChartLabels:
    """The chart's words from the catalog; ``where`` names the district (or the city)."""
    return ChartLabels(
        title=plain(lang, "chart_title", year=year, where=where),
        months=plain(lang, "chart_months"),
        on_time=plain(lang, "chart_on_time"),
        late=plain(lang, "chart_late"),
        bars=plain(lang, "chart_districts" if city else "chart_top_orgs"),
        month_names=tuple(plain(lang, "chart_month_names").split(",")),
        empty=plain(lang, "chart_empty"),
        others=plain(lang, "chart_others", n="{n}"),
        city=city,
    )


@dataclass
class ChartData:
    """What the chart shows: per calendar month (1..12) on time and late, and named bars.

    The months are drawn from ``first_month`` on: the statistical year starts after the previous
    year's deadline (December with the default 30 November)."""

    year: int
    first_month: int = 1
    on_time: list[int] = field(default_factory=lambda: [0] * 12)
    late: list[int] = field(default_factory=lambda: [0] * 12)
    bars: list[tuple[str, int]] = field(default_factory=list)  # (name, reports), largest first


async def chart_data(
    session: AsyncSession, year: int, district_id: int | None, years: ReportingYears
) -> ChartData:
    """The statistical year's submitted reports of one district (or the city, ``None``)."""
    data = ChartData(year=year, first_month=years.first_month(year))
    span = years.span(year)
    for month, on_time, count in await month_counts(session, span, district_id):
        target = data.late if on_time is False else data.on_time
        target[month - 1] += count
    data.bars = await bar_counts(session, span, district_id, TOP)
    return data


def chart_texts(data: ChartData, labels: ChartLabels) -> list[str]:
    """Every text drawn on the chart (the font test checks each character is covered)."""
    texts = [labels.title, labels.months, labels.on_time, labels.late, labels.bars]
    texts += [labels.empty, others_label(labels, 0)]
    texts += list(labels.month_names)
    texts += [name for name, _ in shown_bars(data, labels)]
    return texts


def others_label(labels: ChartLabels, n: int) -> str:
    """``其余 n 个``: the city chart's last bar."""
    return labels.others.replace("{n}", str(n))


def shown_bars(data: ChartData, labels: ChartLabels) -> list[tuple[str, int]]:
    """The bars as drawn, largest first: names shortened, the city's beyond :data:`CITY_ROWS`
    summed into one."""
    bars = list(data.bars)
    if not labels.city:
        names = short_names([name for name, _ in bars[:TOP]], NAME_WIDTH)
        return [(name, count) for name, (_, count) in zip(names, bars[:TOP], strict=True)]
    rest: list[tuple[str, int]] = []
    if len(bars) > CITY_ROWS:
        bars, extra = bars[: CITY_ROWS - 1], bars[CITY_ROWS - 1 :]
        rest = [(others_label(labels, len(extra)), sum(count for _, count in extra))]
    names = short_names([name for name, _ in bars], DISTRICT_WIDTH)
    return [(name, count) for name, (_, count) in zip(names, bars, strict=True)] + rest


def _literal(text: str) -> str:
    """``text`` as matplotlib must draw it: a pair of ``$`` in a name (an association's, a
    district's) would otherwise be read as math text, which fails or draws something else.
    An escaped ``\\$`` is drawn as ``$``; escaping each one leaves no pair to read."""
    return text.replace("$", r"\$")


@cache
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or None (warned once): the chart is then drawn anyway."""
    from matplotlib import font_manager

    for family in CJK_FAMILIES:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        if path:
            return Path(path)
    for candidate in CJK_FILES:
        if Path(candidate).is_file():
            return Path(candidate)
    log.warning("charts: no CJK font found (run scripts/fonts.sh); Chinese labels show as boxes")
    return None


def missing_glyphs(font: Path, texts: list[str]) -> set[str]:
    """The characters of ``texts`` the font has no glyph for (spaces and digits included)."""
    from fontTools.ttLib import TTCollection, TTFont

    # The face matplotlib draws with: a collection's first one.
    face = TTCollection(str(font)).fonts[0] if font.suffix.lower() == ".ttc" else TTFont(str(font))
    covered = set(face.getBestCmap() or {})
    return {ch for text in texts for ch in text if ord(ch) not in covered and not ch.isspace()}


def draw_chart(data: ChartData, labels: ChartLabels) -> bytes:
    """The PNG: months stacked on time / late above, the bars below."""
    out = io.BytesIO()
    chart_figure(data, labels).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def chart_height_px(data: ChartData, labels: ChartLabels) -> int:
    """The picture's height: the months panel, and a row per bar (none when nothing was
    reported), within :data:`MAX_ASPECT`."""
    if is_empty(data):
        return MONTHS_PX + 80
    rows = len(shown_bars(data, labels))
    row = CITY_ROW_PX if labels.city else ORG_ROW_PX
    return min(MONTHS_PX + 120 + row * rows, int(WIDTH_PX * MAX_ASPECT))


def is_empty(data: ChartData) -> bool:
    """No report this year: the chart says so instead of drawing empty axes."""
    return sum(data.on_time) + sum(data.late) == 0 and not any(n for _, n in data.bars)


def chart_figure(data: ChartData, labels: ChartLabels) -> Figure:
    """The chart as a matplotlib Figure (Agg: no display is needed)."""
    import matplotlib

    matplotlib.use("Agg")
    # The CJK fonts have no U+2212 (MINUS SIGN). Process-wide, like the backend: the charts are
    # all it draws (and the axes start at 0, so no tick should be negative anyway).
    matplotlib.rcParams["axes.unicode_minus"] = False
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    props = _font(LABEL_PX)
    height_px = chart_height_px(data, labels)
    layout = ConstrainedLayoutEngine(h_pad=8 / DPI, w_pad=8 / DPI)
    fig = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, layout=layout)
    fig.suptitle(_literal(labels.title), fontproperties=_font(TITLE_PX), wrap=True)
    if is_empty(data):
        _draw_months(fig.subplots(), data, labels, props)
        return fig
    bars = shown_bars(data, labels)
    row = CITY_ROW_PX if labels.city else ORG_ROW_PX
    # Two subfigures, not two subplots: each panel has its own left margin, so the city's
    # district names do not narrow the months (whose English names then ran together).
    panels: Any = fig.subfigures(2, 1, height_ratios=[MONTHS_PX - 60, row * len(bars) + 60])
    top, bottom = panels
    months_ax, bars_ax = top.subplots(), bottom.subplots()
    _draw_months(months_ax, data, labels, props)
    _draw_bars(bars_ax, bars, labels, props, summed=labels.city and len(data.bars) > CITY_ROWS)
    return fig


def _font(px: int) -> Any:
    """The CJK font (when the machine has one) at ``px`` image pixels."""
    from matplotlib import font_manager

    size = px * 72 / DPI  # points at this DPI
    font = cjk_font()
    if font is None:
        return font_manager.FontProperties(size=size)
    return font_manager.FontProperties(fname=str(font), size=size)


def _draw_months(ax: Any, data: ChartData, labels: ChartLabels, props: Any) -> None:
    """Reports per month of the statistical year, on time below late; "none yet" when empty."""
    xs = list(range(12))
    order = [(data.first_month - 1 + i) % 12 for i in xs]
    on_time = [data.on_time[i] for i in order]
    late = [data.late[i] for i in order]
    ax.bar(xs, on_time, color=ON_TIME, label=_literal(labels.on_time))
    ax.bar(xs, late, bottom=on_time, color=LATE, label=_literal(labels.late))
    ax.set_title(_literal(labels.months), fontproperties=props, loc="left")
    ax.set_xticks(xs, [_literal(labels.month_names[i]) for i in order])
    top = max(a + b for a, b in zip(on_time, late, strict=True))
    ax.set_ylim(0, max(top, 1) * 1.05)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for tick in ax.get_xticklabels() + ax.get_yticklabels():
        tick.set_fontproperties(props)
    ax.spines[["top", "right"]].set_visible(False)
    if top == 0:
        ax.text(
            0.5, 0.5, _literal(labels.empty), transform=ax.transAxes, ha="center",
            va="center", fontproperties=props, color="#555555",
        )  # fmt: skip
        return
    # Above the panel, right of its title: over the bars it could hide a month.
    ax.legend(
        prop=props, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False,
        borderaxespad=0.2, handlelength=1.0, columnspacing=0.8, handletextpad=0.4,
    )  # fmt: skip


def _draw_bars(
    ax: Any, bars: list[tuple[str, int]], labels: ChartLabels, props: Any, *, summed: bool
) -> None:
    """One bar per association (its name above it) or per district (its name beside it), the
    count at the end of each bar; no x axis, the counts say it."""
    counts = [count for _, count in bars][::-1]
    names = [_literal(name) for name, _ in bars][::-1]
    ys = list(range(len(bars)))
    colours = [ON_TIME] * len(bars)
    if summed:  # the last bar (drawn lowest) is the districts beyond CITY_ROWS
        colours[0] = OTHERS
    height = 0.7 if labels.city else 0.42
    ax.barh(ys, counts, height=height, color=colours)
    ax.set_title(_literal(labels.bars), fontproperties=props, loc="left")
    ax.set_xlim(0, max(max(counts), 1) * 1.15)
    ax.set_ylim(-0.6, len(bars) - 0.4)
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    if labels.city:
        ax.set_yticks(ys, names)
        for tick in ax.get_yticklabels():
            tick.set_fontproperties(props)
    else:
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        for y, name in zip(ys, names, strict=True):
            ax.text(0, y + height / 2 + 0.04, name, va="bottom", fontproperties=props)
    for y, count in zip(ys, counts, strict=True):
        ax.text(count, y, f" {count}", va="center", fontproperties=props)


async def countdown_picture(
    session: AsyncSession,
    text: Outgoing | None,
    params: dict[str, Any],
    lang: str,
    years: ReportingYears,
) -> Outgoing | Picture | None:
    """The annual countdown reminder (``text``) as a captioned chart of its district when the
    deadline is at most :data:`CHART_DAYS` away; the text alone otherwise, or if drawing fails."""
    if text is None or int(params.get("days", CHART_DAYS + 1)) > CHART_DAYS:
        return text
    district = await district_of(session, int(params["district"]))
    if district is None:
        return text
    year = int(params["year"])
    data = await chart_data(session, year, district.id, years)
    labels = chart_labels(lang, year, district.name, city=False)
    try:
        png = await asyncio.to_thread(draw_chart, data, labels)
    except Exception as exc:  # the reminder matters more than its picture
        log.warning("countdown chart failed for district %s: %s", district.id, type(exc).__name__)
        return text
    return Picture(text.kind, png, text.text, text.buttons)
